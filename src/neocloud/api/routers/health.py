"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from neocloud.api.errors import error_response
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
    responses={503: {"model": ErrorBody, "description": "Not ready (database down or not migrated)"}},
)
def readyz(request: Request) -> Health | JSONResponse:
    """Asks the composition root's `check_ready()` (on the services, else on the control plane), which
    raises when the database is unreachable or not migrated; services without one are always ready."""
    services = request.app.state.services
    check = getattr(services, "check_ready", None) or getattr(services.control, "check_ready", None)
    try:
        if check is not None:
            check()
    except DomainError as exc:
        return error_response(503, exc.code, exc.message, exc.details)
    except Exception as exc:  # a database driver error: not ready, with the reason
        return error_response(503, "not-ready", f"database unreachable: {type(exc).__name__}: {exc}")
    return Health(status="ready")
