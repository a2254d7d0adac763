"""The aggregate-driven searches (single-node candidates from `Capacity.domains`, gang filters on the
nodes with enough free GPUs only) decide exactly as the full pass over every node does: on a seeded
mixed workload the placements are the same, valid, and so exactly as local."""

import random

import numpy as np
import pytest

from neocloud.bench.scale import request_mix
from neocloud.fleet import presets
from neocloud.fleet.capacity import MILLI, Capacity, NodeShare
from neocloud.fleet.topology import Level
from neocloud.placement import gang, search
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement, representatives
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request

MODES = {
    # single-node search, gang filters on the nodes with free GPUs only, kept gang masks
    "subset": (0, 0, True),
    "kept": (0, 10**12, True),
    "full": (10**12, 10**12, False),  # every filter over every node, every time
}


def replay(
    fleet_name: str, params: dict[str, int], mode: str, monkeypatch: pytest.MonkeyPatch, seed: int = 7
):
    """Place a seeded mix (with releases) until 90 % allocated; the verdicts and the final state."""
    min_nodes, subset_share, keep = MODES[mode]
    monkeypatch.setattr(search, "MIN_NODES", min_nodes)
    monkeypatch.setattr(gang, "SUBSET_SHARE", subset_share)
    monkeypatch.setattr(search, "KEEP_MASKS", keep)
    fleet = presets.build(fleet_name, **params)
    cap = Capacity(fleet)
    policy = get_policy("default")
    shapes = request_mix(fleet)
    arrivals, choices, departures = (
        random.Random(f"{seed}:a"),
        random.Random(f"{seed}:p"),
        random.Random(f"{seed}:r"),
    )
    live: list[tuple[NodeShare, ...]] = []
    verdicts = []
    total = fleet.gpu_count() * MILLI
    for _ in range(3000):
        if cap.allocated_milli() >= 0.9 * total:
            break
        shape = arrivals.choices(shapes, [s.weight for s in shapes])[0]
        verdict = place(policy, shape.request, cap, choices)
        verdicts.append((shape.label, verdict))
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)  # raises Conflict on any over-commit
            live.append(verdict.shares)
        if live and departures.random() < 0.2:
            cap.give_back(live.pop(departures.randrange(len(live))))
    return verdicts, cap


@pytest.mark.parametrize("mode", ["subset", "kept"])
@pytest.mark.parametrize(("name", "params"), [("gb200-superpod", {"sus": 8}), ("h100-su", {"sus": 4})])
def test_fast_and_full_passes_place_a_seeded_workload_identically(name, params, mode, monkeypatch):
    fast, fast_cap = replay(name, params, mode, monkeypatch)
    full, full_cap = replay(name, params, "full", monkeypatch)
    assert len(fast) == len(full) > 30
    assert [(label, v) for label, v in fast] == [(label, v) for label, v in full]
    assert np.array_equal(fast_cap.gpu_free, full_cap.gpu_free)
    gangs = [v for label, v in fast if isinstance(v, Placement) and v.domain is not None]
    assert gangs, "the mix has gangs"


def test_every_gang_of_the_seeded_workload_lies_inside_its_domain_and_level(monkeypatch):
    verdicts, cap = replay("gb200-superpod", {"sus": 4}, "kept", monkeypatch)
    topo = cap.fleet.topology
    shapes = {s.label: s.request for s in request_mix(cap.fleet)}
    for label, v in verdicts:
        if not isinstance(v, Placement) or v.domain is None:
            continue
        level, d = v.domain
        req = shapes[label]
        assert req.within is None or level <= req.within
        nodes = np.array(v.nodes)
        assert len(set(v.nodes)) == req.nodes
        assert (topo.domain_of[level][nodes] == d).all()
    assert (cap.gpu_free >= 0).all() and (cap.gpu_free <= MILLI).all()


@pytest.mark.parametrize("seed", range(5))
def test_single_node_candidates_equal_the_representatives_of_the_full_mask(seed, monkeypatch):
    monkeypatch.setattr(search, "MIN_NODES", 0)
    fleet = presets.build("demo", gb200_racks=4, h100_sus=1)
    cap = Capacity(fleet)
    rng = random.Random(seed)
    policy = get_policy("first-fit")
    for _ in range(60):
        req = Request(gpus=rng.choice([1, 2, 4, 8]))
        v = place(policy, req, cap, rng)
        if isinstance(v, Placement):
            cap.take(v.shares)
    cap.schedulable[rng.randrange(len(fleet.nodes))] = False  # a cordoned node is never a candidate
    default = get_policy("default")
    for req in (
        Request(gpus=1),
        Request(gpus=4),
        Request(gpus=8),
        Request(gpus=1, gpu_milli=300),
        Request(gpus=2, cpu_milli=8_000),
    ):
        feasible = np.ones(len(fleet.nodes), dtype=np.bool_)
        for f in default.filters:
            feasible &= f(req, cap)
        found = search.candidates(default.filters, req, cap)
        assert found is not None
        assert found.tolist() == representatives(cap, feasible).tolist()


def test_gangs_still_land_in_the_smallest_domain_on_an_empty_fleet():
    fleet = presets.build("gb200-superpod", sus=4)
    cap = Capacity(fleet)
    policy = get_policy("default")
    v = place(policy, Request(gpus=4, nodes=18, within=Level.NVLINK), cap, random.Random(0))
    assert isinstance(v, Placement) and v.domain is not None and v.domain[0] == Level.NVLINK
    v = place(policy, Request(gpus=4, nodes=36, within=Level.SU), cap, random.Random(0))
    assert isinstance(v, Placement) and v.domain is not None and v.domain[0] <= Level.LEAF
