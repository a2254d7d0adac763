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


def test_bench_health_calibrate_json_names_each_figure_with_its_profile_and_verdict() -> None:
    _register()
    result = CliRunner().invoke(app, ["bench", "health", "--calibrate", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["mix"]["chi2"] < doc["mix"]["chi2_critical_999"]
    verdicts = {(m["profile"], m["job_gpus"]): m["within"] for m in doc["job_mtbf"]}
    assert verdicts == {
        ("llama3", 16_384): True,
        ("rsc1", 16_384): True,
        ("rsc1", 131_072): True,
        ("rsc-jobs", 8): True,
        ("rsc-jobs", 1_024): True,
    }
    fit = doc["rsc_jobs_fit"]
    assert fit["residual_pct"] == {"8": -6.02, "1024": 6.4}
    assert fit["per_1000_node_days"] == 22.306 and fit["rsc1_per_1000_node_days"] == 6.5


def test_bench_health_runs_on_the_research_cluster_profiles_and_refuses_an_unknown_one() -> None:
    _register()
    base = ["bench", "health", "--days", "2", "--repeats", "1", "--seed", "3", "--json"]
    assert CliRunner().invoke(app, [*base, "--profile", "rsc1"]).exit_code == 0
    assert CliRunner().invoke(app, [*base, "--profile", "rsc-jobs"]).exit_code == 0
    bad = CliRunner().invoke(app, [*base, "--profile", "nope"])
    assert bad.exit_code != 0 and "unknown failure profile" in bad.output
