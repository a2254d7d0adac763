"""The node lifecycle over HTTP: operator commands, their errors, tenants kept out."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.api_world import T0, ApiWorld


def test_operator_cordons_drains_repairs_and_returns_a_node_over_http() -> None:
    w = ApiWorld.build()
    op = w.http(w.operator)
    r = op.post("/v1/nodes/h1/cordon", json={"reason": "fan noise"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cordoned"
    listed = op.get("/v1/nodes").json()["items"]
    assert {n["id"]: n["state"] for n in listed}["h1"] == "cordoned"
    assert op.post("/v1/nodes/h1/drain", json={"reason": "triage"}).json()["state"] == "out-of-service"
    r = op.post("/v1/nodes/h1/repair", json={"reason": "reseat", "action": "replace"})
    assert r.json()["state"] == "in-repair" and r.json()["action"] == "replace"
    r = op.post("/v1/nodes/h1/return", json={"reason": "reseated"})
    assert r.json()["state"] == "burn-in"
    assert op.post("/v1/nodes/h1/return", json={"reason": "burn-in skipped"}).json()["state"] == "in-service"
    events = op.get("/v1/nodes/h1/events").json()
    assert [e["to_state"] for e in events] == [
        "cordoned",
        "draining",
        "out-of-service",
        "in-repair",
        "burn-in",
        "in-service",
    ]
    assert op.get("/v1/node-health", params={"state": "in-service"}).status_code == 200


def test_bad_commands_are_4xx_with_the_error_body() -> None:
    w = ApiWorld.build()
    op = w.http(w.operator)
    r = op.post("/v1/nodes/h1/repair", json={"reason": "x", "action": "reboot"})
    assert r.status_code == 409 and r.json()["error"] == "invalid-transition"
    assert op.post("/v1/nodes/nope/cordon", json={"reason": "x"}).status_code == 404
    assert op.post("/v1/nodes/h1/cordon", json={"reason": ""}).status_code == 422
    assert op.post("/v1/nodes/h1/cordon", json={"reason": "x", "extra": 1}).status_code == 422
    assert op.post("/v1/nodes/h1/drain", json={"reason": "x", "timeout_minutes": -1}).status_code == 422


def test_tenants_cannot_touch_nodes_and_see_only_their_own_notices() -> None:
    w = ApiWorld.build()
    alice = w.http(w.tokens["alice"])
    assert alice.post("/v1/nodes/h1/cordon", json={"reason": "mine"}).status_code == 403
    assert alice.get("/v1/node-health").status_code == 403
    assert alice.get("/v1/notices").json() == []
    assert w.http().get("/v1/notices").status_code == 401


def test_maintenance_is_planned_listed_and_cancelled() -> None:
    w = ApiWorld.build()
    op = w.http(w.operator)
    start = (T0 + timedelta(days=1)).isoformat()
    end = (T0 + timedelta(days=1, hours=2)).isoformat()
    r = op.post("/v1/nodes/h1/maintenance", json={"start": start, "end": end, "reason": "firmware"})
    assert r.status_code == 201, r.text
    window = r.json()["id"]
    assert [m["id"] for m in op.get("/v1/maintenance").json()] == [window]
    bad = op.post("/v1/nodes/h1/maintenance", json={"start": end, "end": start, "reason": "backwards"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid-input"
    assert op.delete(f"/v1/maintenance/{window}").status_code == 204
    assert op.get("/v1/maintenance").json() == []
