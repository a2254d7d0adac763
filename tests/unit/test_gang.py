"""Topology-aware gang placement: smallest domain, best fit, `within`, whole NVL72 racks."""

import random
from dataclasses import dataclass

import pytest

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.fleet import Node
from neocloud.fleet.topology import Level
from neocloud.placement import engine
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Placement, Policy, Unschedulable
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request
from tests.builders import fleet, node

POLICY = Policy("first-fit", standard_filters(), (), tightest_gpus)


def nvl72(rack: str, su: str = "su-0", fabric: str = "fabric-0", hall: str = "hall-0") -> list[Node]:
    """One GB200 NVL72 rack: 18 trays of 4 GPUs, one NVLink domain."""
    return [
        node(
            f"{rack}-t{i:02d}",
            model="GB200",
            gpus=4,
            rack=rack,
            nvlink=rack,
            leaf=su,
            su=su,
            fabric=fabric,
            hall=hall,
        )
        for i in range(18)
    ]


def use(cap: Capacity, node_id: str, gpus: int) -> None:
    """Occupy the first `gpus` GPUs of a node."""
    cap.take((NodeShare(cap.fleet.index_of[node_id], tuple(range(gpus)), 1000, 0, 0),))


def place(cap: Capacity, req: Request) -> Placement:
    verdict = engine.place(POLICY, req, cap, random.Random(0))
    assert isinstance(verdict, Placement), verdict
    return verdict


def racks_of(cap: Capacity, p: Placement) -> set[str]:
    return {cap.fleet.nodes[i].rack for i in p.nodes}


def test_a_gang_that_fits_one_nvlink_domain_lands_in_it():
    cap = Capacity(fleet(*nvl72("r1"), *nvl72("r2")))
    p = place(cap, Request(gpus=4, nodes=2))
    assert p.domain is not None and p.domain[0] == Level.NVLINK
    assert len(racks_of(cap, p)) == 1


def test_a_gang_lands_in_the_smallest_level_that_holds_it():
    cap = Capacity(fleet(*(node(f"n{i}", rack=f"r{i // 4}", leaf=f"l{i // 8}") for i in range(16))))
    rack = place(cap, Request(gpus=8, nodes=3)).domain
    leaf = place(cap, Request(gpus=8, nodes=6)).domain
    assert rack is not None and rack[0] == Level.RACK
    assert leaf is not None and leaf[0] == Level.LEAF


def test_among_domains_of_that_level_the_best_fit_wins():
    cap = Capacity(
        fleet(*(node(f"a{i}", rack="ra") for i in range(4)), *(node(f"b{i}", rack="rb") for i in range(4)))
    )
    use(cap, "b0", 8)
    p = place(cap, Request(gpus=8, nodes=3))
    assert racks_of(cap, p) == {"rb"}


def test_a_gang_never_leaves_its_within_domain():
    cap = Capacity(fleet(*(node(f"n{i}", rack=f"r{i // 4}") for i in range(8))))
    verdict = engine.place(POLICY, Request(gpus=8, nodes=5, within=Level.RACK), cap, random.Random(0))
    assert isinstance(verdict, Unschedulable)
    assert "no rack holds 5 nodes" in verdict.message


def test_unschedulable_counts_filter_rejections_and_topology():
    cap = Capacity(
        fleet(node("a", rack="r1"), node("b", rack="r2"), node("t", model="T4", gpus=2, rack="r3"))
    )
    verdict = engine.place(POLICY, Request(gpus=8, nodes=2, within=Level.RACK), cap, random.Random(0))
    assert isinstance(verdict, Unschedulable)
    assert verdict.reasons == {"free-gpus": 1, "topology": 2}


def test_a_72_gpu_gang_takes_a_whole_untouched_nvl72_rack():
    cap = Capacity(fleet(*nvl72("used"), *nvl72("whole")))
    use(cap, "used-t00", 1)
    p = place(cap, Request(gpus=4, nodes=18))
    assert racks_of(cap, p) == {"whole"}


def test_a_72_gpu_gang_does_not_spread_over_partly_used_racks():
    cap = Capacity(fleet(*nvl72("r1"), *nvl72("r2")))
    use(cap, "r1-t00", 1)
    use(cap, "r2-t00", 1)
    verdict = engine.place(POLICY, Request(gpus=4, nodes=18), cap, random.Random(0))
    assert isinstance(verdict, Unschedulable)


