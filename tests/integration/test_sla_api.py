"""`GET /v1/sla`: a tenant sees its own allocations' availability and credit, an operator every tenant's
(or one it names); the Python client and `neocloud sla report --url` read the same report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import _register, app
from neocloud.client.sla import SlaClient
from tests.integration.api_world import T0, ApiWorld, LiveServer

PERIOD = f"{T0.year:04d}-{T0.month:02d}"


def _world_with_an_outage() -> tuple[ApiWorld, str, str]:
    """alice's reservation loses its node for 6 hours of a 2-day window; bob's runs untouched."""
    w = ApiWorld.build()
    alice, bob, op = w.http(w.tokens["alice"]), w.http(w.tokens["bob"]), w.http(w.operator)
    body = {"model": "H100", "gpus": 8, "hours": 48, "shape": "whole-nodes"}
    a = alice.post("/v1/reservations", json=body)
    b = bob.post("/v1/reservations", json=body)
    assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
    w.control.reconcile()
    held = a.json()["nodes"][0]
    event = {"node": held, "component": "hbm", "code": "48", "recommended_action": "contact-support"}
    assert op.post("/v1/health-events", json={"events": [event]}).status_code == 200
    w.clock.advance(timedelta(hours=6))
    assert (
        op.post(f"/v1/nodes/{held}/repair", json={"reason": "rma", "action": "contact-support"}).status_code
        == 200
    )
    assert op.post(f"/v1/nodes/{held}/return", json={"reason": "back"}).status_code == 200
    assert op.post(f"/v1/nodes/{held}/return", json={"reason": "passed"}).status_code == 200
    w.clock.advance(timedelta(hours=42))
    return w, a.json()["id"], b.json()["id"]


def test_a_tenant_sees_only_its_own_allocations_and_the_operator_sees_all() -> None:
    w, mine, theirs = _world_with_an_outage()
    alice = w.http(w.tokens["alice"]).get("/v1/sla", params={"period": PERIOD})
    assert alice.status_code == 200, alice.text
    doc = alice.json()
    assert doc["period"] == PERIOD and doc["target_pct"] == "99.9"
    assert [x["allocation"] for x in doc["lines"]] == [mine]
    line = doc["lines"][0]
    assert line["tenant_id"] == w.tenant_ids["alice"] and line["tenant_name"] == "alice"
    assert float(line["availability_pct"]) < 99.9 and line["credit_pct"] in ("10", "25")
    assert theirs not in alice.text and w.tenant_ids["bob"] not in alice.text and "bob" not in alice.text
    everyone = w.http(w.operator).get("/v1/sla", params={"period": PERIOD}).json()
    assert {x["allocation"] for x in everyone["lines"]} == {mine, theirs}
    only_bob = w.http(w.operator).get("/v1/sla", params={"period": PERIOD, "tenant": "bob"}).json()
    assert [x["allocation"] for x in only_bob["lines"]] == [theirs]
    assert only_bob["lines"][0]["availability_pct"] == "100.0000"


def test_naming_another_tenant_answers_like_a_missing_one_and_bad_periods_are_422() -> None:
    w, _, _ = _world_with_an_outage()
    alice = w.http(w.tokens["alice"])
    other = alice.get("/v1/sla", params={"tenant": w.tenant_ids["bob"]})
    missing = alice.get("/v1/sla", params={"tenant": "tnt_nope"})
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"] == missing.json()["error"] == "not-found"
    assert alice.get("/v1/sla", params={"tenant": w.tenant_ids["alice"]}).status_code == 200
    assert w.http(w.operator).get("/v1/sla", params={"tenant": "nobody"}).status_code == 404
    for bad in ("2026-13", "2026-1", "26-01", "x"):
        r = alice.get("/v1/sla", params={"period": bad})
        assert r.status_code == 422 and r.json()["error"] == "invalid-input", (bad, r.text)
    assert w.http().get("/v1/sla").status_code == 401


def test_the_client_reads_the_same_report() -> None:
    w, mine, _ = _world_with_an_outage()
    report = SlaClient(w.client(w.tokens["alice"])).report(period=PERIOD)
    assert [x.allocation for x in report.lines] == [mine]
    assert report.lines[0].credit != "0.00"


@pytest.fixture
def served() -> Iterator[tuple[ApiWorld, str, str, str]]:
    _register()
    w, mine, theirs = _world_with_an_outage()
    with LiveServer(w.app) as server:
        yield w, server.url, mine, theirs


def test_sla_report_with_url_asks_the_api_as_the_token(
    served: tuple[ApiWorld, str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, url, mine, theirs = served
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("NEOCLOUD_URL", raising=False)
    monkeypatch.delenv("NEOCLOUD_TOKEN", raising=False)

    def run(token: str, *args: str) -> dict[str, object]:
        result = CliRunner().invoke(
            app, ["--token", token, "sla", "report", "--url", url, "--period", PERIOD, "--json", *args]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    tenant = run(w.tokens["alice"])
    assert [x["allocation"] for x in tenant["lines"]] == [mine]  # type: ignore[index]
    operator = run(w.operator)
    assert {x["allocation"] for x in operator["lines"]} == {mine, theirs}  # type: ignore[union-attr]
    table = CliRunner().invoke(
        app,
        ["--url", url, "--token", w.tokens["alice"], "sla", "report", "--period", PERIOD],
        env={"COLUMNS": "250"},
    )
    assert table.exit_code == 0 and mine in table.output and theirs not in table.output
    refused = CliRunner().invoke(
        app, ["--url", url, "--token", w.tokens["alice"], "sla", "report", "--tenant", w.tenant_ids["bob"]]
    )
    assert refused.exit_code == 1 and "not found (404 not-found)" in refused.output
