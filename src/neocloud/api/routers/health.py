"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from neocloud.api import schemas as s
from neocloud.api.errors import ErrorBody, error_response
from neocloud.kernel.errors import DomainError

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=s.Health, summary="The process is up")
def healthz() -> s.Health:
    return s.Health(status="ok")


@router.get(
    "/readyz",
    response_model=s.Health,
    summary="The database is reachable and migrated",
    responses={503: {"model": ErrorBody, "description": "Not ready (database down or not migrated)"}},
)
def readyz(request: Request) -> s.Health | JSONResponse:
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
    return s.Health(status="ready")
