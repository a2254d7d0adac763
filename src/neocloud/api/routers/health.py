"""Liveness and readiness probes (no authentication needed; the reason for not being ready is shown
only to an operator token, since it names the database and the driver's error)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from neocloud.api.errors import RETRY_AFTER_S, error_response
from neocloud.kernel.errors import DomainError
from neocloud.wire.errors import ErrorBody
from neocloud.wire.health import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="The database is reachable and migrated",
    responses={503: {"model": ErrorBody, "description": "Not ready (the reason only for an operator token)"}},
)
def readyz(request: Request) -> Health | JSONResponse:
    """Asks the composition root's `check_ready()` (on the services, else on the control plane), which
    raises when the database is unreachable or not migrated; services without one are always ready.
    Without an operator token a 503 says only `not-ready`."""
    services = request.app.state.services
    check = getattr(services, "check_ready", None) or getattr(services.control, "check_ready", None)
    try:
        if check is not None:
            check()
    except Exception as exc:  # a domain error (not migrated, unreachable) or a driver error
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if not _is_operator(request):
            return error_response(503, "not-ready", "not ready", None, headers)
        if isinstance(exc, DomainError):
            return error_response(503, exc.code, exc.message, exc.details, headers)
        return error_response(
            503, "not-ready", f"database unreachable: {type(exc).__name__}: {exc}", None, headers
        )
    return Health(status="ready")


def _is_operator(request: Request) -> bool:
    """Whether the request carries a live operator token (False when the database cannot tell)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return False
    try:
        principal = request.app.state.principals.principal_for(
            secret.strip(), request.app.state.services.control.tenancy
        )
    except Exception:  # an unknown token, or a database that cannot be asked
        return False
    return bool(principal.is_operator)
