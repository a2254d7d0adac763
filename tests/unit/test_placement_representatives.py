"""Scoring one untouched node per profile gives `default` the same decisions as scoring them all."""

import dataclasses
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import Capacity
from neocloud.placement import search
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement, representatives
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request
from neocloud.placement.workload import Shape, Workload
from tests.builders import fleet, node

requests = st.lists(
    st.one_of(
        st.builds(Request, gpus=st.sampled_from([1, 2, 4, 8]), cpu_milli=st.sampled_from([0, 4000, 16000])),
        st.builds(
            Request, gpus=st.just(1), gpu_milli=st.integers(100, 900), cpu_milli=st.sampled_from([0, 2000])
        ),
        st.builds(Request, gpus=st.just(0), cpu_milli=st.integers(1000, 32000)),
    ),
    min_size=1,
    max_size=40,
)


def _mixed_fleet():
    return fleet(
        *[node(f"a{i}", gpus=8) for i in range(4)],
        *[node(f"t{i}", model="T4", gpus=2, cpu=32_000) for i in range(3)],
        *[node(f"b{i}", gpus=8) for i in range(2)],
        node("v0", model="V100M16", gpus=4),
    )


# A workload that asks CPU of its GPUs, so that the stranded-GPU and stranded-CPU rules act too.
_CPU_WORKLOAD = Workload(
    (Shape(1, 1000, 12_000), Shape(1, 500, 4_000), Shape(8, 1000, 32_000), Shape(0, 0, 8_000)),
    (0.4, 0.3, 0.1, 0.2),
)


@settings(max_examples=40, deadline=None)
@given(requests, st.sampled_from([None, _CPU_WORKLOAD]))
def test_narrowed_default_decides_exactly_like_the_full_scan(reqs, workload):
    f = _mixed_fleet()
    fast, full = Capacity(f), Capacity(f)
    # `default` narrows untouched nodes to one per profile (at 100k nodes a full scan is 6x slower for
    # single-node requests); on this fleet it must decide exactly as the full scan does.
    narrowed = get_policy("default", workload)
    assert narrowed.untouched_interchangeable
    scan_all = dataclasses.replace(get_policy("default", workload), untouched_interchangeable=False)
    for i, req in enumerate(reqs):
        a = place(narrowed, req, fast, random.Random(i))
        b = place(scan_all, req, full, random.Random(i))
        assert type(a) is type(b)
        if isinstance(a, Placement) and isinstance(b, Placement):
            assert a.shares == b.shares
            fast.take(a.shares)
            full.take(b.shares)


def test_representatives_keep_partly_used_nodes_and_the_first_untouched_of_each_profile():
    f = fleet(node("a"), node("b"), node("c"), node("t", model="T4", gpus=2), node("u", model="T4", gpus=2))
    cap = Capacity(f)
    cap.take(place(get_policy("first-fit"), Request(gpus=1), cap, random.Random(0)).shares)  # touches "a"
    kept = representatives(cap, np.ones(5, dtype=np.bool_))
    assert [f.nodes[i].id for i in kept] == ["a", "b", "t"]


@settings(max_examples=60, deadline=None)
@given(requests, st.lists(st.booleans(), min_size=10, max_size=10), st.integers(0, 2**31))
def test_the_one_sort_and_the_mask_per_profile_give_the_same_representatives(reqs, mask, seed):
    # Below search.MIN_NODES nodes `representatives` finds each profile's first untouched node in one
    # pass over the nodes sorted by profile instead of one mask per profile (faster on small fleets
    # such as openb's); both must agree.
    f = _mixed_fleet()
    cap = Capacity(f)
    rng = random.Random(seed)
    for req in reqs:
        verdict = place(get_policy("random"), req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
        feasible = np.asarray(mask, dtype=np.bool_)
        by_sort = representatives(cap, feasible)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(search, "MIN_NODES", 0)  # forces the mask per profile on this 10-node fleet
            by_mask = representatives(cap, feasible)
        assert by_sort.tolist() == by_mask.tolist()
        fresh = feasible & cap.untouched()
        assert set(by_sort.tolist()) >= set(np.flatnonzero(feasible & ~fresh).tolist())
