import random

import numpy as np
import pytest

from neocloud.fleet.capacity import NodeShare
from neocloud.kernel.errors import InvalidInput
from neocloud.placement import engine
from neocloud.placement.framework import Placement, Unschedulable
from neocloud.placement.policies import POLICY_NAMES, get_policy
from neocloud.placement.request import Request
from neocloud.placement.workload import Shape, Workload
from tests.builders import capacity, node


def place(name: str, req: Request, cap, seed: int = 0) -> Placement:
    verdict = engine.place(get_policy(name), req, cap, random.Random(seed))
    assert isinstance(verdict, Placement)
    return verdict


def test_the_registry_names_every_policy():
    assert set(POLICY_NAMES) == {
        "random",
        "first-fit",
        "best-fit",
        "dot-product",
        "gpu-packing",
        "gpu-clustering",
        "fgd",
        "default",
    }


def test_an_unknown_policy_name_lists_the_known_ones():
    with pytest.raises(InvalidInput) as err:
        get_policy("tetris")
    assert err.value.details["known"] == list(POLICY_NAMES)


def test_policy_names_are_case_insensitive():
    assert get_policy("Best-Fit").name == "best-fit"


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_places_a_request_where_it_fits(name):
    cap = capacity(node("a", model="T4", gpus=2), node("b", gpus=8))
    verdict = place(name, Request(gpus=4), cap)
    assert verdict.nodes == (1,) and len(verdict.shares[0].gpu_slots) == 4


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_explains_an_unschedulable_request(name):
    cap = capacity(node("a", gpus=8), node("b", model="T4", gpus=2))
    verdict = engine.place(get_policy(name), Request(gpus=4, models=frozenset({"T4"})), cap, random.Random(0))
    assert isinstance(verdict, Unschedulable)
    assert verdict.reasons == {"gpu-model": 1, "free-gpus": 1}


def test_random_spreads_over_every_node_that_fits():
    cap = capacity(node("a"), node("b"), node("c"))
    assert {place("random", Request(gpus=1), cap, seed).nodes[0] for seed in range(40)} == {0, 1, 2}


def test_random_shares_a_random_gpu_among_those_that_fit():
    cap = capacity(node("a", gpus=4))
    cap.take((NodeShare(0, (1,), 800, 0, 0),))
    slots = {place("random", Request(gpu_milli=500), cap, seed).shares[0].gpu_slots for seed in range(40)}
    assert slots == {(0,), (2,), (3,)}


def test_first_fit_takes_the_first_node_and_its_first_gpus():
    cap = capacity(node("a"), node("b"))
    cap.take((NodeShare(0, (0,), 1000, 0, 0),))
    verdict = place("first-fit", Request(gpus=2), cap)
    assert verdict.nodes == (0,) and verdict.shares[0].gpu_slots == (1, 2)


def test_best_fit_shares_the_fullest_gpu_that_fits():
    cap = capacity(node("a", gpus=2))
    cap.take((NodeShare(0, (0,), 300, 0, 0), NodeShare(0, (1,), 600, 0, 0)))
    assert place("best-fit", Request(gpu_milli=350), cap).shares[0].gpu_slots == (1,)


def test_default_keeps_a_whole_node_whole_when_a_used_one_fits():
    cap = capacity(node("a"), node("b"), node("c"))
    cap.take((NodeShare(1, (0, 1, 2), 1000, 0, 0),))
    assert {place("default", Request(gpus=1), cap, seed).nodes[0] for seed in range(10)} == {1}


def test_default_puts_cpu_only_requests_where_the_gpus_need_no_cpu():
    cap = capacity(node("a", cpu=64_000), node("b", cpu=64_000))
    cap.take((NodeShare(1, tuple(range(8)), 1000, 0, 0),))
    policy = get_policy("default", Workload((Shape(1, 1000, 8_000),), (1.0,)))
    verdict = engine.place(policy, Request(gpus=0, cpu_milli=4_000), cap, random.Random(0))
    assert isinstance(verdict, Placement) and verdict.nodes == (1,)


def test_default_shares_the_fullest_gpu_that_fits():
    cap = capacity(node("a", gpus=2))
    cap.take((NodeShare(0, (0,), 300, 0, 0), NodeShare(0, (1,), 600, 0, 0)))
    assert place("default", Request(gpu_milli=350), cap).shares[0].gpu_slots == (1,)


