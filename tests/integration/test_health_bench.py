"""`neocloud bench health`: the JSON shape of issue #10, spares 0/1/2 side by side, deterministic."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from neocloud.cli.main import _register, app


def test_bench_health_json_has_the_issue_shape_and_compares_spares() -> None:
    _register()
    args = ["bench", "health", "--days", "3", "--repeats", "1", "--seed", "3", "--spares", "2", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) == {"default_spares_per_rack", "runs"} and doc["default_spares_per_rack"] == 2
    assert [r["spares_per_rack"] for r in doc["runs"]] == [0, 1, 2]
    for r in doc["runs"]:
        assert set(r) == {
            "spares_per_rack",
            "availability_pct",
            "interruptions",
            "mttr_minutes",
            "credits_pct_of_revenue",
            "spare_utilisation_pct",
        }
        assert set(r["availability_pct"]) == {"p50", "min"}
        assert 0 <= r["availability_pct"]["min"] <= r["availability_pct"]["p50"] <= 100
    assert doc["runs"][0]["spare_utilisation_pct"] == 0.0  # no spares, none used
    again = CliRunner().invoke(app, args)
    assert json.loads(again.output) == doc  # seeded: the same run gives the same figures
