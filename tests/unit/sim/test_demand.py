"""Philly reader and the documented scaling rule; seeded streams."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from neocloud.kernel.errors import InvalidInput
from neocloud.sim import demand
from neocloud.traces.philly import read_trace

CSV = """timestamp,duration,num_gpus,gpu_time,cluster
2017-10-01 00:00:00,3600.0,1,3600.0,a
2017-10-01 00:30:00,3600.0,8,28800.0,b
2017-10-01 02:00:00,600.0,2,1200.0,a
2017-10-01 01:00:00,60.0,0,0.0,c
"""


@pytest.fixture
def trace(tmp_path: Path):  # type: ignore[no-untyped-def]
    p = tmp_path / "philly.csv"
    p.write_text(CSV)
    return read_trace(p)


def test_reader_sorts_by_submission_and_drops_cpu_jobs(trace) -> None:  # type: ignore[no-untyped-def]
    assert [(j.submit_s, j.gpus, j.cluster) for j in trace.jobs] == [
        (0, 1, "a"),
        (1800, 8, "b"),
        (7200, 2, "a"),
    ]
    assert trace.span_s == 7200


def test_peak_concurrent_by_hand(trace) -> None:  # type: ignore[no-untyped-def]
    # 00:30-01:00 both the 1-GPU and the 8-GPU job run: 9 GPUs; rounded to 4-GPU nodes: 4 + 8 = 12
    assert trace.peak_concurrent(1) == 9
    assert trace.peak_concurrent(4) == 12


def test_the_scaling_rule(trace) -> None:  # type: ignore[no-untyped-def]
    plan = demand.philly_plan(trace, "on-demand", share_gpus=30, gpus_per_node=4)
    assert plan.peak_gpus == 12 and plan.factor == pytest.approx(2.5) and plan.copies == 3
    jobs = list(demand.philly_jobs(trace, plan, 4, horizon=7201 * 4, tenants=2, seed=1))
    # 4 wraps of the trace x 2.5 copies x 3 jobs ≈ 30 jobs; sizes are whole nodes (8 GPUs = 2 nodes)
    assert 20 <= len(jobs) <= 36
    assert {j.nodes for j in jobs} <= {1, 2}
    assert [j.arrival for j in jobs] == sorted(j.arrival for j in jobs)


def test_streams_are_seeded_and_independent(trace) -> None:  # type: ignore[no-untyped-def]
    plan = demand.philly_plan(trace, "on-demand", 30, 4)
    a = list(demand.philly_jobs(trace, plan, 4, 86400, 2, seed=3))
    b = list(demand.philly_jobs(trace, plan, 4, 86400, 2, seed=3))
    c = list(demand.philly_jobs(trace, plan, 4, 86400, 2, seed=4))
    assert a == b and a != c
    spot = demand.philly_plan(trace, "spot", 30, 4)
    assert list(demand.philly_jobs(trace, spot, 4, 86400, 2, seed=3)) != a


def test_synthetic_offers_its_load() -> None:
    jobs = list(
        itertools.islice(demand.synthetic_jobs("on-demand", 400, 4, 2.0, 4.0, 86400 * 50, 4, 0), 100_000)
    )
    offered = sum(j.nodes * 4 * j.duration for j in jobs) / (86400 * 50)
    assert offered == pytest.approx(demand.SYNTHETIC_LOAD * 400, rel=0.1)


def test_a_bad_trace_names_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "philly.csv"
    p.write_text("timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-01 00:00:00,soon,1,1,a\n")
    with pytest.raises(InvalidInput) as caught:
        read_trace(p)
    assert caught.value.details == {"file": str(p), "line": 2, "field": "duration"}
