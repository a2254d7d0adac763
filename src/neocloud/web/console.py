"""The console, mounted on the API's app: sign-in and sign-out, static assets, the tenant's and the
operator's pages. `install(app)` is all api/app.py calls.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from neocloud.kernel.errors import DomainError, Forbidden
from neocloud.web import account, commercial, fleetmap, operator, reports, tenant
from neocloud.web.context import Form, Principals, read_form, same_origin, sessions
from neocloud.web.render import ConsoleRoute, page, redirect
from neocloud.web.sessions import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    ConsoleSessions,
    same_secret,
)

STATIC_URL = "/static"
log = logging.getLogger("neocloud.web")
router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this server (never //host or a scheme): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _signin_page(request: Request, next_: str, error: str | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(32)
    response = page(
        "console/signin.html", {"viewer": None, "csrf": nonce, "next": next_, "error": error}, status
    )
    _cookie(response, request, SIGNIN_COOKIE, nonce, 3600)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    return _signin_page(request, _safe_next(next))


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    if not same_origin(request):
        raise Forbidden("cross-origin sign-in refused")
    fields = await read_form(request)
    if not same_secret(fields.get(CSRF_FIELD), request.cookies.get(SIGNIN_COOKIE, "")):
        raise Forbidden("missing or invalid CSRF token: reload the sign-in page and try again")
    target = _safe_next(fields.get("next"))
    token = fields.get("token", "").strip()
    services: Any = request.app.state.services
    cache: Principals = request.app.state.principals
    from starlette.concurrency import run_in_threadpool

    try:
        principal = await run_in_threadpool(cache.principal_for, token, services.control.tenancy)
    except DomainError:
        return _signin_page(request, target, "that token is unknown, revoked or expired", 401)
    store: ConsoleSessions = services.control.sessions
    session_id, _ = await run_in_threadpool(store.open, principal)
    response = redirect(target)
    _cookie(response, request, SESSION_COOKIE, session_id, int(store.lifetime.total_seconds()))
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, fields: Form) -> Response:
    sessions(request).close(request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def warm(app: FastAPI) -> None:
    """Build the fleet map's topology and its packed payload now (at server start, in the background),
    so the first operator to open the map does not wait for 100k nodes to be read."""
    services: Any = app.state.services
    try:
        topo = services.control.fleetmap.warm()
        app.state.console_cache["topology-bin"] = (topo.version, fleetmap.pack_topology(topo))
    except Exception:  # a database not reachable yet: the first request builds it instead
        log.warning("could not warm the fleet map's topology", exc_info=True)


def _warm_at_start(app: FastAPI) -> None:
    """Wrap the app's lifespan: at start-up, warm the fleet map in a daemon thread (start-up never waits
    for it, and a server stopping does not wait for it either)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        threading.Thread(target=warm, args=(app,), name="console-warm", daemon=True).start()
        async with inner(app_) as state:
            yield state

    app.router.lifespan_context = lifespan


def install(app: FastAPI) -> None:
    """Mount the console at / and its assets at STATIC_URL (web/static, installed with the package).
    Sessions are the control plane's (services.control.sessions)."""
    app.state.console_cache = {}
    _warm_at_start(app)
    app.mount(
        STATIC_URL, StaticFiles(directory=str(files("neocloud") / "web" / "static")), name="console-static"
    )
    app.include_router(router)
    app.include_router(tenant.router)
    app.include_router(account.router)
    app.include_router(operator.router)
    app.include_router(commercial.router)
    app.include_router(reports.router)
