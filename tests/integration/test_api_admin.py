# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Tenancy administration over HTTP: tokens (list, revoke, expiry), suspension and the audit log, with
roles and tenant isolation enforced; and revocation holding at once on several servers over one
database (each app with its own services and principal cache, as separate processes have)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.api.auth import PrincipalCache
from neocloud.control.domain.tenancy import Principal, Role
from tests.control_builders import World, engine, world  # noqa: F401  (fixtures)
from tests.integration.api_world import T0, ApiWorld

RESERVE = {"model": "H100", "gpus": 8, "hours": 1}


@pytest.fixture
def w() -> ApiWorld:
    return ApiWorld.build()


def ids(body: dict) -> set[str]:  # type: ignore[type-arg]
    return {item["id"] for item in body["items"]}


# ---- tokens ---------------------------------------------------------------------------------------


def test_operators_list_every_token_with_its_tenant_and_never_a_secret(w: ApiWorld) -> None:
    body = w.http(w.operator).get("/v1/tokens", params={"limit": 500}).json()
    assert body["total"] == 3
    assert {t["tenant_id"] for t in body["items"]} == {None, w.tenant_ids["alice"], w.tenant_ids["bob"]}
    text = str(body)
    assert all(secret not in text for secret in (w.operator, *w.tokens.values()))
    assert all("secret" not in t and t["prefix"].startswith("nc_") for t in body["items"])


def test_a_tenant_admin_lists_its_tenants_tokens_and_members_may_not(w: ApiWorld) -> None:
    w.token_for("alice", Role.TENANT_MEMBER)
    body = w.http(w.tokens["alice"]).get("/v1/tokens").json()
    assert body["total"] == 2 and {t["tenant_id"] for t in body["items"]} == {w.tenant_ids["alice"]}
    member = w.http(w.token_for("alice", Role.TENANT_MEMBER)).get("/v1/tokens")
    assert (member.status_code, member.json()["error"]) == (403, "forbidden")


def test_a_revoked_token_is_401_on_its_next_request(w: ApiWorld) -> None:
    secret = w.token_for("alice", Role.TENANT_MEMBER)
    victim = w.http(secret)
    assert victim.get("/v1/whoami").status_code == 200  # now cached
    token_id = victim.get("/v1/whoami").json()["token_id"]
    r = w.http(w.tokens["alice"]).delete(f"/v1/tokens/{token_id}")
    assert r.status_code == 200 and r.json()["revoked_at"] == T0.isoformat().replace("+00:00", "Z")
    after = victim.get("/v1/whoami")
    assert (after.status_code, after.json()["error"]) == (401, "unauthenticated")


def test_another_tenants_token_is_not_found_for_a_tenant_admin(w: ApiWorld) -> None:
    bobs = w.http(w.tokens["bob"]).get("/v1/tokens").json()["items"][0]["id"]
    r = w.http(w.tokens["alice"]).delete(f"/v1/tokens/{bobs}")
    missing = w.http(w.tokens["alice"]).delete("/v1/tokens/tok_missing")
    assert (r.status_code, r.json()["message"]) == (404, f"token {bobs!r} not found")
    assert missing.status_code == 404
    assert w.http(w.tokens["bob"]).get("/v1/whoami").status_code == 200


