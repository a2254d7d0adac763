"""Reservations over HTTP: reserve, idempotency, paging, tenancy, cancel, extend, quote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocloud.billing.domain.pricing import PriceKey
from neocloud.kernel.money import round_half_even
from tests.builders import fleet, node
from tests.integration.api_world import T0, ApiWorld

RESERVE = {"model": "H100", "gpus": 8, "hours": 2}


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def test_reserve_returns_201_and_the_reservation(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/reservations", json=RESERVE)
    assert r.status_code == 201
    body = r.json()
    assert (body["model"], body["gpus"], body["tenant_id"]) == ("H100", 8, world.tenant_ids["alice"])
    assert body["end"] == (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z")


def test_same_idempotency_key_returns_the_same_reservation(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    first = http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"})
    again = http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"})
    assert first.json()["id"] == again.json()["id"]
    assert http.get("/v1/reservations").json()["total"] == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"hours": 3},
        {"start": "2026-03-02T12:00:00Z"},
        {"project": "ml"},
        {"gpus": 16},
        {"shape": "whole-nodes"},
    ],
    ids=["hours", "start", "project", "gpus", "shape"],
)
def test_a_reused_idempotency_key_with_another_request_is_409(world: ApiWorld, changed: dict) -> None:
    """Hardening #5: the whole canonical request is compared (before: hours, start and project were not)."""
    http = world.http(world.tokens["alice"])
    assert (
        http.post("/v1/projects", json={"tenant_id": world.tenant_ids["alice"], "name": "ml"}).status_code
        == 201
    )
    first = http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    other = http.post("/v1/reservations", json={**RESERVE, **changed}, headers={"Idempotency-Key": "k-1"})
    assert (other.status_code, other.json()["error"]) == (409, "idempotency-conflict")
    assert other.json()["details"]["existing"] == first.json()["id"]
    assert http.get("/v1/reservations").json()["total"] == 1


def test_a_reused_key_naming_the_same_project_differently_is_the_same_request(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    first = http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"}).json()
    again = http.post(
        "/v1/reservations", json={**RESERVE, "project": "default"}, headers={"Idempotency-Key": "k-1"}
    )
    assert (again.status_code, again.json()["id"]) in ((200, first["id"]), (201, first["id"]))


def test_different_idempotency_keys_create_two(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    a = http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"})
    b = http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-2"})
    assert a.json()["id"] != b.json()["id"]


def test_malformed_idempotency_key_is_422(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "has spaces"}
    )
    assert r.status_code == 422


def test_another_tenants_reservation_is_not_found(world: ApiWorld) -> None:
    rid = world.http(world.tokens["alice"]).post("/v1/reservations", json=RESERVE).json()["id"]
    r = world.http(world.tokens["bob"]).get(f"/v1/reservations/{rid}")
    missing = world.http(world.tokens["bob"]).get("/v1/reservations/rsv_missing")
    assert r.status_code == missing.status_code == 404
    assert r.json()["message"].replace(rid, "X") == missing.json()["message"].replace("rsv_missing", "X")


def test_list_shows_only_the_callers_reservations(world: ApiWorld) -> None:
    world.http(world.tokens["alice"]).post("/v1/reservations", json=RESERVE)
    assert world.http(world.tokens["bob"]).get("/v1/reservations").json()["total"] == 0


def test_cancel_moves_the_reservation_to_cancelled(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    rid = http.post("/v1/reservations", json={**RESERVE, "start": "2026-03-03T09:00:00Z"}).json()["id"]
    r = http.post(f"/v1/reservations/{rid}/cancel")
    assert (r.status_code, r.json()["state"]) == (200, "cancelled")


def test_extend_moves_the_end(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    made = http.post("/v1/reservations", json=RESERVE).json()
    r = http.post(f"/v1/reservations/{made['id']}/extend", json={"hours": 3})
    assert r.status_code == 200
    assert r.json()["end"] == (T0 + timedelta(hours=5)).isoformat().replace("+00:00", "Z")


def test_state_filter_keeps_only_that_state(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    rid = http.post("/v1/reservations", json={**RESERVE, "start": "2026-03-03T09:00:00Z"}).json()["id"]
    http.post("/v1/reservations", json=RESERVE)
    http.post(f"/v1/reservations/{rid}/cancel")
    page = http.get("/v1/reservations", params={"state": "cancelled"}).json()
    assert [r["id"] for r in page["items"]] == [rid]


def test_unknown_state_filter_is_422(world: ApiWorld) -> None:
    assert (
        world.http(world.tokens["alice"]).get("/v1/reservations", params={"state": "sleepy"}).status_code
        == 422
    )


def test_quote_of_an_impossible_request_explains_why(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/reservations/quote", json={**RESERVE, "gpus": 64})
    body = r.json()
    assert (r.status_code, body["feasible"]) == (200, False)
    assert body["reasons"] and body["message"]


def test_quote_of_a_fitting_request_prices_it(world: ApiWorld) -> None:
    body = world.http(world.tokens["alice"]).post("/v1/reservations/quote", json=RESERVE).json()
    assert body["feasible"] is True
    unit = world.billing.catalog().price_at(PriceKey.of("H100", "reserved", 1), T0)  # quotes use 1 month
    assert Decimal(body["unit_price"]) == unit
    assert Decimal(body["price_total"]) == round_half_even(unit * 8 * 2, "USD").decimal()


def test_limit_above_500_is_422(world: ApiWorld) -> None:
    assert world.http(world.tokens["alice"]).get("/v1/reservations", params={"limit": 501}).status_code == 422


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 7), limit=st.integers(1, 4))
def test_paging_returns_every_reservation_exactly_once(count: int, limit: int) -> None:
    world = ApiWorld.build(fleet(*(node(f"n{i}") for i in range(8))), tenants=("alice",))
    http = world.http(world.tokens["alice"])
    made = {http.post("/v1/reservations", json=RESERVE).json()["id"] for _ in range(count)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = http.get("/v1/reservations", params=params).json()
        assert len(page["items"]) <= limit and page["total"] >= len(page["items"])
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_same_key_with_a_different_request_is_409(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    http.post("/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"})
    r = http.post("/v1/reservations", json={**RESERVE, "gpus": 4}, headers={"Idempotency-Key": "k-1"})
    assert (r.status_code, r.json()["error"]) == (409, "idempotency-conflict")


def test_idempotency_keys_are_per_tenant(world: ApiWorld) -> None:
    a = world.http(world.tokens["alice"]).post(
        "/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"}
    )
    b = world.http(world.tokens["bob"]).post(
        "/v1/reservations", json=RESERVE, headers={"Idempotency-Key": "k-1"}
    )
    assert b.status_code == 201 and a.json()["id"] != b.json()["id"]
