"""`default`'s rule 7 (`cpu-scarcity`): when the workload asks more CPU than the fleet has by the time
its GPUs are full, plan for FGD's typical shapes and keep no whole node whole; otherwise change nothing."""

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import Capacity
from neocloud.placement.default import RULES, DefaultScore, cpu_binds, neocloud_default
from neocloud.placement.engine import place
from neocloud.placement.fgd import Fragmentation
from neocloud.placement.framework import Placement
from neocloud.placement.request import Request
from neocloud.placement.workload import TYPICAL_COVERAGE, Shape, Workload
from tests.builders import fleet, node

# Half one-GPU pods with 8 CPUs, 47 % CPU-only pods with 16 CPUs, 3 % 8-GPU pods: the typical shapes
# (95 %) leave the 8-GPU one out. 16.9 milli-CPU per milli-GPU: 135 CPUs per 8-GPU node.
_FULL = Workload((Shape(1, 1000, 8_000), Shape(0, 0, 16_000), Shape(8, 1000, 32_000)), (0.5, 0.47, 0.03))
_REQUESTS = [
    Request(gpus=1, cpu_milli=8_000),
    Request(gpus=0, cpu_milli=16_000),
    Request(gpus=8, cpu_milli=32_000),
]


def _fleet(cpu: int):
    return fleet(*[node(f"n{i}", gpus=8, cpu=cpu) for i in range(6)])


def test_cpu_binds_when_the_workload_needs_more_cpu_than_the_fleet_has_at_full_gpu():
    assert _FULL.cpu_per_gpu_milli() == (0.5 * 8_000 + 0.47 * 16_000 + 0.03 * 32_000) / (
        0.5 * 1000 + 0.03 * 8000
    )
    assert cpu_binds(_FULL, _fleet(64_000))  # 135 CPUs needed per node, 64 there
    assert not cpu_binds(_FULL, _fleet(256_000))
    assert not cpu_binds(None, _fleet(64_000))
    assert not cpu_binds(Workload((Shape(1, 1000, 0),), (1.0,)), _fleet(1_000))  # asks no CPU


requests = st.lists(st.sampled_from(_REQUESTS), min_size=1, max_size=30)


def _reference(frag_workload: Workload, rules: frozenset[str]) -> DefaultScore:
    return DefaultScore(Fragmentation(frag_workload), _FULL, rules)


@settings(max_examples=25, deadline=None)
@given(requests, st.sampled_from([64_000, 256_000]), st.integers(0, 2**31))
def test_the_rule_acts_only_when_cpu_binds_and_then_scores_as_the_typical_plan_without_whole_nodes(
    reqs, cpu, seed
):
    f = _fleet(cpu)
    cap, rng = Capacity(f), random.Random(seed)
    policy = neocloud_default(_FULL)
    scorer = policy.scorers[0][0]
    if cpu_binds(_FULL, f):
        expected = _reference(_FULL.covering(TYPICAL_COVERAGE), RULES - {"cpu-scarcity", "whole-nodes"})
    else:
        expected = _reference(_FULL, RULES - {"cpu-scarcity"})
    everywhere = np.arange(len(f.nodes))
    for req in reqs:
        assert np.array_equal(scorer(req, cap, everywhere), expected(req, cap, everywhere))
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)


def test_under_cpu_scarcity_the_plan_differs_from_planning_for_every_shape():
    # The equivalence above could hold vacuously if the two plans scored alike: here they do not.
    f = _fleet(64_000)
    cap = Capacity(f)
    cap.take(place(neocloud_default(_FULL), Request(gpus=1, cpu_milli=8_000), cap, random.Random(0)).shares)
    everywhere = np.arange(len(f.nodes))
    with_rule = neocloud_default(_FULL).scorers[0][0]
    without = neocloud_default(_FULL, RULES - {"cpu-scarcity"}).scorers[0][0]
    req = Request(gpus=1, cpu_milli=8_000)
    assert not np.array_equal(with_rule(req, cap, everywhere), without(req, cap, everywhere))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.builds(
            Request,
            gpus=st.sampled_from([0, 1, 2, 8]),
            cpu_milli=st.sampled_from([1000, 4000, 8000]),
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([0.5, 0.8, 0.95, 1.0]),
)
def test_covering_cuts_a_full_distribution_as_from_requests_cuts_the_requests(reqs, coverage):
    cut = Workload.from_requests(reqs, 1.0).covering(coverage)
    direct = Workload.from_requests(reqs, coverage)
    assert cut.shapes == direct.shapes
    assert np.allclose(cut.weights, direct.weights)


def test_covering_refuses_a_coverage_outside_zero_to_one():
    import pytest

    from neocloud.kernel.errors import InvalidInput

    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(InvalidInput):
            _FULL.covering(bad)
    whole = _FULL.covering(1.0)
    assert whole.shapes == _FULL.shapes and np.allclose(whole.weights, _FULL.weights)
