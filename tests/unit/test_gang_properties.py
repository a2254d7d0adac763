"""Invariants of gang placement, over random fleets, occupancies and requests."""

import random

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.topology import Level
from neocloud.placement.engine import place
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Placement, Policy
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request
from tests.strategies import fleets

POLICY = Policy("first-fit", standard_filters(), (), tightest_gpus)


requests = st.builds(
    Request,
    gpus=st.integers(1, 8),
    nodes=st.integers(2, 40),
    within=st.one_of(st.none(), st.sampled_from(list(Level))),
)


def occupy(cap: Capacity, seed: int) -> None:
    """Take random whole GPUs on about half the nodes."""
    rng = random.Random(seed)
    for i, gpus in enumerate(cap.fleet.node_gpus.tolist()):
        if gpus and rng.random() < 0.5:
            cap.take((NodeShare(i, tuple(range(rng.randint(1, gpus))), 1000, 0, 0),))


@settings(max_examples=60, deadline=None)
@given(fleets(), requests, st.integers(0, 1000))
def test_a_gang_never_leaves_its_domain(f: Fleet, req: Request, seed: int):
    cap = Capacity(f)
    occupy(cap, seed)
    verdict = place(POLICY, req, cap, random.Random(seed))
    event(f"placed: {isinstance(verdict, Placement)}")
    if not isinstance(verdict, Placement):
        return
    assert verdict.domain is not None
    level, index = verdict.domain
    assert req.within is None or level <= req.within
    assert len(set(verdict.nodes)) == req.nodes
    of = f.topology.domain_of[level]
    assert {int(of[n]) for n in verdict.nodes} == {index}


@settings(max_examples=40, deadline=None)
@given(fleets(), requests, st.integers(0, 1000))
def test_place_then_release_restores_the_state(f: Fleet, req: Request, seed: int):
    cap = Capacity(f)
    occupy(cap, seed)
    before = cap.copy()
    verdict = place(POLICY, req, cap, random.Random(seed))
    event(f"placed: {isinstance(verdict, Placement)}")
    if not isinstance(verdict, Placement):
        return
    cap.take(verdict.shares)
    cap.give_back(verdict.shares)
    assert np.array_equal(cap.gpu_free, before.gpu_free)
    assert np.array_equal(cap.whole_free, before.whole_free)
    assert np.array_equal(cap.cpu_free, before.cpu_free) and np.array_equal(cap.mem_free, before.mem_free)


@settings(max_examples=30, deadline=None)
@given(fleets(), st.lists(requests, min_size=1, max_size=12), st.integers(0, 1000))
def test_a_gpu_is_never_over_committed(f: Fleet, reqs: list[Request], seed: int):
    cap = Capacity(f)
    rng = random.Random(seed)
    for req in reqs:
        verdict = place(POLICY, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)  # raises Conflict on any over-commit
    assert (cap.gpu_free >= 0).all()
    assert (cap.whole_free <= f.node_gpus).all()


@settings(max_examples=60, deadline=None)
@given(fleets(), requests, st.integers(0, 1000))
def test_a_gang_of_72_gpus_or_more_on_gb200_uses_only_racks_that_were_untouched(
    f: Fleet, req: Request, seed: int
):
    cap = Capacity(f)
    occupy(cap, seed)
    untouched = {n.rack for n in f.nodes if n.model == "GB200"} - {
        n.rack for i, n in enumerate(f.nodes) if n.model == "GB200" and cap.whole_free[i] < n.gpus
    }
    verdict = place(POLICY, req, cap, random.Random(seed))
    if not isinstance(verdict, Placement) or req.total_gpus < 72:
        return
    used = {f.nodes[i].rack for i in verdict.nodes if f.nodes[i].model == "GB200"}
    assert used <= untouched


@settings(max_examples=60, deadline=None)
@given(fleets(), requests, st.integers(0, 1000))
def test_no_smaller_domain_could_have_held_the_gang(f: Fleet, req: Request, seed: int):
    """Oracle by brute force, for gangs below NVL72 size (no whole-rack rule): at every level below the
    one the gang landed in, no domain had enough nodes with the GPUs free."""
    cap = Capacity(f)
    occupy(cap, seed)
    verdict = place(POLICY, req, cap, random.Random(seed))
    if not isinstance(verdict, Placement) or req.total_gpus >= 72:
        return
    assert verdict.domain is not None
    for level in Level:
        if level >= verdict.domain[0]:
            break
        free_by_domain: dict[tuple[str, ...], int] = {}
        for i, n in enumerate(f.nodes):
            key = n.path()[level:]
            free_by_domain[key] = free_by_domain.get(key, 0) + int(cap.whole_free[i] >= req.gpus)
        assert max(free_by_domain.values()) < req.nodes
