"""The hot paths' routers are tried first, and the OpenAPI document still lists every /v1 path in the
documented order (tenancy, fleet, reservations, instances, billing, …), the same document as served."""

from __future__ import annotations

from fastapi.testclient import TestClient

from neocloud.api.app import API_VERSION, DOCUMENTED, _ordered, create_app
from tests.control_builders import MEMORY, world


def test_openapi_lists_the_v1_paths_in_the_documented_order_while_hot_routes_are_tried_first() -> None:
    app = create_app(world(MEMORY).services)
    documented = list(dict.fromkeys(f"/{API_VERSION}{r.path}" for m in DOCUMENTED for r in m.router.routes))
    with TestClient(app) as http:
        served = list(http.get("/openapi.json").json()["paths"])
    v1 = [p for p in served if p.startswith(f"/{API_VERSION}/")]
    assert v1 == [p for p in documented if p in v1]
    assert set(documented) <= set(served)
    assert served.index("/healthz") < served.index(v1[0])  # the probes stay before /v1
    tried = [getattr(r, "original_router", None) for r in app.router.routes]
    first = next(
        i for i, r in enumerate(tried) if r is not None and any(x.path == "/reservations" for x in r.routes)
    )
    tenancy = next(
        i for i, r in enumerate(tried) if r is not None and any(x.path == "/tenants" for x in r.routes)
    )
    assert first < tenancy  # not vacuous: the order tried differs from the order documented


def test_ordered_puts_ranked_paths_in_rank_order_in_place_of_the_first() -> None:
    rank = {"/v1/a": 0, "/v1/b": 1, "/v1/c": 2}
    assert _ordered(["/h", "/v1/c", "/v1/a", "/x", "/v1/b", "/y"], rank) == [
        "/h",
        "/v1/a",
        "/v1/b",
        "/v1/c",
        "/x",
        "/y",
    ]
    assert _ordered(["/h"], rank) == ["/h"]
