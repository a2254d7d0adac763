"""NeocloudClient: typed results, ApiError, retries with the same Idempotency-Key (no drift from the API:
test_wire_contract.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from neocloud.client import ApiError, NeocloudClient
from neocloud.wire.capacity import ReservationOut
from neocloud.wire.health import Health
from neocloud.wire.paging import Page
from tests.integration.api_world import ApiWorld


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def test_reserve_returns_a_typed_reservation(world: ApiWorld) -> None:
    r = world.client(world.tokens["alice"]).reserve("H100", 8, 2)
    assert isinstance(r, ReservationOut) and isinstance(r.start, datetime) and r.start.tzinfo is not None


def test_api_errors_carry_status_code_and_message(world: ApiWorld) -> None:
    with pytest.raises(ApiError) as err:
        world.client(world.tokens["alice"]).reserve("H100", 64, 1)
    assert (err.value.status, err.value.code) == (409, "conflict")
    assert "do not fit" in err.value.message


def test_missing_object_raises_404(world: ApiWorld) -> None:
    with pytest.raises(ApiError) as err:
        world.client(world.tokens["alice"]).get_reservation("rsv_missing")
    assert err.value.status == 404


def test_pages_are_typed(world: ApiWorld) -> None:
    client = world.client(world.tokens["alice"])
    client.reserve("H100", 8, 1)
    page = client.list_reservations(limit=10)
    assert isinstance(page, Page) and isinstance(page.items[0], ReservationOut) and page.total == 1


def test_create_retries_transport_errors_with_the_same_key(world: ApiWorld) -> None:
    keys: list[str] = []
    inner = world.http()

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        if len(keys) == 1:
            raise httpx.ConnectError("connection reset")
        answer = inner.post(request.url.path, content=request.content, headers=dict(request.headers))
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    http = httpx.Client(base_url="http://testserver", transport=httpx.MockTransport(handler))
    client = NeocloudClient("http://testserver", world.tokens["alice"], http=http)
    client.reserve("H100", 8, 1)
    assert len(keys) == 2 and keys[0] == keys[1]


def test_cancel_is_not_retried(world: ApiWorld) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("connection reset")

    http = httpx.Client(base_url="http://testserver", transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError):
        NeocloudClient("http://testserver", "nc_x", http=http).cancel_reservation("rsv_1")
    assert len(calls) == 1


def test_unreachable_server_is_status_0() -> None:
    with pytest.raises(ApiError) as err:
        NeocloudClient("http://127.0.0.1:9", "nc_x", retries=0, timeout=2).list_reservations()
    assert (err.value.status, err.value.code) == (0, "unreachable")


def test_non_json_error_still_raises_api_error() -> None:
    http = httpx.Client(
        base_url="http://x", transport=httpx.MockTransport(lambda r: httpx.Response(502, text="bad gateway"))
    )
    with pytest.raises(ApiError) as err:
        NeocloudClient("http://x", "nc_x", http=http).list_instances()
    assert (err.value.status, err.value.code, err.value.message) == (502, "http-error", "bad gateway")


def test_operator_methods_round_trip(world: ApiWorld) -> None:
    op = world.client(world.operator)
    tenant = op.create_tenant("carol")
    assert op.get_tenant(tenant.id) == tenant
    assert tenant.name in [t.name for t in op.list_tenants().items]


def test_project_and_quota_methods(world: ApiWorld) -> None:
    op = world.client(world.operator)
    project = op.create_project(world.tenant_ids["alice"], "research")
    quota = op.set_quota(world.tenant_ids["alice"], "H100", 8, project_id=project.id)
    assert quota in op.list_quotas() and project in op.list_projects(limit=500).items


def test_token_method_returns_a_working_secret(world: ApiWorld) -> None:
    made = world.client(world.operator).create_token("viewer", tenant="alice")
    assert world.client(made.secret).whoami().role == "viewer"


def test_calendar_and_nodes_methods(world: ApiWorld) -> None:
    client = world.client(world.tokens["alice"])
    r = client.reserve("H100", 8, 1)
    assert [n.id for n in client.list_nodes().items] == r.nodes
    assert client.calendar("H100", step_hours=24).slots[0].free_gpus == 8


def test_events_and_instance_methods(world: ApiWorld) -> None:
    client = world.client(world.tokens["alice"])
    made = client.create_instance("H100", 1, spot=True)
    assert client.get_instance(made.id) == made
    assert client.list_events(made.id)[0].to_state == "requested"
    assert client.stop_instance(made.id).id == made.id


def test_extend_and_cancel_methods(world: ApiWorld) -> None:
    client = world.client(world.tokens["alice"])
    r = client.reserve("H100", 8, 1)
    longer = client.extend_reservation(r.id, 2)
    assert longer.end - r.end == timedelta(hours=2)
    assert client.cancel_reservation(r.id).state in ("cancelled", "ending", "ended")


def test_quote_method(world: ApiWorld) -> None:
    q = world.client(world.tokens["alice"]).quote("H100", 8, 2, shape="whole-nodes")
    assert q.feasible and q.shape == "whole-nodes"


def test_health_methods(world: ApiWorld) -> None:
    client = world.client(None)
    assert (client.health(), client.ready()) == (Health(status="ok"), Health(status="ready"))
