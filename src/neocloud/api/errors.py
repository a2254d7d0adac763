"""The one error mapping: every failure leaves the API as JSON `{"error", "message", "details"}`.

Domain errors map to a 4xx by their class (walking the MRO, so subclasses inherit their parent's status);
request validation, unknown routes and wrong methods use the same body. A 503 (database unreachable or
busy, not migrated) carries Retry-After. Anything else is a bug: it is logged and answered with a 500 in
the same shape, never a stack trace, and the connection stays open for the client's next request.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neocloud.kernel import errors as domain
from neocloud.wire.errors import ErrorBody, status_for

log = logging.getLogger("neocloud.api")

RETRY_AFTER_S = 2

_HTTP_CODES: dict[int, str] = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=code, message=message, details=jsonable_encoder(details or {}))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    errors = []
    for err in exc.errors():
        errors.append(
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return {"errors": errors}


def _validation_message(details: dict[str, Any]) -> str:
    errors = details["errors"]
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(p for p in first["loc"] if p not in ("body",)) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    return error_response(status, exc.code, exc.message, exc.details, headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    return error_response(422, "invalid-input", _validation_message(details), details)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http-error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, code, message, None, headers)


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document lists for this path (Starlette names only the first route's).
    A literal path (/v1/reservations/quote) wins over a template that also matches it ({reservation_id})."""
    index: list[tuple[re.Pattern[str], bool, list[str]]] | None = getattr(
        request.app.state, "allow_index", None
    )
    if index is None:
        index = [
            (compile_path(path)[0], "{" in path, [m.upper() for m in ops])
            for path, ops in request.app.openapi().get("paths", {}).items()
        ]
        request.app.state.allow_index = index
    matches = [(templated, ms) for regex, templated, ms in index if regex.match(request.url.path)]
    chosen = [ms for templated, ms in matches if not templated] or [ms for _, ms in matches]
    return sorted({m for ms in chosen for m in ms})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal error; the server logged it")


class _AnswerUnexpected:
    """Answers an unhandled exception with the JSON 500 right here. Starlette's own last-resort handler
    sends the same response but then re-raises, and uvicorn closes the connection of an app that raised:
    a keep-alive client would then see its next request reset, not knowing whether it was applied."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            if started:  # too late for a response of our own
                raise
            response = await _on_unexpected(Request(scope), exc)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(domain.DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(_AnswerUnexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad request"),
        (401, "Missing or invalid bearer token"),
        (403, "The token's role does not allow this"),
        (404, "No such object (or not yours)"),
        (409, "Conflict: capacity, quota, state or idempotency key"),
        (422, "Invalid input"),
        (503, "The database is unreachable or busy: retry after Retry-After seconds"),
    )
}
