"""Templates and responses of the console: one Jinja2 environment, HTML error pages, redirects.

Console routes use `ConsoleRoute`, which turns a domain error into an HTML page with the status the API
gives the same error (wire/errors.py status_for: one table for both; a tenant asking for another tenant's
object gets the same 404 as for a missing one), a malformed path parameter into that 404 too, and a
missing or ended session into a redirect to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from neocloud.kernel.errors import DomainError
from neocloud.wire.errors import status_for

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """No live console session: the browser is sent to the sign-in page."""


def _when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime(fmt) + " UTC"


def _money(value: str | Decimal | None, currency: str = "") -> str:
    if value is None:
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{amount:,.2f}"
    return f"{text} {currency}".strip()


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("neocloud", "web/templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["money"] = _money
    env.filters["iso"] = lambda v: v.astimezone(UTC).isoformat() if isinstance(v, datetime) else (v or "")
    return env


def page(
    template: str, context: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def redirect(to: str) -> RedirectResponse:
    """303 See Other: the browser follows with a GET (post/redirect/get)."""
    return RedirectResponse(to, status_code=303, headers={"Cache-Control": "no-store"})


def signin_redirect(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.method != "GET":
        target = "/"
    elif request.url.query:
        target += "?" + request.url.query
    return redirect(f"/signin?next={quote(target, safe='')}")


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Invalid input", 503: "Unavailable"}
    viewer = getattr(request.state, "viewer", None)
    return page(
        "console/error.html",
        {"viewer": viewer, "status": status, "title": titles.get(status, "Error"), "message": message},
        status,
    )


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class ConsoleRoute(APIRoute):
    """An APIRoute whose failures are HTML pages (see the module docstring)."""

    def get_route_handler(self) -> Endpoint:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SignInRequired:
                return signin_redirect(request)
            except DomainError as exc:
                status = status_for(exc)
                if status == 401:
                    return signin_redirect(request)
                return error_page(request, status, exc.message)
            except RequestValidationError as exc:
                if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()):
                    return error_page(request, 404, "not found")
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p != "query")
                return error_page(request, 422, f"{where}: {first.get('msg', 'invalid')}")

        return handler
