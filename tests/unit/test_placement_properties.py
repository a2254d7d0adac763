"""Invariants every policy keeps, under any sequence of requests."""

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.policies import POLICY_NAMES, get_policy
from neocloud.placement.request import Request
from tests.builders import fleet, node

requests = st.builds(
    lambda gpus, milli, cpu, mem, t4: Request(
        gpus=gpus,
        gpu_milli=milli if gpus == 1 else MILLI,
        cpu_milli=cpu,
        memory_mib=mem,
        models=frozenset({"T4"}) if t4 else None,
    ),
    st.sampled_from([0, 1, 1, 1, 2, 4, 8]),
    st.sampled_from([50, 300, 500, 810, 1000]),
    st.sampled_from([0, 4_000, 16_000]),
    st.sampled_from([0, 8_192, 65_536]),
    st.booleans(),
)


def small_fleet():
    return fleet(
        node("a", gpus=8, cpu=64_000, mem=262_144),
        node("b", model="T4", gpus=2, cpu=32_000, mem=131_072),
        node("c", model="T4", gpus=4, cpu=48_000, mem=131_072),
        node("d", model="A10", gpus=1, cpu=16_000, mem=65_536),
    )


def run(name: str, reqs: list[Request], seed: int) -> tuple[Capacity, list[Placement]]:
    cap = Capacity(small_fleet())
    policy = get_policy(name)
    rng = random.Random(seed)
    placed = []
    for req in reqs:
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
            placed.append(verdict)
    return cap, placed


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(POLICY_NAMES), st.lists(requests, max_size=40), st.integers(0, 2**16))
def test_no_gpu_cpu_or_memory_is_ever_over_committed(name, reqs, seed):
    cap, _ = run(name, reqs, seed)
    assert (cap.gpu_free >= 0).all() and (cap.gpu_free <= MILLI).all()
    assert (cap.cpu_free >= 0).all() and (cap.mem_free >= 0).all()


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(POLICY_NAMES), st.lists(requests, max_size=40), st.integers(0, 2**16))
def test_releasing_every_placement_restores_the_exact_initial_state(name, reqs, seed):
    cap, placed = run(name, reqs, seed)
    fresh = Capacity(cap.fleet)
    for p in reversed(placed):
        cap.give_back(p.shares)
    for field in ("gpu_free", "cpu_free", "mem_free", "whole_free", "milli_free"):
        assert np.array_equal(getattr(cap, field), getattr(fresh, field))


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(POLICY_NAMES), st.lists(requests, max_size=30), requests, st.integers(0, 2**16))
def test_place_then_release_restores_the_state_before(name, reqs, last, seed):
    cap, _ = run(name, reqs, seed)
    before = cap.copy()
    verdict = place(get_policy(name), last, cap, random.Random(seed))
    if isinstance(verdict, Placement):
        cap.take(verdict.shares)
        cap.give_back(verdict.shares)
    for field in ("gpu_free", "cpu_free", "mem_free", "whole_free", "milli_free"):
        assert np.array_equal(getattr(cap, field), getattr(before, field))
