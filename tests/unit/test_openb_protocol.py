import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.bench import openb as bench
from neocloud.fleet.capacity import Capacity
from neocloud.kernel.errors import InvalidInput
from neocloud.placement.policies import POLICY_NAMES
from neocloud.placement.request import Request
from tests.openb_fixture import write


@given(
    st.lists(st.integers(0, 8000), min_size=1, max_size=50).filter(any),
    st.integers(1, 100_000),
    st.integers(0, 99),
)
def test_arrivals_are_every_pod_then_draws_up_to_the_inflated_capacity(gpu, capacity, seed):
    order = bench.arrival_order(gpu, capacity, seed)
    assert sorted(order[: len(gpu)]) == list(range(len(gpu)))
    if len(order) > len(gpu):
        assert sum(gpu[i] for i in order) <= bench.INFLATION * capacity


def test_a_pod_list_without_gpu_requests_is_refused():
    with pytest.raises(InvalidInput, match="no GPU"):
        bench.arrival_order([0, 0], 1000, 1)


def test_arrival_order_depends_only_on_the_seed():
    gpu = [1000, 500, 0, 2000] * 5
    assert bench.arrival_order(gpu, 10_000, 42) == bench.arrival_order(gpu, 10_000, 42)
    assert bench.arrival_order(gpu, 10_000, 42) != bench.arrival_order(gpu, 10_000, 43)


def test_unallocated_is_read_at_the_pods_whose_arrival_rounds_to_100():
    arrived = np.array([98.0, 99.6, 100.2, 100.4, 101.0])
    allocated = np.array([90.0, 91.0, 93.0, 95.0, 95.0])
    assert bench.unallocated_at(arrived, allocated) == pytest.approx(100 - (91 + 93 + 95) / 3)


def test_unallocated_widens_to_one_point_when_no_pod_rounds_exactly():
    arrived = np.array([98.0, 99.0, 102.0])
    allocated = np.array([90.0, 92.0, 95.0])
    assert bench.unallocated_at(arrived, allocated) == pytest.approx(8.0)


def test_unallocated_interpolates_when_arrivals_jump_over_100():
    arrived = np.array([90.0, 110.0])
    allocated = np.array([80.0, 90.0])
    assert bench.unallocated_at(arrived, allocated) == pytest.approx(15.0)


def test_unallocated_refuses_a_run_that_never_arrives_at_100():
    with pytest.raises(InvalidInput):
        bench.unallocated_at(np.array([10.0, 20.0]), np.array([10.0, 20.0]))


@pytest.mark.parametrize(("text", "seeds"), [("42-44", (42, 43, 44)), ("42,50", (42, 50)), ("7", (7,))])
def test_seeds_parse_as_ranges_and_lists(text, seeds):
    assert bench.parse_seeds(text) == seeds


def test_bad_seeds_are_refused():
    with pytest.raises(InvalidInput, match="seeds"):
        bench.parse_seeds("42-x")


def test_all_names_every_policy():
    assert bench.parse_policies("all") == POLICY_NAMES


def test_an_unknown_policy_is_refused_before_running():
    with pytest.raises(InvalidInput, match="unknown placement policy"):
        bench.parse_policies("best-fit,nope")


def test_run_openb_scores_each_policy_over_each_seed(tmp_path):
    result = bench.run_openb(write(tmp_path), policy_names=("best-fit", "fgd"), seeds=(1, 2))
    assert result.workload == "tiny" and [r.policy for r in result.results] == ["best-fit", "fgd"]
    assert all(len(r.runs) == 2 and 0 <= r.mean <= 100 for r in result.results)


def test_every_pod_is_placed_or_skipped(tmp_path):
    result = bench.run_openb(write(tmp_path), policy_names=("default",), seeds=(3,))
    run = result.results[0].runs[0]
    assert run.placed + run.skipped == len(run.arrived_pct)
    assert np.all(np.diff(run.allocated_pct) >= 0) and np.all(run.allocated_pct <= run.arrived_pct + 1e-9)


def test_published_figures_are_attached_for_known_workloads(tmp_path):
    result = bench.run_openb(
        write(tmp_path, stem="openb_pod_list_default"), policy_names=("fgd", "default"), seeds=(1,)
    )
    assert result.results[0].published == (4.77, 0.11) and result.results[1].published is None


def test_a_missing_pod_list_is_named(tmp_path):
    with pytest.raises(InvalidInput, match="not found"):
        bench.run_openb(tmp_path / "none.csv")


def test_ties_go_to_the_first_node_of_one_seeded_order_as_in_the_artifact():
    from neocloud.bench.openb_ties import artifact_node_order, with_artifact_ties
    from neocloud.placement.policies import get_policy
    from tests.builders import fleet, node

    f = fleet(*(node(f"n{i}", gpus=8) for i in range(6)))
    order = artifact_node_order(f, 42)
    assert sorted(order.tolist()) == list(range(6))
    assert order.tolist() == artifact_node_order(f, 42).tolist()
    assert order.tolist() != artifact_node_order(f, 43).tolist()
    policy = with_artifact_ties(get_policy("best-fit"), f, 42)
    cap = Capacity(f)
    verdict = policy.place_node(Request(gpus=1), cap, random.Random(0))
    assert verdict.nodes == (int(np.argmin(order)),)  # all six tie on an empty fleet
    assert with_artifact_ties(get_policy("random"), f, 42).tie_order is None


def test_default_plans_for_every_shape_of_the_list_and_fgd_for_the_typical_ones():
    from neocloud.bench.openb_ties import planned_policy
    from neocloud.placement.workload import Shape, Workload
    from neocloud.traces.openb import OpenbPod

    pods = [OpenbPod(f"p{i}", Request(gpus=1, cpu_milli=4000)) for i in range(99)]
    rare = OpenbPod("big", Request(gpus=8, cpu_milli=32_000))  # 1 % of the pods, 7.5 % of the GPU
    pods.append(rare)
    typical = Workload.from_requests(p.request for p in pods)
    assert Shape.of(rare.request) not in typical.shapes
    for name, plans_for_rare in (("default", True), ("fgd", False)):
        frag = planned_policy(name, pods, typical).extra["fragmentation"]
        assert (Shape.of(rare.request) in frag.workload.shapes) is plans_for_rare
