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


def test_metrics_are_operator_only_and_count_nodes_events_gpus_and_latency() -> None:
    w = ApiWorld.build()
    op, alice = w.http(w.operator), w.http(w.tokens["alice"])
    assert w.http().get("/metrics").status_code == 401
    assert alice.get("/metrics").status_code == 403
    r = alice.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 2, "shape": "whole-nodes"})
    assert r.status_code == 201, r.text
    held = r.json()["nodes"][0]
    other = "h2" if held == "h1" else "h1"
    w.control.reconcile()
    op.post(f"/v1/nodes/{other}/cordon", json={"reason": "fan"})
    event = {"node": held, "component": "gpu", "code": "79", "recommended_action": "replace"}
    r = op.post("/v1/health-events", json={"events": [event]})
    assert r.status_code == 200, r.text
    assert r.json()["outcomes"][0]["decision"] == "quarantine"
    text = op.get("/metrics").text
    tenant = w.tenant_ids["alice"]
    assert 'neocloud_nodes{model="H100",state="cordoned"} 1.0' in text
    assert 'neocloud_nodes{model="H100",state="out-of-service"} 1.0' in text
    assert 'neocloud_health_events{action="replace",component="gpu"} 1.0' in text
    assert f'neocloud_gpus_in_use{{tenant="{tenant}"}} 8.0' in text
    assert f'neocloud_gpus_delivered{{tenant="{tenant}"}} 0.0' in text  # no spare: degraded
    assert f'neocloud_gpus_healthy{{tenant="{tenant}"}} 0.0' in text
    assert 'neocloud_api_request_seconds_count{method="POST",route="/v1/nodes/{node}/cordon"} 1.0' in text
    assert "neocloud_admission_seconds_count 1.0" in text
    assert "neocloud_time_to_remediate_seconds_bucket" in text
    kinds = [n["kind"] for n in alice.get("/v1/notices").json()]
    assert kinds == ["degraded"]


def test_health_events_need_an_operator_and_a_known_node_and_a_sane_time() -> None:
    w = ApiWorld.build()
    event = {"node": "h2", "component": "hbm", "code": "48", "recommended_action": "contact-support"}
    assert w.http(w.tokens["alice"]).post("/v1/health-events", json={"events": [event]}).status_code == 403
    op = w.http(w.operator)
    assert op.post("/v1/health-events", json={"events": [{**event, "node": "zz"}]}).status_code == 404
    future = {**event, "at": (T0 + timedelta(days=1)).isoformat()}
    assert op.post("/v1/health-events", json={"events": [future]}).status_code == 422
    assert op.post("/v1/health-events", json={"events": [{**event, "component": "psu"}]}).status_code == 422
    assert op.post("/v1/health-events", json={"events": []}).status_code == 422


def test_webhooks_over_http_show_the_secret_once_and_stay_in_their_tenant() -> None:
    w = ApiWorld.build()
    alice, bob = w.http(w.tokens["alice"]), w.http(w.tokens["bob"])
    r = alice.post("/v1/webhooks", json={"url": "https://example.com/hook", "events": ["degraded"]})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["secret"] and len(hook["secret"]) == 64
    listed = alice.get("/v1/webhooks").json()
    assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["secret"] is None
    assert bob.get("/v1/webhooks").json() == []
    assert bob.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 404
    assert bob.delete(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert alice.post("/v1/webhooks", json={"url": "ftp://x/y", "events": ["degraded"]}).status_code == 422
    assert alice.delete(f"/v1/webhooks/{hook['id']}").status_code == 204


def test_metrics_have_a_placement_decision_histogram_per_product() -> None:
    w = ApiWorld.build()
    op, alice = w.http(w.operator), w.http(w.tokens["alice"])
    text = op.get("/metrics").text
    assert "neocloud_placement_decision_seconds" in text  # declared before any decision
    assert "neocloud_placement_decision_seconds_count" not in text
    r = alice.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 2, "shape": "whole-nodes"})
    assert r.status_code == 201, r.text
    r = alice.post("/v1/instances", json={"model": "H100", "nodes": 1})
    assert r.status_code == 201, r.text
    text = op.get("/metrics").text
    assert 'neocloud_placement_decision_seconds_count{product="reserved"} 1.0' in text
    assert 'neocloud_placement_decision_seconds_count{product="on-demand"} 1.0' in text
    assert 'neocloud_placement_decision_seconds_bucket{le="+Inf",product="reserved"} 1.0' in text
    total = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith('neocloud_placement_decision_seconds_sum{product="reserved"}')
    )
    admission = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("neocloud_admission_seconds_sum")
    )
    assert 0 < total < admission  # the placer's time is part of the request's, without its database work
