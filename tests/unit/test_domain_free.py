"""The per-domain aggregates and derived masks of `Capacity` always equal a recomputation from the
per-node arrays, whatever sequence of placements and releases came before."""

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.domains import DomainFree
from neocloud.fleet.topology import Level
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request
from tests.builders import fleet, node
from tests.strategies import fleets

whole_requests = st.builds(
    Request,
    gpus=st.integers(1, 8),
    cpu_milli=st.sampled_from([0, 4_000, 32_000]),
    nodes=st.sampled_from([1, 1, 1, 2, 5, 18]),
    within=st.one_of(st.none(), st.sampled_from(list(Level))),
)
sharing_requests = st.builds(Request, gpus=st.just(1), gpu_milli=st.sampled_from([250, 500]))
requests = st.one_of(whole_requests, sharing_requests)


def assert_matches_recount(cap: Capacity) -> None:
    f = cap.fleet
    whole = np.count_nonzero(cap.gpu_free == 1000, axis=1)
    assert np.array_equal(cap.whole_free, whole)
    assert np.array_equal(cap.milli_free, cap.gpu_free.sum(axis=1))
    pristine = whole == f.node_gpus
    untouched = pristine & (cap.cpu_free == f.node_cpu) & (cap.mem_free == f.node_memory)
    partly = ~untouched & (cap.milli_free > 0)
    assert np.array_equal(cap.pristine, pristine)
    assert np.array_equal(cap.untouched(), untouched)
    assert np.array_equal(
        cap.untouched_per_profile(), np.bincount(f.node_profile[untouched], minlength=f.profile_count)
    )
    fresh = DomainFree(f.topology, f.node_gpus, whole, pristine, untouched, partly)
    for level in Level:
        for name in ("nodes_ge", "free_gpus", "pristine", "untouched", "partly"):
            assert np.array_equal(getattr(cap.domains, name)[level], getattr(fresh, name)[level]), (
                level,
                name,
            )
        largest = [
            int(whole[s:e].max())
            for s, e in zip(f.topology.starts[level], f.topology.ends[level], strict=True)
        ]
        assert cap.domains.largest_free(level).tolist() == largest


@settings(max_examples=60, deadline=None)
@given(fleets(), st.lists(st.tuples(requests, st.booleans()), min_size=1, max_size=25), st.integers(0, 2**16))
def test_aggregates_equal_a_recount_after_any_places_and_releases(f, steps, seed):
    cap = Capacity(f)
    assert cap.domains.width > 0  # built on first use, then kept in step incrementally
    rng = random.Random(seed)
    policy = get_policy("default")
    live: list[tuple[NodeShare, ...]] = []
    for req, release in steps:
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
            live.append(verdict.shares)
        if release and live:
            cap.give_back(live.pop(rng.randrange(len(live))))
        assert_matches_recount(cap)
        assert (cap.gpu_free >= 0).all() and (cap.cpu_free >= 0).all() and (cap.mem_free >= 0).all()


@settings(max_examples=40, deadline=None)
@given(fleets(), st.lists(requests, min_size=1, max_size=12), st.integers(0, 2**16))
def test_a_copy_keeps_its_own_aggregates(f, reqs, seed):
    cap = Capacity(f)
    assert cap.domains.width > 0
    rng = random.Random(seed)
    policy = get_policy("first-fit")
    other = cap.copy()
    for req in reqs:
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
    assert_matches_recount(cap)
    assert_matches_recount(other)
    assert other.domains.free_gpus[Level.SITE].tolist() == [f.gpu_count()]


def test_changed_since_names_the_nodes_of_recent_changes_and_falls_back_to_versions():
    cap = Capacity(fleet(*(node(f"n{i}") for i in range(6))))
    start = cap.generation
    cap.take((NodeShare(4, (0,), 1000, 0, 0), NodeShare(1, (0,), 1000, 0, 0)))
    cap.take((NodeShare(2, (1,), 500, 0, 0),))
    assert cap.changed_since(start).tolist() == [1, 2, 4]
    assert cap.changed_since(start + 1).tolist() == [2]
    assert cap.changed_since(cap.generation).size == 0
    for _ in range(100):  # more changes than the log keeps
        cap.take((NodeShare(5, (2,), 1, 0, 0),))
        cap.give_back((NodeShare(5, (2,), 1, 0, 0),))
    assert cap.changed_since(start).tolist() == [1, 2, 4, 5]


def test_recount_rebuilds_after_direct_writes():
    cap = Capacity(fleet(node("a"), node("b")))
    assert cap.domains.width > 0
    cap.gpu_free[0, :3] = 0
    cap.recount()
    assert cap.whole_free.tolist() == [5, 8]
    assert_matches_recount(cap)
