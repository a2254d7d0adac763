"""Request-scoped dependencies: the control plane, the caller (bearer token), paging, idempotency keys.

The ones that only look at the request are `async def`: FastAPI runs a plain `def` dependency in its
thread pool, one thread hand-off each per request (under load, a wait for the GIL each); only the
caller's lookup, which may read the database, stays a `def` (`principal`), or runs in the route's own
worker thread (`Authenticated`, for the `async def` routes of the hot paths)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from neocloud.api.auth import PrincipalCache
from neocloud.api.fairness import AdmissionGates, ReadPool
from neocloud.control.app.control import ControlPlane
from neocloud.control.app.views import MAX_PAGE, PageRequest
from neocloud.control.domain.tenancy import Principal
from neocloud.health.app.service import HealthService
from neocloud.kernel.errors import InvalidInput, NotReady, Unauthenticated

DEFAULT_PAGE = 50
CURSOR_PATTERN = r"^[A-Za-z0-9_.:=+/-]{1,512}$"
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,200}$"
T = TypeVar("T")


class ApiServices(Protocol):
    """What the API needs from the composition root (bootstrap.Services satisfies it)."""

    control: ControlPlane


async def health(request: Request) -> HealthService:
    """The health context (node lifecycle, health events, notices, SLA); 503 when not wired."""
    found: HealthService | None = getattr(request.app.state.services, "health", None)
    if found is None:
        raise NotReady("the health context is not configured on this server")
    return found


async def control(request: Request) -> ControlPlane:
    services: ApiServices = request.app.state.services
    return services.control


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>` (tokens start with nc_)")


def principal(
    request: Request,
    cp: Annotated[ControlPlane, Depends(control)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. 401 `unauthenticated` without a bearer token or with one that matches no live token
    (unknown, revoked or expired)."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
    cache: PrincipalCache = request.app.state.principals
    return cache.principal_for(credentials.credentials, cp.tenancy)


class Authenticated:
    """A request's bearer token, to be checked in the same worker thread as the use case it guards:
    `await auth.run(use_case)` calls `use_case(caller)` with the caller's Principal, both in one thread
    hand-off; `auth.control` is the control plane. A route that is a plain `def` with a `Caller` costs
    three (the caller's lookup, the route, and FastAPI's validation of a sync route's response); an
    `async def` route that runs its work through `run` costs one, and its response is validated on the
    event loop. Missing token: 401 before the route runs; unknown, revoked or expired: 401 from `run`,
    exactly as `principal` says."""

    __slots__ = ("_cache", "_read_scope", "_reads", "_secret", "control")

    def __init__(
        self,
        cache: PrincipalCache,
        control: ControlPlane,
        secret: str,
        reads: ReadPool | None = None,
        read_scope: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        self._cache = cache
        self.control = control
        self._secret = secret
        self._reads = reads or ReadPool()
        self._read_scope = read_scope or nullcontext

    def principal(self) -> Principal:
        """The caller (reads the auth epoch, and the token unless cached): call it in a worker thread."""
        return self._cache.principal_for(self._secret, self.control.tenancy)

    async def run(self, use_case: Callable[[Principal], T], *, counters_once: bool = False) -> T:
        """`use_case(caller)` in a worker thread. With `counters_once` (for a use case that changes no
        counter: no revoke, suspension or price change) in the read scope, as `read` runs its work."""
        return await run_in_threadpool(
            lambda: self._scoped(use_case) if counters_once else use_case(self.principal())
        )

    async def read(self, use_case: Callable[[Principal], T]) -> T:
        """`run` for a use case that only reads: admitted through the app's read pool (api/fairness.py),
        in the services' read scope (`bootstrap.Services.read_scope`: the counters every request reads,
        the auth epoch and the catalog version, are read together, once, infra/counters.py)."""
        return await self._reads.run(lambda: self._scoped(use_case))

    def _scoped(self, use_case: Callable[[Principal], T]) -> T:
        with self._read_scope():
            return use_case(self.principal())


class _BearerAuth(HTTPBearer):
    """`Authenticated` from the request's bearer token and the app's services in one dependency (FastAPI
    solves each dependency of a route on every request: one instead of three). It is an HTTPBearer, so
    OpenAPI shows the same security scheme as `principal`'s."""

    async def __call__(self, request: Request) -> Authenticated:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None or not credentials.credentials:
            raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
        services: ApiServices = request.app.state.services
        return Authenticated(
            request.app.state.principals,
            services.control,
            credentials.credentials,
            request.app.state.reads,
            getattr(services, "read_scope", None),
        )


_bearer_auth = _BearerAuth(auto_error=False, scheme_name="HTTPBearer", description=_bearer.model.description)


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_declared: dict[int, frozenset[str]] = {}


async def strict_query(request: Request) -> None:
    """422 for query parameters the operation does not declare, or declares once but were given twice:
    a typo such as ?limt=5 must not be silently ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _declared.get(id(route))
    if allowed is None:
        allowed = _declared[id(route)] = frozenset(_query_names(dependant))
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key not in allowed:
            raise InvalidInput(f"unknown query parameter {key!r}", details={"allowed": sorted(allowed)})
        if key in seen:
            raise InvalidInput(f"query parameter {key!r} given more than once", details={"parameter": key})
        seen.add(key)


async def page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="next_cursor of the previous page")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


async def gates(request: Request) -> AdmissionGates:
    found: AdmissionGates = request.app.state.gates
    return found


Control = Annotated[ControlPlane, Depends(control)]
Health = Annotated[HealthService, Depends(health)]
Gates = Annotated[AdmissionGates, Depends(gates)]
Caller = Annotated[Principal, Depends(principal)]
Auth = Annotated[Authenticated, Depends(_bearer_auth)]
Paging = Annotated[PageRequest, Depends(page)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="the same key returns the same object instead of creating another one",
    ),
]
