"""One copy of the wire: every JSON answer of the API is described by a model from neocloud.wire, and the
client parses each answer into the very class the server serves (so types, not just names, agree).

The client is driven through every documented JSON operation against the in-process app; each answer's
class is compared with the `response_model` of the route that served it (FastAPI's scope["route"]).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, get_args, get_origin

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from neocloud.client import NeocloudClient
from neocloud.client.billing import BillingClient
from neocloud.client.documents import to_json
from neocloud.client.node_health import NodeHealthClient
from neocloud.client.sla import SlaClient
from neocloud.kernel.periods import Period
from neocloud.kernel.products import MAX_HOURS
from tests.integration.api_world import ApiWorld

MARCH = Period.month(2026, 3)


def json_operations(world: ApiWorld) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation of the OpenAPI document with a 2xx JSON answer."""
    for path, operations in world.app.openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("2") and "application/json" in response.get("content", {}):
                    yield method.upper(), path, operation


def operation_of(world: ApiWorld, method: str, path: str) -> tuple[str, str]:
    """The documented (method, path template) a request was sent to; a literal path wins over a template."""
    matches = [
        (template, "{" in template)
        for m, template, _ in json_operations(world)
        if m == method and compile_path(template)[0].match(path)
    ]
    literal = [t for t, templated in matches if not templated]
    assert matches, f"{method} {path} is not a documented JSON operation"
    return method, (literal or [t for t, _ in matches])[0]


def wire_classes(tp: Any) -> Iterator[type[BaseModel]]:
    """The classes a response model is built of: X, list[X], and for Page[X] the generic Page and X (a
    parametrisation is named after the module that first wrote it; its origin and arguments are wire's)."""
    if get_origin(tp) is list:
        for arg in get_args(tp):
            yield from wire_classes(arg)
        return
    assert isinstance(tp, type) and issubclass(tp, BaseModel), f"{tp!r} is not a pydantic model"
    generic = tp.__pydantic_generic_metadata__
    if generic["origin"] is None:
        yield tp
        return
    yield generic["origin"]
    for arg in generic["args"]:
        yield from wire_classes(arg)


