"""`neocloud nodes …` and `neocloud sla report` over a real SQLite file, as an operator types them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from neocloud.cli.main import _register, app


def test_operator_walks_a_node_through_the_lifecycle_from_the_cli(tmp_path: Path) -> None:
    _register()
    env = {"NEOCLOUD_DATA_DIR": str(tmp_path), "NEOCLOUD_DATABASE_URL": ""}

    def run(*args: str, ok: bool = True) -> str:
        result = CliRunner().invoke(app, list(args), env=env)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    run("db", "upgrade")
    run("fleet", "import", "demo")
    node = json.loads(run("nodes", "list", "--json", "--limit", "1"))["items"][0]["id"]
    assert json.loads(run("nodes", "cordon", node, "--reason", "fan", "--json"))["state"] == "cordoned"
    assert json.loads(run("nodes", "list", "--json", "--limit", "1"))["items"][0]["state"] == "cordoned"
    assert (
        json.loads(run("nodes", "drain", node, "--reason", "triage", "--json"))["state"] == "out-of-service"
    )
    out = json.loads(run("nodes", "repair", node, "--reason", "reseat", "--action", "replace", "--json"))
    assert out["state"] == "in-repair"
    assert json.loads(run("nodes", "return", node, "--reason", "done", "--json"))["state"] == "burn-in"
    assert json.loads(run("nodes", "return", node, "--reason", "passed", "--json"))["state"] == "in-service"
    events = json.loads(run("nodes", "events", node, "--json"))
    assert [e["to_state"] for e in events][-2:] == ["burn-in", "in-service"]
    assert "--reason" in run("nodes", "cordon", node, ok=False)  # a reason is required
    assert "not found" in run("nodes", "cordon", "no-such-node", "--reason", "x", ok=False)
    run("nodes", "maintenance", node, "--from", "+1d", "--to", "+2d", "--reason", "firmware")
    report = json.loads(run("sla", "report", "--json"))
    assert report["target_pct"] == "99.9" and report["lines"] == []
