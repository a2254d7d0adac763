"""create_app(services): the FastAPI application, versioned under /v1, OpenAPI at /docs.

The API never builds its own services: bootstrap wires them and hands them in, so the same app runs
over SQLite, PostgreSQL or the in-memory store.
"""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import Depends, FastAPI

from neocloud.api import docs, errors
from neocloud.api.auth import DEFAULT_TTL_S, PrincipalCache
from neocloud.api.body import DEFAULT_LIMIT, BodyGuard
from neocloud.api.deps import ApiServices, strict_query
from neocloud.api.fairness import AdmissionGates, ReadPool
from neocloud.api.routers import (
    billing,
    fleet,
    health,
    health_events,
    instances,
    metrics,
    nodes,
    reservations,
    sla,
    slurm,
    tenancy,
    webhooks,
)
from neocloud.web import console

API_VERSION = "v1"
# The /v1 routers in the order the OpenAPI document lists their paths (sla: the SLA report, issue #10).
DOCUMENTED = (tenancy, fleet, reservations, instances, billing, slurm, nodes, health_events, webhooks, sla)


def create_app(
    services: ApiServices,
    *,
    auth_cache_ttl: float = DEFAULT_TTL_S,
    body_limit: int = DEFAULT_LIMIT,
    admission_slots: int | None = None,
    read_slots: int | None = None,
) -> FastAPI:
    """The app over `services`; bearer tokens are re-checked against the store every `auth_cache_ttl`
    seconds at most (0: on every request); request bodies over `body_limit` bytes are a 413. Capacity
    decisions for one model start in arrival order, `admission_slots` at a time (default: what the
    services say, `bootstrap.Services.admission_slots`; 1 when they say nothing). Reads of the hot paths
    run `read_slots` at a time (default: `bootstrap.Services.read_slots`; unbounded when they say
    nothing; api/fairness.ReadPool)."""
    app = FastAPI(
        title="neocloud",
        summary="Run a GPU cloud: fleet, reservations, instances.",
        version="1.0.0",
        docs_url=None,  # served from local assets by api.docs: no CDN
        redoc_url=None,
    )
    app.state.services = services
    app.state.principals = PrincipalCache(auth_cache_ttl)
    if admission_slots is None:
        admission_slots = getattr(services, "admission_slots", 1)  # bootstrap.Services decides by database
    app.state.gates = AdmissionGates(admission_slots)
    if read_slots is None:
        read_slots = getattr(services, "read_slots", None)  # bootstrap.Services decides by database
    app.state.reads = ReadPool(read_slots)
    weakref.finalize(app, app.state.reads.close)  # its idle threads end with the app
    errors.install(app)
    docs.install(app)
    app.include_router(health.router)
    metrics.install(app)
    # Each router is included into the app itself under /v1 (not into a /v1 router included in turn):
    # FastAPI matches an included router's routes again at every level it is nested in, on every request.
    v1: dict[str, Any] = {
        "prefix": f"/{API_VERSION}",
        "responses": errors.ERROR_RESPONSES,
        "dependencies": [Depends(strict_query)],
    }
    # The hot paths' routers come first (FastAPI tries routes in order, ~3 µs each); OpenAPI lists the
    # paths in the documented order all the same (`_documented_order`).
    for module in (reservations, instances, *(m for m in DOCUMENTED if m not in (reservations, instances))):
        app.include_router(module.router, **v1)
    _documented_order(app, [f"/{API_VERSION}{r.path}" for m in DOCUMENTED for r in m.router.routes])
    console.install(app)  # the web console at /, on the same services and principal cache
    app.add_middleware(BodyGuard, limit=body_limit)
    return app


def _documented_order(app: FastAPI, paths: list[str]) -> None:
    """Make `app.openapi()` list the /v1 `paths` in the given order (the routes are tried in another)."""
    generate = app.openapi
    rank = {path: i for i, path in enumerate(dict.fromkeys(paths))}

    def openapi() -> dict[str, Any]:
        schema = generate()
        found = schema.get("paths", {})
        if list(found) != (ordered := _ordered(list(found), rank)):
            schema["paths"] = {path: found[path] for path in ordered}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _ordered(found: list[str], rank: dict[str, int]) -> list[str]:
    """`found` with the ranked paths in rank order, in the place of the first of them."""
    ranked = sorted((p for p in found if p in rank), key=rank.__getitem__)
    out: list[str] = []
    for path in found:
        if path not in rank:
            out.append(path)
        elif ranked:
            out.extend(ranked)
            ranked = []
    return out