def test_an_expired_token_is_401_like_an_unknown_one_even_when_cached(w: ApiWorld) -> None:
    created = w.http(w.tokens["alice"]).post(
        "/v1/tokens", json={"role": "viewer", "expires_at": (T0 + timedelta(days=30)).isoformat()}
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert w.http(secret).get("/v1/whoami").status_code == 200
    w.clock.advance(timedelta(days=30))
    expired, unknown = w.http(secret).get("/v1/whoami"), w.http("nc_" + "x" * 43).get("/v1/whoami")
    assert expired.status_code == unknown.status_code == 401
    assert expired.json()["error"] == unknown.json()["error"] == "unauthenticated"


def test_an_expiry_in_the_past_is_422(w: ApiWorld) -> None:
    r = w.http(w.tokens["alice"]).post(
        "/v1/tokens", json={"role": "viewer", "expires_at": "2020-01-01T00:00:00Z"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")


# ---- suspension -----------------------------------------------------------------------------------


def test_a_suspended_tenant_reads_but_every_write_is_403(w: ApiWorld) -> None:
    alice = w.http(w.tokens["alice"])
    rsv = alice.post("/v1/reservations", json=RESERVE).json()
    r = w.http(w.operator).post(f"/v1/tenants/{w.tenant_ids['alice']}/suspend")
    assert r.status_code == 200 and r.json()["suspended_at"] is not None
    for method, path, body in (
        ("POST", "/v1/reservations", RESERVE),
        ("POST", f"/v1/reservations/{rsv['id']}/cancel", None),
        ("POST", "/v1/instances", {"model": "H100", "nodes": 1}),
        ("POST", "/v1/projects", {"tenant_id": w.tenant_ids["alice"], "name": "more"}),
        ("POST", "/v1/tokens", {"role": "viewer"}),
    ):
        refused = alice.request(method, path, json=body)
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden"), path
        assert "suspended" in refused.json()["message"]
    assert alice.get(f"/v1/reservations/{rsv['id']}").json()["state"] == "scheduled"
    assert alice.get("/v1/reservations").status_code == 200 and alice.get("/v1/usage").status_code == 200
    assert w.http(w.tokens["bob"]).post("/v1/reservations", json=RESERVE).status_code == 201
    w.http(w.operator).post(f"/v1/tenants/{w.tenant_ids['alice']}/resume")
    assert alice.post(f"/v1/reservations/{rsv['id']}/cancel").status_code == 200


def test_only_operators_suspend_and_resume(w: ApiWorld) -> None:
    for action in ("suspend", "resume"):
        r = w.http(w.tokens["alice"]).post(f"/v1/tenants/{w.tenant_ids['alice']}/{action}")
        assert r.status_code == 403
    assert w.http(w.operator).post("/v1/tenants/ten_missing/suspend").status_code == 404


# ---- the audit log --------------------------------------------------------------------------------


def test_the_operator_reads_every_entry_and_a_tenant_admin_only_its_tenants(w: ApiWorld) -> None:
    w.http(w.operator).put("/v1/quotas", json={"tenant_id": w.tenant_ids["bob"], "model": "H100", "gpus": 8})
    w.http(w.tokens["alice"]).post("/v1/projects", json={"tenant_id": w.tenant_ids["alice"], "name": "lab"})
    every = w.http(w.operator).get("/v1/audit", params={"limit": 500}).json()
    assert {e["tenant_id"] for e in every["items"]} == {None, w.tenant_ids["alice"], w.tenant_ids["bob"]}
    alices = w.http(w.tokens["alice"]).get("/v1/audit", params={"limit": 500})
    assert alices.status_code == 200
    assert {e["tenant_id"] for e in alices.json()["items"]} == {w.tenant_ids["alice"]}
    assert w.tenant_ids["bob"] not in alices.text and "bob" not in alices.text
    assert [e["action"] for e in alices.json()["items"]] == [
        "tenant.create",
        "token.create",
        "project.create",
    ]


def test_members_may_not_read_the_audit_log(w: ApiWorld) -> None:
    r = w.http(w.token_for("alice", Role.TENANT_MEMBER)).get("/v1/audit")
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")


def test_audit_filters_by_action_and_since(w: ApiWorld) -> None:
    op = w.http(w.operator)
    w.clock.advance(timedelta(hours=1))
    op.post("/v1/tenants", json={"name": "carol"})
    created = op.get("/v1/audit", params={"action": "tenant.create"}).json()
    assert created["total"] == 3
    since = op.get("/v1/audit", params={"since": (T0 + timedelta(minutes=30)).isoformat()}).json()
    assert [e["details"]["name"] for e in since["items"]] == ["carol"]
    for bad in ({"since": "yesterday"}, {"since": "2026-03-02T09:00:00"}, {"action": "DROP TABLE"}):
        assert op.get("/v1/audit", params=bad).status_code == 422


# ---- several servers over one database ------------------------------------------------------------


def _app(x: World) -> TestClient:
    return TestClient(create_app(x.services), raise_server_exceptions=False)


def test_a_revoke_on_one_server_holds_on_every_other_at_its_next_request(engine) -> None:
    one, two = world(engine), world(engine)
    two.clock.set(one.clock.now())
    one.tenant("acme")
    _, secret = one.control.tenancy.create_token("acme", "tenant-member")
    _, operator = one.control.tenancy.create_token(None, "operator")
    a, b = _app(one), _app(two)
    auth = {"Authorization": f"Bearer {secret}"}
    assert (
        a.get("/v1/whoami", headers=auth).status_code == b.get("/v1/whoami", headers=auth).status_code == 200
    )
    token_id = b.get("/v1/whoami", headers=auth).json()["token_id"]  # cached on both servers
    assert (
        a.delete(f"/v1/tokens/{token_id}", headers={"Authorization": f"Bearer {operator}"}).status_code == 200
    )
    assert b.get("/v1/whoami", headers=auth).status_code == 401
    assert a.get("/v1/whoami", headers=auth).status_code == 401


def test_a_suspension_on_one_server_refuses_writes_on_every_other_at_once(engine) -> None:
    one, two = world(engine), world(engine)
    acme = one.tenant("acme")
    _, secret = one.control.tenancy.create_token("acme", "tenant-member")
    _, operator = one.control.tenancy.create_token(None, "operator")
    a, b = _app(one), _app(two)
    auth = {"Authorization": f"Bearer {secret}"}
    assert b.get("/v1/whoami", headers=auth).status_code == 200  # cached on b
    r = a.post(f"/v1/tenants/{acme.tenant_id}/suspend", headers={"Authorization": f"Bearer {operator}"})
    assert r.status_code == 200
    refused = b.post("/v1/reservations", json=RESERVE, headers=auth)
    assert refused.status_code == 403 and "suspended" in refused.json()["message"]
    assert b.get("/v1/reservations", headers=auth).status_code == 200


# ---- the cache itself -----------------------------------------------------------------------------


ALICE = Principal("tok_a", Role.TENANT_ADMIN)


def test_the_cache_looks_a_token_up_again_once_the_epoch_moves() -> None:
    epoch, calls = [0], []

    def lookup(secret: str) -> Principal:
        calls.append(secret)
        return ALICE

    cache = PrincipalCache(60.0)
    for _ in range(3):
        cache.principal("nc_good", lookup, lambda: epoch[0])
    epoch[0] = 1
    cache.principal("nc_good", lookup, lambda: epoch[0])
    assert len(calls) == 2


def test_an_entry_looked_up_before_a_revoke_is_never_served_after_it() -> None:
    """A lookup that raced a revoke (read the old epoch, then the pre-revoke token) must not stay cached."""
    epoch = [0]

    def slow_lookup(secret: str) -> Principal:
        epoch[0] = 1  # the revoke commits while this lookup runs
        return ALICE

    cache = PrincipalCache(60.0)
    cache.principal("nc_good", slow_lookup, lambda: epoch[0])
    again: list[str] = []

    def lookup(secret: str) -> Principal:
        again.append(secret)
        return ALICE

    cache.principal("nc_good", lookup, lambda: epoch[0])
    assert again == ["nc_good"]