def test_a_144_gpu_gang_takes_two_whole_racks_in_one_su():
    cap = Capacity(
        fleet(*nvl72("a1", su="a"), *nvl72("a2", su="a"), *nvl72("b1", su="b"), *nvl72("b2", su="b"))
    )
    use(cap, "a2-t05", 4)
    p = place(cap, Request(gpus=4, nodes=36, within=Level.SU))
    assert racks_of(cap, p) == {"b1", "b2"}


def test_a_gang_between_whole_racks_fills_them_one_after_the_other():
    cap = Capacity(fleet(*nvl72("r1"), *nvl72("r2"), *nvl72("r3")))
    p = place(cap, Request(gpus=4, nodes=25))
    racks = [cap.fleet.nodes[i].rack for i in p.nodes]
    assert sorted(racks.count(r) for r in set(racks)) == [7, 18]


def test_a_small_gang_prefers_a_partly_used_rack_to_the_last_whole_one():
    cap = Capacity(fleet(*nvl72("whole"), *nvl72("used")))
    use(cap, "used-t00", 4)
    use(cap, "used-t01", 4)
    p = place(cap, Request(gpus=4, nodes=16))
    assert racks_of(cap, p) == {"used"}


def test_when_usable_counts_tie_the_rack_with_fewer_untouched_trays_wins():
    cap = Capacity(fleet(*nvl72("whole"), *nvl72("used")))
    for i in range(18):
        use(cap, f"used-t{i:02d}", 1)
    p = place(cap, Request(gpus=3, nodes=16))
    assert racks_of(cap, p) == {"used"}


def test_inside_a_domain_partly_used_nodes_are_filled_first():
    cap = Capacity(fleet(*(node(f"n{i}", rack=f"r{i}") for i in range(5))))
    use(cap, "n1", 4)
    use(cap, "n3", 4)
    p = place(cap, Request(gpus=4, nodes=3))
    names = {cap.fleet.nodes[i].id for i in p.nodes}
    assert {"n1", "n3"} <= names


def test_the_placement_names_the_domain_it_landed_in():
    cap = Capacity(fleet(*nvl72("r1", su="a"), *nvl72("r2", su="b"), *nvl72("r3", su="b")))
    use(cap, "r1-t00", 4)
    p = place(cap, Request(gpus=4, nodes=36))
    assert p.domain == (Level.LEAF, 1)


@pytest.mark.parametrize("within", [Level.NVLINK, Level.SU])
def test_a_single_node_request_with_within_is_placed_as_a_gang(within: Level):
    cap = Capacity(fleet(*nvl72("r1")))
    p = place(cap, Request(gpus=4, nodes=1, within=within))
    assert p.domain == (Level.NVLINK, 0) and len(p.shares) == 1


def test_gang_gpus_are_the_lowest_wholly_free_slots_of_each_node():
    cap = Capacity(fleet(node("a", rack="r", gpus=4), node("b", rack="r", gpus=4)))
    cap.take((NodeShare(0, (0, 2), 1000, 0, 0),))
    p = place(cap, Request(gpus=2, nodes=2))
    assert {s.node: s.gpu_slots for s in p.shares} == {0: (1, 3), 1: (0, 1)}


def test_gang_gpus_come_from_the_policy_picker_when_it_is_not_the_standard_one():
    def last_gpus(req, cap, n, rng):
        return tuple(range(int(cap.fleet.node_gpus[n]) - req.gpus, int(cap.fleet.node_gpus[n])))

    policy = Policy("last", standard_filters(), (), last_gpus)
    cap = Capacity(fleet(node("a", rack="r", gpus=4), node("b", rack="r", gpus=4)))
    verdict = engine.place(policy, Request(gpus=1, nodes=2), cap, random.Random(0))
    assert isinstance(verdict, Placement)
    assert [s.gpu_slots for s in verdict.shares] == [(3,), (3,)]


def test_inside_the_last_nvlink_domain_the_policy_scorers_rank_the_nodes():
    @dataclass(frozen=True)
    class HighestIndex:
        name: str = "highest"

        def __call__(self, req, cap, candidates):
            return candidates.astype(float)

    policy = Policy("highest", standard_filters(), ((HighestIndex(), 1.0),), tightest_gpus)
    cap = Capacity(fleet(*nvl72("r1")))
    verdict = engine.place(policy, Request(gpus=4, nodes=3), cap, random.Random(0))
    assert isinstance(verdict, Placement)
    assert sorted(verdict.nodes) == [15, 16, 17]