class Served:
    """The app behind a recorder: after each request, the route that served it (FastAPI's scope["route"])."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: APIRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.route = None
        await self.app(scope, receive, send)
        route = scope.get("route")
        self.route = route if isinstance(route, APIRoute) else None


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if schema.get("type") == "array":
        return _resolve(schema["items"], components)
    return schema


def test_every_billing_route_documents_its_fields(world: ApiWorld) -> None:
    components = world.app.openapi()["components"]["schemas"]
    billing = [(m, p, op) for m, p, op in json_operations(world) if "billing" in op.get("tags", [])]
    assert {p for _, p, _ in billing} == {
        "/v1/usage",
        "/v1/invoices/preview",
        "/v1/invoices",
        "/v1/invoices/{invoice_id}",
    }
    for method, path, operation in billing:
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        resolved = _resolve(schema, components)
        assert resolved.get("properties"), f"{method} {path} answers a bare object: {schema}"
        assert resolved.get("additionalProperties") is not True, f"{method} {path} allows any field"


def test_the_client_parses_every_answer_into_the_class_the_server_serves(world: ApiWorld) -> None:
    """Every documented JSON operation is called through the client; each answer's class is the route's
    `response_model` (or its item class), and every part of that model comes from neocloud.wire."""
    app = Served(world.app)
    sent: list[tuple[str, str]] = []

    def client(token: str) -> NeocloudClient:
        http = TestClient(app, raise_server_exceptions=False)
        http.event_hooks["request"] = [lambda request: sent.append((request.method, request.url.path))]
        return NeocloudClient("http://testserver", token, http=http)

    op, alice = client(world.operator), client(world.tokens["alice"])
    bills = BillingClient(alice)
    checked: set[tuple[str, str]] = set()

    def call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        sent.clear()
        result = fn(*args, **kw)
        assert len(sent) == 1 and app.route is not None, fn
        expected = app.route.response_model
        for cls in wire_classes(expected):
            assert cls.__module__.startswith("neocloud.wire."), f"{sent[0]}: {cls} is not from neocloud.wire"
        if get_origin(expected) is list:
            (item,) = get_args(expected)
            assert isinstance(result, list) and result, f"{fn.__name__}: no items to check"
            assert all(type(x) is item for x in result), f"{fn.__name__}: {result!r} are not {item}"
        else:
            assert type(result) is expected, (
                f"{fn.__name__} gave {type(result)}; the server serves {expected}"
            )
        checked.add(operation_of(world, *sent[0]))
        return result

    alice_id = world.tenant_ids["alice"]
    call(op.health)
    call(op.ready)
    call(alice.whoami)
    carol = call(op.create_tenant, "carol")
    call(op.list_tenants)
    call(op.get_tenant, carol.id)
    call(op.create_project, alice_id, "research")
    call(op.list_projects)
    viewer = call(op.create_token, "viewer", tenant="alice")
    call(op.list_tokens)
    call(op.revoke_token, viewer.token.id)
    call(op.suspend_tenant, carol.id)
    call(op.resume_tenant, carol.id)
    call(op.set_quota, alice_id, "H100", 16)
    call(op.list_quotas)
    call(alice.quote, "H100", 8, 2)
    r = call(alice.reserve, "H100", 8, 2)
    call(alice.list_reservations)
    call(alice.get_reservation, r.id)
    call(alice.extend_reservation, r.id, 1)
    call(alice.list_nodes)
    call(alice.calendar, "H100")
    call(alice.list_events, r.id)
    call(alice.cancel_reservation, r.id)
    i = call(alice.create_instance, "H100", 1)
    world.control.reconcile()
    world.clock.advance(timedelta(hours=1))
    call(alice.list_instances)
    call(alice.get_instance, i.id)
    call(alice.stop_instance, i.id)
    world.control.reconcile()
    call(bills.usage)
    call(bills.invoice_preview)
    world.clock.set(MARCH.end + timedelta(days=1))
    (invoice,) = world.app.state.services.billing.finalize(MARCH)
    call(bills.invoices)
    call(bills.invoice, invoice.id)
    call(op.audit)

    # node health (issue #10)
    nh_op, nh_alice = NodeHealthClient(op), NodeHealthClient(alice)
    hook = call(nh_alice.subscribe, "https://alice.example.com/hook", ["degraded", "replaced"])
    call(nh_alice.webhooks)
    world.clock.set(MARCH.end + timedelta(days=2))
    r2 = alice.reserve("H100", 8, 2)
    world.control.reconcile()
    call(nh_op.cordon, "h1" if r2.nodes[0] != "h1" else "h2", "contract")
    call(
        nh_op.report,
        [{"node": r2.nodes[0], "component": "gpu", "code": "79", "recommended_action": "replace"}],
    )
    call(nh_alice.notices)
    # the degraded notice queued a delivery (nothing dispatches it here)
    call(nh_alice.deliveries, hook.id)
    call(nh_op.repair, r2.nodes[0], "contract", "replace")
    call(nh_op.return_, r2.nodes[0], "contract")
    call(nh_op.node_health)
    call(nh_op.node, r2.nodes[0])
    call(nh_op.node_events, r2.nodes[0])
    spare = "h1" if r2.nodes[0] != "h1" else "h2"
    call(nh_op.uncordon, spare, "contract")
    call(nh_op.drain, spare, "contract")
    call(nh_op.retire, spare, "contract")
    start = world.clock.now() + timedelta(days=30)
    call(nh_op.plan_maintenance, "g1", start, start + timedelta(hours=2), "contract")
    call(nh_op.maintenance)
    # SLA (issue #10): the operator's report of last month, and a tenant's own
    call(SlaClient(op).report, period="2026-03")
    call(SlaClient(alice).report, period="2026-03")

    # the Slurm routes answer 404 without a cluster: tests/slurm/test_api.py parses them on the real Slurm
    documented = {(m, p) for m, p, _ in json_operations(world) if not p.startswith("/v1/slurm/")}
    assert documented == checked, f"never parsed by the client: {sorted(documented - checked)}"


def test_billing_documents_print_exactly_as_the_server_sent_them(world: ApiWorld) -> None:
    """What `neocloud usage|invoices … --json` prints (to_json of the parsed answer) is the server's JSON."""
    http = world.http(world.tokens["alice"])
    http.post("/v1/instances", json={"model": "H100", "nodes": 1})
    world.control.reconcile()
    world.clock.advance(timedelta(hours=3))
    world.clock.set(MARCH.end + timedelta(days=1))
    (invoice,) = world.app.state.services.billing.finalize(MARCH)
    client = BillingClient(world.client(world.tokens["alice"]))
    window = {"from": MARCH.start.isoformat(), "to": MARCH.end.isoformat()}
    for by in ("model", "project", "product", "day"):
        raw = http.get("/v1/usage", params={**window, "by": by}).json()
        named = {"project_name"} if by == "project" else set()
        assert raw["items"] and all(
            set(item) == {by, *named, "gpu_seconds", "gpu_hours"} for item in raw["items"]
        )
        parsed = client.usage(start=MARCH.start, end=MARCH.end, by=by)
        assert to_json(parsed) == raw and list(to_json(parsed)) == list(raw)
        assert [item.key(by) for item in parsed.items] == [item[by] for item in raw["items"]]
    assert (
        to_json(client.invoice_preview(period="2026-04"))
        == http.get("/v1/invoices/preview", params={"period": "2026-04"}).json()
    )
    assert to_json(client.invoices()) == http.get("/v1/invoices").json()
    shown = http.get(f"/v1/invoices/{invoice.id}").json()
    assert to_json(client.invoice(invoice.id)) == shown and list(to_json(client.invoice(invoice.id))) == list(
        shown
    )


def test_reservation_hours_are_bounded_by_the_domain(world: ApiWorld) -> None:
    schemas = world.app.openapi()["components"]["schemas"]
    for name in ("ReservationCreate", "ReservationExtend"):
        assert schemas[name]["properties"]["hours"]["maximum"] == MAX_HOURS
    too_long = {"model": "H100", "gpus": 8, "hours": MAX_HOURS + 1}
    r = world.http(world.tokens["alice"]).post("/v1/reservations/quote", json=too_long)
    assert (r.status_code, r.json()["error"], r.json()["details"]["errors"][0]["loc"]) == (
        422,
        "invalid-input",
        ["body", "hours"],
    )