def test_default_fills_nodes_in_one_hashed_order_among_those_fgd_finds_equal():
    from neocloud.placement.scorers import SpreadOrder

    cap = capacity(node("a"), node("b"), node("c"))
    cap.take((NodeShare(1, (0,), 1000, 0, 0), NodeShare(2, (0,), 1000, 0, 0)))
    chosen = {place("default", Request(gpus=1), cap, seed).nodes[0] for seed in range(10)}
    rank = SpreadOrder()(Request(gpus=1), cap, np.array([1, 2]))
    assert chosen == {1 + int(np.argmax(rank))}  # the same partly used node, whatever the seed


def test_spread_order_interleaves_kinds_of_node_and_keeps_the_listing_within_a_kind():
    from neocloud.placement.scorers import SpreadOrder

    nodes = [node(f"a{i}", gpus=8) for i in range(4)] + [node(f"b{i}", gpus=2) for i in range(4)]
    cap = capacity(*nodes)
    rank = SpreadOrder()(Request(gpus=1), cap, np.arange(8))
    order = np.argsort(-rank).tolist()
    assert sorted(order) == list(range(8))
    assert [i for i in order if i < 4] == [0, 1, 2, 3] and [i for i in order if i >= 4] == [4, 5, 6, 7]
    assert {order[0], order[1]} == {0, 4}  # the first of each kind come first, interleaved


def test_fgd_prefers_keeping_room_for_larger_typical_requests():
    cap = capacity(node("a"), node("b"))
    cap.take((NodeShare(0, (0, 1), 1000, 0, 0), NodeShare(1, (0, 1, 2, 3), 1000, 0, 0)))
    assert place("fgd", Request(gpus=2), cap).nodes == (0,)


def _cpu_hungry_workload() -> Workload:
    return Workload((Shape(1, 1000, 8_000),), (1.0,))  # 8 CPUs per GPU


@pytest.mark.parametrize("rich_first", [True, False])
def test_default_keeps_cpu_hungry_work_off_a_node_whose_gpus_need_that_cpu(rich_first):
    # Both nodes are partly used and host the typical shape afterwards, so FGD's score ties; on the
    # lean node (64 CPUs for 7 free GPUs) 32 CPUs would leave 4 GPUs without the CPU they need.
    lean, rich = node("lean", cpu=64_000), node("rich", cpu=256_000)
    cap = capacity(*((rich, lean) if rich_first else (lean, rich)))
    rich_at = 0 if rich_first else 1
    cap.take((NodeShare(0, (0,), 1000, 0, 0), NodeShare(1, (0,), 1000, 0, 0)))
    policy = get_policy("default", _cpu_hungry_workload())
    verdict = engine.place(policy, Request(gpus=1, cpu_milli=32_000), cap, random.Random(0))
    assert isinstance(verdict, Placement) and verdict.nodes == (rich_at,)


def test_without_the_stranding_rule_the_lean_node_is_not_avoided():
    from neocloud.placement.default import RULES, neocloud_default

    lean, rich = node("lean", cpu=64_000), node("rich", cpu=256_000)
    picks = set()
    for nodes in ((lean, rich), (rich, lean)):
        cap = capacity(*nodes)
        cap.take((NodeShare(0, (0,), 1000, 0, 0), NodeShare(1, (0,), 1000, 0, 0)))
        policy = neocloud_default(_cpu_hungry_workload(), RULES - {"stranded-gpus"})
        verdict = engine.place(policy, Request(gpus=1, cpu_milli=32_000), cap, random.Random(0))
        assert isinstance(verdict, Placement)
        picks.add(cap.fleet.nodes[verdict.nodes[0]].id)
    assert "lean" in picks  # the tie then goes by node order alone


def test_default_plans_for_every_shape_and_the_baselines_for_the_typical_ones():
    assert get_policy("default").extra["planning_coverage"] == 1.0
    assert "planning_coverage" not in get_policy("fgd").extra


def test_default_counts_no_stranded_gpus_when_requests_are_bound_to_gpu_models():
    from neocloud.placement.default import DefaultScore
    from neocloud.placement.fgd import Fragmentation

    bound = Workload((Shape(1, 1000, 8_000), Shape(1, 1000, 8_000, ("T4",))), (0.5, 0.5))
    free = Workload((Shape(1, 1000, 8_000),), (1.0,))
    assert DefaultScore(Fragmentation(bound), bound, frozenset({"stranded-gpus"})).stranded is None
    assert DefaultScore(Fragmentation(free), free, frozenset({"stranded-gpus"})).stranded is not None
