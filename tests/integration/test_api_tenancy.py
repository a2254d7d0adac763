"""Tenants, projects, tokens, quotas and nodes over HTTP, with the roles enforced by the app layer."""

from __future__ import annotations

import pytest

from neocloud.control.domain.tenancy import Role
from tests.integration.api_world import ApiWorld


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def test_operator_creates_a_tenant(world: ApiWorld) -> None:
    r = world.http(world.operator).post("/v1/tenants", json={"name": "carol"})
    assert (r.status_code, r.json()["name"]) == (201, "carol")


def test_tenant_admin_cannot_create_a_tenant(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/tenants", json={"name": "carol"})
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")


def test_duplicate_tenant_name_is_409(world: ApiWorld) -> None:
    r = world.http(world.operator).post("/v1/tenants", json={"name": "alice"})
    assert (r.status_code, r.json()["error"]) == (409, "conflict")


def test_invalid_tenant_name_is_422(world: ApiWorld) -> None:
    assert world.http(world.operator).post("/v1/tenants", json={"name": "no spaces"}).status_code == 422


def test_tenant_sees_only_itself_in_the_tenant_list(world: ApiWorld) -> None:
    page = world.http(world.tokens["alice"]).get("/v1/tenants").json()
    assert [t["name"] for t in page["items"]] == ["alice"]


def test_operator_sees_every_tenant(world: ApiWorld) -> None:
    page = world.http(world.operator).get("/v1/tenants").json()
    assert sorted(t["name"] for t in page["items"]) == ["alice", "bob"]


def test_minted_token_authenticates_with_its_role(world: ApiWorld) -> None:
    r = world.http(world.operator).post("/v1/tokens", json={"tenant": "alice", "role": "viewer"})
    assert r.status_code == 201
    who = world.http(r.json()["secret"]).get("/v1/whoami").json()
    assert (who["role"], who["tenant_id"]) == ("viewer", world.tenant_ids["alice"])


def test_token_list_prefix_never_reveals_the_secret(world: ApiWorld) -> None:
    body = world.http(world.operator).post("/v1/tokens", json={"tenant": "alice", "role": "viewer"}).json()
    assert body["secret"].startswith(body["token"]["prefix"]) and len(body["token"]["prefix"]) < len(
        body["secret"]
    )


def test_tenant_admin_creates_a_project_in_its_tenant(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/projects", json={"tenant_id": world.tenant_ids["alice"], "name": "research"}
    )
    assert (r.status_code, r.json()["name"]) == (201, "research")


def test_project_in_another_tenant_is_not_found(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/projects", json={"tenant_id": world.tenant_ids["bob"], "name": "research"}
    )
    assert r.status_code == 404


def test_quota_limits_reservations(world: ApiWorld) -> None:
    put = world.http(world.operator).put(
        "/v1/quotas", json={"tenant_id": world.tenant_ids["alice"], "model": "H100", "gpus": 8}
    )
    assert put.status_code == 200
    http = world.http(world.tokens["alice"])
    assert http.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 1}).status_code == 201
    r = http.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 1})
    assert (r.status_code, r.json()["error"]) == (409, "quota-exceeded")


def test_quotas_list_shows_the_callers_quotas(world: ApiWorld) -> None:
    world.http(world.operator).put(
        "/v1/quotas", json={"tenant_id": world.tenant_ids["bob"], "model": "H100", "gpus": 8}
    )
    alices = world.http(world.tokens["alice"]).get("/v1/quotas").json()
    bobs = world.http(world.tokens["bob"]).get("/v1/quotas").json()
    assert {q["tenant_id"] for q in alices} == {world.tenant_ids["alice"]}  # its default quotas only
    assert [q["gpus"] for q in bobs if q["model"] == "H100"] == [8]


def test_operator_sees_every_node(world: ApiWorld) -> None:
    page = world.http(world.operator).get("/v1/nodes").json()
    assert sorted(n["id"] for n in page["items"]) == ["g1", "h1", "h2"]


def test_tenant_sees_only_the_nodes_it_holds(world: ApiWorld) -> None:
    held = (
        world.http(world.tokens["alice"])
        .post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 1})
        .json()["nodes"]
    )
    page = world.http(world.tokens["alice"]).get("/v1/nodes").json()
    assert [n["id"] for n in page["items"]] == held
    assert world.http(world.tokens["bob"]).get("/v1/nodes").json()["items"] == []


def test_calendar_counts_free_gpus(world: ApiWorld) -> None:
    params = {
        "model": "H100",
        "start": "2026-03-02T09:00:00Z",
        "end": "2026-03-02T11:00:00Z",
        "step_hours": 1,
    }
    world.http(world.tokens["alice"]).post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 1})
    slots = world.http(world.tokens["bob"]).get("/v1/capacity/calendar", params=params).json()["slots"]
    assert [s["free_gpus"] for s in slots] == [8, 16]


def test_calendar_end_before_start_is_422(world: ApiWorld) -> None:
    params = {"model": "H100", "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T08:00:00Z"}
    assert world.http(world.tokens["bob"]).get("/v1/capacity/calendar", params=params).status_code == 422


def test_member_token_cannot_set_quotas(world: ApiWorld) -> None:
    member = world.token_for("alice", Role.TENANT_MEMBER)
    r = world.http(member).put(
        "/v1/quotas", json={"tenant_id": world.tenant_ids["alice"], "model": "H100", "gpus": 8}
    )
    assert r.status_code == 403


def test_calendar_starts_at_the_control_planes_now_by_default(world: ApiWorld) -> None:
    slots = (
        world.http(world.tokens["bob"]).get("/v1/capacity/calendar", params={"model": "H100"}).json()["slots"]
    )
    assert slots[0]["start"] == "2026-03-02T09:00:00Z" and len(slots) == 7


def test_calendar_end_without_start_is_422(world: ApiWorld) -> None:
    params = {"model": "H100", "end": "2026-03-04T08:00:00Z"}
    assert world.http(world.tokens["bob"]).get("/v1/capacity/calendar", params=params).status_code == 422


def test_calendar_with_too_many_slots_is_422(world: ApiWorld) -> None:
    params = {
        "model": "H100",
        "start": "2026-03-02T09:00:00Z",
        "end": "2100-01-01T00:00:00Z",
        "step_hours": 1,
    }
    r = world.http(world.tokens["bob"]).get("/v1/capacity/calendar", params=params)
    assert r.status_code == 422 and "too many slots" in r.json()["message"]


def test_a_tenant_admin_never_mints_a_fleet_wide_token(world: ApiWorld) -> None:
    """Hardening #1: `{"tenant": null, "role": "viewer"}` from a tenant-admin is a token of its own tenant,
    and it reads nothing of another tenant."""
    r = world.http(world.tokens["alice"]).post("/v1/tokens", json={"tenant": None, "role": "viewer"})
    assert r.status_code == 201
    assert r.json()["token"]["tenant_id"] == world.tenant_ids["alice"]
    minted = world.http(r.json()["secret"])
    assert minted.get("/v1/whoami").json()["tenant_id"] == world.tenant_ids["alice"]
    assert [t["name"] for t in minted.get("/v1/tenants").json()["items"]] == ["alice"]
    assert minted.get(f"/v1/tenants/{world.tenant_ids['bob']}").status_code == 404
    assert world.tenant_ids["bob"] not in minted.get("/v1/nodes").text


def test_a_tenant_admin_cannot_mint_a_token_for_another_tenant(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/tokens", json={"tenant": "bob", "role": "viewer"})
    assert (r.status_code, r.json()["error"]) == (404, "not-found")
    assert world.tenant_ids["bob"] not in r.text
