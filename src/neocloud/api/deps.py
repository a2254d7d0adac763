"""Request-scoped dependencies: the control plane, the caller (bearer token), paging, idempotency keys."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from neocloud.app.control import ControlPlane
from neocloud.app.views import MAX_PAGE, PageRequest
from neocloud.domain.errors import Unauthenticated
from neocloud.domain.tenancy import Principal

DEFAULT_PAGE = 50
CURSOR_PATTERN = r"^[A-Za-z0-9_.:=+/-]{1,512}$"
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,200}$"


class ApiServices(Protocol):
    """What the API needs from the composition root (bootstrap.Services satisfies it)."""

    control: ControlPlane


def control(request: Request) -> ControlPlane:
    services: ApiServices = request.app.state.services
    return services.control


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>` (tokens start with nc_)")


def principal(
    cp: Annotated[ControlPlane, Depends(control)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. 401 `unauthenticated` without a bearer token or with one that matches no live token."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
    return cp.authenticate(credentials.credentials)


def page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="next_cursor of the previous page")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


Control = Annotated[ControlPlane, Depends(control)]
Caller = Annotated[Principal, Depends(principal)]
Paging = Annotated[PageRequest, Depends(page)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="the same key returns the same object instead of creating another one",
    ),
]
