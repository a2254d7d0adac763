"""Every failure leaves the API as JSON {"error", "message", "details"} with the right 4xx."""

from __future__ import annotations

import pytest

from neocloud.api.errors import status_for
from neocloud.control.domain.tenancy import Role
from neocloud.kernel.errors import Conflict, DomainError, NotFound
from tests.integration.api_world import ApiWorld


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def test_unknown_route_is_a_json_404(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).get("/v1/no-such-thing")
    assert (r.status_code, r.json()["error"]) == (404, "not-found")
    assert "/v1/no-such-thing" in r.json()["message"]


def test_wrong_method_is_a_json_405_with_allow(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).delete("/v1/reservations")
    assert (r.status_code, r.json()["error"]) == (405, "method-not-allowed")
    assert "GET" in r.headers["allow"]


def test_missing_token_is_401_with_challenge(world: ApiWorld) -> None:
    r = world.http().get("/v1/reservations")
    assert (r.status_code, r.json()["error"]) == (401, "unauthenticated")
    assert r.headers["www-authenticate"] == "Bearer"


def test_unknown_token_is_401(world: ApiWorld) -> None:
    r = world.http("nc_" + "x" * 43).get("/v1/reservations")
    assert (r.status_code, r.json()["error"]) == (401, "unauthenticated")


def test_body_out_of_range_names_the_field(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", json={"model": "H100", "gpus": 0, "hours": 1}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")
    assert r.json()["details"]["errors"][0]["loc"] == ["body", "gpus"]
    assert r.json()["message"].startswith("gpus:")


def test_malformed_json_is_422(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")


def test_naive_start_is_rejected(world: ApiWorld) -> None:
    body = {"model": "H100", "gpus": 8, "hours": 1, "start": "2026-03-02T10:00:00"}
    r = world.http(world.tokens["alice"]).post("/v1/reservations", json=body)
    assert r.status_code == 422
    assert r.json()["details"]["errors"][0]["loc"] == ["body", "start"]


def test_far_future_start_is_rejected_at_the_edge(world: ApiWorld) -> None:
    body = {"model": "H100", "gpus": 8, "hours": 1, "start": "9999-12-31T23:00:00Z"}
    r = world.http(world.tokens["alice"]).post("/v1/reservations", json=body)
    assert r.status_code == 422


def test_unknown_field_is_rejected(world: ApiWorld) -> None:
    body = {"model": "H100", "gpus": 8, "hours": 1, "colour": "blue"}
    r = world.http(world.tokens["alice"]).post("/v1/reservations", json=body)
    assert r.status_code == 422


def test_unknown_model_is_a_domain_422_listing_known_models(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", json={"model": "Z9", "gpus": 1, "hours": 1}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")
    assert "H100" in r.json()["details"]["known"]


def test_capacity_conflict_is_409_with_reasons(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", json={"model": "H100", "gpus": 64, "hours": 1}
    )
    assert (r.status_code, r.json()["error"]) == (409, "conflict")
    assert r.json()["details"]["reasons"]


def test_viewer_cannot_reserve(world: ApiWorld) -> None:
    viewer = world.token_for("alice", Role.VIEWER)
    r = world.http(viewer).post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 1})
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")


def test_bad_path_id_is_422_not_a_lookup(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).get("/v1/reservations/%00bad")
    assert r.status_code == 422


def test_domain_error_subclass_inherits_its_parents_status() -> None:
    class GoneMissing(NotFound):
        code = "gone-missing"

    assert status_for(GoneMissing("x")) == 404
    assert status_for(Conflict("x")) == 409


def test_unmapped_domain_error_is_400() -> None:
    class Odd(DomainError):
        code = "odd"

    assert status_for(Odd("x")) == 400


def test_unknown_query_parameter_is_422(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).get("/v1/reservations", params={"limt": 5})
    assert r.status_code == 422 and "limt" in r.json()["message"]


def test_repeated_query_parameter_is_422(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).get("/v1/reservations?limit=5&limit=6")
    assert r.status_code == 422 and "more than once" in r.json()["message"]


def test_allow_header_prefers_the_literal_route(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).delete("/v1/reservations/quote")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
