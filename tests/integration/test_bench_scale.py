"""The scale benchmark on small presets: the shape of its report, never its timings."""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from neocloud.bench.scale import LowestIndex, bench_policy, request_mix, run_scale
from neocloud.cli.bench import app
from neocloud.fleet import presets
from neocloud.fleet.capacity import Capacity
from neocloud.fleet.topology import Level
from neocloud.kernel.errors import InvalidInput

root = typer.Typer()
root.add_typer(app, name="bench")
KEYS = {
    "build_seconds",
    "peak_rss_mib",
    "placements_per_second",
    "latency_ms",
    "gangs_in_smallest_domain_pct",
}


def test_scale_json_has_the_documented_keys():
    result = CliRunner().invoke(
        root, ["bench", "scale", "--preset", "gb200-superpod", "-p", "sus=4", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= KEYS
    assert all(set(v) >= {"p50", "p99"} for v in data["latency_ms"].values())
    assert {"1", "4", "72"} <= set(data["latency_ms"])
    assert set(data["gang_levels"]) <= set(data["latency_ms"]) - {"1", "4"}


def test_scale_fills_the_fleet_to_the_target():
    result = run_scale("gb200-superpod", {"sus": 2}, seed=1)
    assert result.allocated_pct >= 90
    assert result.placements > 0 and result.gangs_placed > 0


def test_scale_is_deterministic_for_a_seed_apart_from_timings():
    a = run_scale("h100-su", {"sus": 2}, seed=5)
    b = run_scale("h100-su", {"sus": 2}, seed=5)
    assert (a.decisions, a.placements, a.releases, a.gangs_placed) == (
        b.decisions,
        b.placements,
        b.releases,
        b.gangs_placed,
    )


def test_the_mix_drops_gangs_too_big_for_the_fleet():
    result = run_scale("h100-su", {"sus": 1}, seed=0, max_decisions=200)
    assert "4096" not in result.latency_ms and "1024" not in result.latency_ms


def test_the_gb200_mix_has_whole_racks_and_gangs_up_to_a_hall():
    shapes = {s.label: s.request for s in request_mix(presets.build("gb200-superpod", sus=1))}
    assert shapes["72"].nodes == 18 and shapes["72"].within == Level.NVLINK
    assert shapes["4096"].nodes == 1024 and shapes["4096"].within == Level.HALL


def test_first_fit_prefers_the_lowest_numbered_node():
    cap = Capacity(presets.build("h100-su"))
    scores = LowestIndex()(request_mix(cap.fleet)[0].request, cap, np.array([5, 2, 9]))
    assert int(np.argmax(scores)) == 1


def test_an_unknown_preset_is_a_clean_error():
    result = CliRunner().invoke(root, ["bench", "scale", "--preset", "nope", "--json"])
    assert result.exit_code == 2 and "campus-1gw" in result.stderr


def test_the_bench_policy_is_first_fit_by_name():
    assert bench_policy("first-fit").name == "first-fit"


def test_an_unknown_bench_policy_is_refused():
    with pytest.raises(InvalidInput):
        bench_policy("no-such-policy")


def test_the_digest_names_the_decisions():
    a = run_scale("gb200-superpod", {"sus": 2}, seed=4)
    b = run_scale("gb200-superpod", {"sus": 2}, seed=4)
    c = run_scale("gb200-superpod", {"sus": 2}, seed=5)
    assert len(a.digest) == 16
    assert a.digest == b.digest
    assert a.digest != c.digest
