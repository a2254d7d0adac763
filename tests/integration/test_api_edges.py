"""Edge-of-range and malformed input is a 4xx naming what is wrong, never a 5xx (hardening #4, #7)."""

from __future__ import annotations

import pytest

from tests.integration.api_world import ApiWorld


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


EXTREME_INSTANTS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("start", EXTREME_INSTANTS)
@pytest.mark.parametrize("path", ["/v1/reservations/quote", "/v1/reservations"])
def test_instants_at_the_ends_of_time_are_a_422(world: ApiWorld, path: str, start: str) -> None:
    r = world.http(world.tokens["alice"]).post(
        path, json={"model": "H100", "gpus": 8, "hours": 1, "start": start}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")
    assert "start" in r.json()["message"]


@pytest.mark.parametrize("start", EXTREME_INSTANTS)
def test_calendar_at_the_ends_of_time_is_a_422(world: ApiWorld, start: str) -> None:
    r = world.http(world.tokens["alice"]).get(
        "/v1/capacity/calendar", params={"model": "H100", "start": start}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1999-12", "2201-01"])
def test_invoice_preview_for_an_absurd_month_is_a_422(world: ApiWorld, period: str) -> None:
    r = world.http(world.tokens["alice"]).get("/v1/invoices/preview", params={"period": period})
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")
    assert r.json()["details"]["field"] == "period"


def test_the_connection_is_usable_after_a_refused_request(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    assert http.get("/v1/invoices/preview", params={"period": "9999-12"}).status_code == 422
    assert http.get("/v1/whoami").status_code == 200


@pytest.mark.parametrize("gpus", ["8", 8.0, True])
def test_counts_are_strict_integers(world: ApiWorld, gpus: object) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations/quote", json={"model": "H100", "gpus": gpus, "hours": 1}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")
    assert "gpus" in r.json()["message"]


def test_spot_is_a_strict_boolean(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/instances", json={"model": "H100", "nodes": 1, "spot": 1})
    assert r.status_code == 422 and "spot" in r.json()["message"]


def test_a_duplicate_json_key_is_refused(world: ApiWorld) -> None:
    body = b'{"model": "H100", "gpus": 8, "gpus": 16, "hours": 1}'
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", content=body, headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"], r.json()["details"]) == (
        422,
        "invalid-input",
        {"field": "gpus"},
    )
    assert world.http(world.tokens["alice"]).get("/v1/reservations").json()["items"] == []  # nothing written


def test_a_nested_duplicate_key_is_refused_too() -> None:
    from neocloud.api.body import duplicate_key

    assert duplicate_key(b'{"a": {"b": 1, "b": 2}}') == "b"
    assert duplicate_key(b'{"a": 1, "b": [1, 2]}') is None
    assert duplicate_key(b"not json") is None


def test_an_oversized_body_is_a_413_before_parsing(world: ApiWorld) -> None:
    body = b'{"model": "H100", "gpus": 8, "hours": 1, "pad": "' + b"x" * (2 << 20) + b'"}'
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations", content=body, headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]) == (413, "payload-too-large")
    assert r.json()["details"]["limit_bytes"] == 1 << 20


def test_every_model_the_schema_offers_is_accepted(world: ApiWorld) -> None:
    """What the schema says and what the server accepts agree: a schema-valid model is never a 422
    (schemathesis found 'unknown GPU model' for schema-valid strings)."""
    schema = world.http().get("/openapi.json").json()["components"]["schemas"]["ReservationCreate"]
    models = schema["properties"]["model"]["enum"]
    assert "H100" in models and "GB200" in models
    http = world.http(world.tokens["alice"])
    quoted = set()
    for model in models:
        r = http.post("/v1/reservations/quote", json={"model": model, "gpus": 8, "hours": 1, "shape": "any"})
        if r.status_code == 200:
            quoted.add(model)
            continue
        # a business answer about that model (not priced, no such nodes), never a schema complaint
        assert r.status_code in (409, 422) and model in r.json()["message"], (model, r.text)
        assert "errors" not in r.json()["details"], (model, r.text)
    assert {"H100", "GB200"} <= quoted


def test_a_model_outside_the_schema_is_refused_by_the_schema(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post(
        "/v1/reservations/quote", json={"model": "Z9000", "gpus": 8, "hours": 1}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input") and "Z9000" in r.json()["message"]


def test_usage_takes_from_alone_and_to_alone(world: ApiWorld) -> None:
    """The schema allows `from` without `to` (and the reverse); the server answered 422 to both."""
    http = world.http(world.tokens["alice"])
    alone = http.get("/v1/usage", params={"from": "2026-03-01T00:00:00Z"})
    assert alone.status_code == 200, alone.text
    assert http.get("/v1/usage", params={"to": "2026-03-02T00:00:00Z"}).status_code == 200
    backwards = http.get("/v1/usage", params={"from": "2026-03-05T00:00:00Z", "to": "2026-03-02T00:00:00Z"})
    assert (backwards.status_code, backwards.json()["details"]["field"]) == (422, "to")
