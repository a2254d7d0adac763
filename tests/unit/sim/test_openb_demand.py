"""openb pod lists as demand: arrivals at creation, departures at deletion, whole-node sizes by what the
fleet sells, CPU-only pods left out, Philly's scaling rule; scenario errors name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from neocloud.kernel.errors import InvalidInput
from neocloud.sim import demand, openb_demand
from neocloud.sim.model import Model
from neocloud.sim.run import run_scenario
from neocloud.sim.scenarios import parse

HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
PODS = [
    "p0,8000,16384,1,1000,,LS,Running,1000,4600,1000",  # a whole GPU for an hour
    "p1,4000,8192,1,250,,BE,Running,1800,2400,1800",  # a quarter GPU, 10 minutes
    "p2,32000,65536,8,1000,,LS,Running,2000,9200,2000",  # 8 GPUs, 2 hours
    "p3,2000,4096,0,0,,BE,Running,1500,1600,1500",  # CPU only
    "p4,4000,8192,1,500,V100M16,BE,Running,1000,1000,1000",  # deleted when created: one second
]


@pytest.fixture
def pod_dir(tmp_path: Path) -> Path:
    (tmp_path / "openb_pod_list_slice.csv").write_text(HEADER + "\n".join(PODS) + "\n")
    (tmp_path / "openb_pod_list_notimes.csv").write_text(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1024,1,1000\n"
    )
    return tmp_path


def scenario(pod_dir: Path, **demand_fields: object) -> dict[str, object]:
    return {
        "name": "openb-slice",
        "days": 1,
        "engine": "pooled",
        "fleet": {"preset": "demo", "params": {"gb200_racks": 2, "h100_sus": 0}},  # 36 trays x 4 GPUs
        "demand": {
            "source": "openb",
            "trace": str(pod_dir),
            "workload": "slice",
            "on_demand": {"share": 0.25, "max_wait_hours": 1},
            **demand_fields,
        },
        "failures": {"per_gpu_day": 0, "spare_share": 0},
    }


def test_pods_become_jobs_at_creation_until_deletion(pod_dir: Path) -> None:
    trace = openb_demand.read_trace(pod_dir, "slice")
    # CPU-only p3 left out; times from the first creation (1000); a quarter GPU rounds up to one GPU
    assert [(j.submit_s, j.duration_s, j.gpus) for j in trace.jobs] == [
        (0, 3600, 1),
        (0, 1, 1),
        (800, 600, 1),
        (1000, 7200, 8),
    ]
    assert trace.span_s == 1000
    # rounded to 4-GPU trays, 800-1000 s: p0 (4) + p1 (4) run; 1000-1400 s: p0 + p1 + p2 (8) = 16
    assert trace.peak_concurrent(4) == 16
    assert trace.peak_concurrent(1) == 10


def test_the_scaling_rule_is_phillys(pod_dir: Path) -> None:
    s = parse(scenario(pod_dir))
    m = Model(s, seed=0)
    (plan, _) = m.plans
    # G = 25 % of 144 GPUs = 36; P = 16 on trays: f = 36 / 16 = 2.25, three copies, the last thinned
    assert (plan.share_gpus, plan.peak_gpus, plan.copies) == (36, 16, 3)
    assert plan.factor == pytest.approx(2.25)
    jobs = list(m.jobs(1))
    # each copy replays the four GPU pods (the third keeps each with p = 0.25) in every window of the
    # list's span (1,001 s), so over the day: 87 windows of 8 to 12 jobs; sizes are whole trays
    first = [j for j in jobs if j.arrival < 1001]
    assert 8 <= len(first) <= 12 and 86 * 8 <= len(jobs) <= 87 * 12
    assert {j.nodes for j in jobs} <= {1, 2} and {j.duration for j in jobs} <= {3600, 1, 600, 7200}
    assert all(0 <= j.arrival < 86400 for j in jobs)
    assert [j.arrival for j in jobs] == sorted(j.arrival for j in jobs)
    assert list(m.jobs(1)) == jobs  # seeded
    assert plan == demand.philly_plan(m._trace, "on-demand", 36, 4)


def test_an_openb_scenario_runs_on_both_engines(pod_dir: Path) -> None:
    s = parse(scenario(pod_dir))
    pooled = run_scenario(s)
    exact = run_scenario(s, engine="exact")
    assert pooled.extra["on-demand_completed"] > 0
    assert pooled.extra["on-demand_openb_factor"] == pytest.approx(2.25)
    assert pooled.utilisation_by_product == exact.utilisation_by_product
    assert pooled.revenue_by_product == exact.revenue_by_product


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"workload": "nope"}, "demand.workload", "known: notimes, slice"),
        ({"workload": "../etc"}, "demand.workload", "pod list's name"),
        ({"workload": 7}, "demand.workload", "non-empty string"),
        ({"trace": "/nonexistent/openb"}, "demand.trace", "not found"),
    ],
)
def test_scenario_errors_name_the_field(
    pod_dir: Path, fields: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        parse(scenario(pod_dir, **fields))
    assert err.value.details["field"] == field and words in err.value.message


def test_a_workload_is_only_for_openb(pod_dir: Path) -> None:
    raw = scenario(pod_dir)
    raw["demand"] = {"source": "synthetic", "workload": "default", "on_demand": {"share": 0.2}}
    with pytest.raises(InvalidInput) as err:
        parse(raw)
    assert err.value.details["field"] == "demand.workload"


def test_a_pod_list_without_times_cannot_give_arrivals(pod_dir: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        openb_demand.read_trace(pod_dir, "notimes")
    assert err.value.details["field"] == "demand.workload" and "creation_time" in err.value.message


def test_the_shared_default_list_replays() -> None:
    """The real default list from ../shared/data/openb (as make test has it beside the clone)."""
    shared = openb_demand.default_dir()
    assert shared is not None, "../shared/data/openb is missing (NEOCLOUD_OPENB)"
    trace = openb_demand.read_trace(shared, "default")
    # 8,152 pods less 1,088 CPU-only ones; rounded to 4-GPU trays the list peaks at 216 GPUs
    assert len(trace.jobs) == 7064 and trace.peak_concurrent(4) == 216
    raw = scenario(shared)
    raw["days"] = 60  # the list's pods are created mostly in its last 40 of 149 days
    raw["demand"] = {**raw["demand"], "workload": "default"}  # type: ignore[dict-item]
    r = run_scenario(parse(raw))
    assert r.extra["on-demand_completed"] > 50 and r.utilisation_by_product["on-demand"] > 0
