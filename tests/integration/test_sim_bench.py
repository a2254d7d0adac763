"""`neocloud bench sim` end to end on a short horizon: both engines, SimPy and heap loops, and the API
slice through a real `neocloud serve` process (synthetic demand: no data file needed)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from neocloud.cli.main import _register, app

_register()


def test_bench_sim_reports_engines_beside_the_api_slice() -> None:
    out = CliRunner().invoke(
        app,
        [
            "bench",
            "sim",
            "--superpod-days",
            "0.5",
            "--campus-days",
            "0.02",
            "--slice-jobs",
            "6",
            "--campus-slice-jobs",
            "0",
            "--demand",
            "synthetic",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output[out.output.index("{") :])
    rows = doc["scenarios"]
    assert set(rows) == {
        "gb200-superpod/exact/simpy",
        "gb200-superpod/pooled/simpy",
        "gb200-superpod/pooled/heap",
        "campus-1gw/pooled/simpy",
        "campus-1gw/pooled/heap",
    }
    for row in rows.values():
        assert row["events"] > 0 and row["wall_seconds"] > 0 and row["simulated_days"] > 0
        assert row["events_per_second"] == row["events"] / row["wall_seconds"]
    superpod = rows["gb200-superpod/exact/simpy"]
    assert superpod["api_seconds_per_event"] > 0 and superpod["speedup_vs_api"] > 0
    # the exact engine's event loop alone, wall and CPU, is within its whole run and gives the ratios
    assert 0 < superpod["loop_seconds"] <= superpod["engine_wall_seconds"] <= superpod["wall_seconds"]
    assert 0 < superpod["loop_cpu_seconds"] <= superpod["cpu_seconds"]
    assert superpod["loop_speedup_vs_api"] == superpod["api_seconds_per_event"] / (
        superpod["loop_seconds"] / superpod["events"]
    )
    (api,) = doc["api_slices"]
    assert api["events"] >= 6 and api["refused"] <= api["events"]
    assert api["server_cpu_seconds"] > 0 and api["client_cpu_seconds"] > 0  # the server did the work
    assert (
        api["cpu_seconds_per_event"]
        == (api["server_cpu_seconds"] + api["client_cpu_seconds"]) / api["events"]
    )
    assert superpod["loop_cpu_speedup_vs_api"] == api["cpu_seconds_per_event"] / (
        superpod["loop_cpu_seconds"] / superpod["events"]
    )
    assert doc["pooled_vs_exact"] is not None


def test_bench_sim_refuses_an_unknown_demand() -> None:
    out = CliRunner().invoke(app, ["bench", "sim", "--demand", "tea"])
    assert out.exit_code != 0 and "--demand" in out.output


def test_bench_sim_runs_the_exact_engine_at_several_lengths_alone() -> None:
    out = CliRunner().invoke(
        app,
        ["bench", "sim", "--exact-days", "0.2", "--exact-days", "0.4", "--no-pooled", "--slice-jobs", "3",
         "--campus-slice-jobs", "0", "--demand", "synthetic", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output[out.output.index("{") :])
    rows = doc["scenarios"]
    assert set(rows) == {"gb200-superpod/exact/simpy@0.2d", "gb200-superpod/exact/simpy@0.4d"}
    short, long = rows["gb200-superpod/exact/simpy@0.2d"], rows["gb200-superpod/exact/simpy@0.4d"]
    assert (short["simulated_days"], long["simulated_days"]) == (0.2, 0.4)
    assert 0 < short["events"] <= long["events"] and long["speedup_vs_api"] > 0
    assert doc["pooled_vs_exact"] is None  # nothing pooled to compare
