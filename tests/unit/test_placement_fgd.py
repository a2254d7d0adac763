import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import MILLI, Capacity, NodeShare
from neocloud.placement.engine import place
from neocloud.placement.fgd import Fragmentation, FragmentationGrowth, sigmoid_score
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Placement, explain
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request
from neocloud.placement.workload import Shape, Workload
from tests.builders import capacity, fleet, node


def one(shape: Shape) -> Workload:
    return Workload((shape,), (1.0,))


def frag_of(cap: Capacity, workload: Workload) -> list[float]:
    return Fragmentation(workload).node_fragmentation(cap).tolist()


def test_a_fresh_node_that_fits_the_shape_has_no_fragmentation():
    cap = capacity(node("a", model="T4", gpus=2, cpu=10_000))
    assert frag_of(cap, one(Shape(1, 500, 0))) == [0.0]


def test_a_gpu_left_with_too_little_for_the_shape_is_fragment():
    cap = capacity(node("a", model="T4", gpus=2, cpu=10_000))
    cap.take((NodeShare(0, (0,), 600, 0, 0),))
    assert frag_of(cap, one(Shape(1, 500, 0))) == [400.0]


def test_all_free_gpu_is_fragment_for_cpu_only_shapes():
    cap = capacity(node("a", model="T4", gpus=2))
    assert frag_of(cap, one(Shape(0, 0, 1_000))) == [2_000.0]


def test_all_free_gpu_is_fragment_when_the_model_is_not_allowed():
    cap = capacity(node("a", model="T4", gpus=2))
    assert frag_of(cap, one(Shape(1, 1000, 0, ("A10",)))) == [2_000.0]


def test_all_free_gpu_is_fragment_when_cpu_is_short():
    cap = capacity(node("a", model="T4", gpus=2, cpu=10_000))
    assert frag_of(cap, one(Shape(1, 1000, 20_000))) == [2_000.0]


def test_all_free_gpu_is_fragment_when_too_few_gpus_remain():
    cap = capacity(node("a", gpus=8))
    cap.take((NodeShare(0, (0,), 1000, 0, 0),))
    assert frag_of(cap, one(Shape(8, 1000, 0))) == [7_000.0]


def test_fragmentation_weights_shapes_by_frequency():
    cap = capacity(node("a", model="T4", gpus=2))
    wl = Workload((Shape(1, 1000, 0), Shape(0, 0, 1)), (0.75, 0.25))
    assert frag_of(cap, wl) == [500.0]


def test_cache_stays_exact_through_take_and_give_back():
    cap = capacity(node("a", gpus=8), node("b", model="T4", gpus=2))
    wl = Workload((Shape(1, 300, 0), Shape(2, 1000, 4_000)), (0.5, 0.5))
    frag = Fragmentation(wl)
    frag.node_fragmentation(cap)
    share = (NodeShare(0, (1,), 800, 2_000, 0),)
    cap.take(share)
    assert frag.node_fragmentation(cap).tolist() == frag_of(cap, wl)
    cap.give_back(share)
    assert frag.node_fragmentation(cap).tolist() == frag_of(cap, wl)


def test_sigmoid_score_is_fifty_when_fragmentation_does_not_change():
    assert sigmoid_score(np.array([0.0, -2000.0, 2000.0])).tolist() == [50.0, 88.0, 11.0]


def test_fgd_shares_the_gpu_whose_leftover_was_fragment():
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    cap.take((NodeShare(1, (1,), 500, 0, 0),))
    verdict = place(get_policy("fgd", one(Shape(1, 1000, 0))), Request(gpu_milli=500), cap, random.Random(0))
    assert isinstance(verdict, Placement)
    assert verdict.shares[0].node == 1 and verdict.shares[0].gpu_slots == (1,)


def test_fragmentation_growth_scores_the_exact_decrease_in_gpus():
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    cap.take((NodeShare(1, (1,), 500, 0, 0),))
    scorer = FragmentationGrowth(Fragmentation(one(Shape(1, 1000, 0))))
    assert scorer(Request(gpu_milli=500), cap, np.array([0, 1])).tolist() == [-0.5, 0.5]


def test_fgd_works_without_a_workload():
    cap = capacity(node("a", gpus=8), node("b", gpus=8))
    cap.take((NodeShare(1, (0, 1, 2, 3, 4, 5), 1000, 0, 0),))
    verdict = place(get_policy("fgd"), Request(gpus=2), cap, random.Random(0))
    assert isinstance(verdict, Placement) and verdict.nodes == (1,)


requests = st.builds(
    lambda gpus, milli, cpu: Request(gpus=gpus, gpu_milli=milli if gpus == 1 else MILLI, cpu_milli=cpu),
    st.sampled_from([0, 1, 1, 2, 4]),
    st.sampled_from([100, 250, 500, 750, 1000]),
    st.sampled_from([0, 2_000, 8_000]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(requests, min_size=1, max_size=25), requests, st.integers(0, 2**16))
def test_tentative_fragmentation_matches_measuring_the_state_after(history, probe, seed):
    f = fleet(
        node("a", gpus=8, cpu=32_000),
        node("b", model="T4", gpus=2, cpu=16_000),
        node("c", model="T4", gpus=4),
    )
    cap = Capacity(f)
    wl = Workload.from_requests([*history, probe])
    policy = get_policy("best-fit")
    rng = random.Random(seed)
    for req in history:
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
    feasible, _ = explain(probe, cap, standard_filters())
    candidates = np.flatnonzero(feasible)
    if candidates.size == 0:
        return
    frag = Fragmentation(wl)
    opts = frag.options(probe, cap, candidates)
    before = frag.node_fragmentation(cap)
    for pos, slot, delta in zip(opts.pos, opts.slot, opts.delta, strict=True):
        n = int(candidates[pos])
        trial = cap.copy()
        slots = (
            (int(slot),)
            if probe.shares_gpu
            else tuple(np.flatnonzero(trial.gpu_free[n] == MILLI)[: probe.gpus])
        )
        milli = probe.gpu_milli if probe.gpus else 0
        trial.take((NodeShare(n, slots, milli, probe.cpu_milli, 0),))
        after = Fragmentation(wl).node_fragmentation(trial)
        assert abs((after[n] - before[n]) - delta) < 1e-6


def test_fragmentation_growth_can_leave_requests_that_do_not_share_a_gpu_alone():
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    cap.take((NodeShare(1, (1,), 500, 0, 0),))
    scorer = FragmentationGrowth(Fragmentation(one(Shape(1, 1000, 0))), sharing_only=True)
    assert scorer(Request(gpus=1), cap, np.array([0, 1])).tolist() == [0.0, 0.0]


def test_fragmentation_growth_for_sharing_only_still_scores_sharing_requests():
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    cap.take((NodeShare(1, (1,), 500, 0, 0),))
    scorer = FragmentationGrowth(Fragmentation(one(Shape(1, 1000, 0))), sharing_only=True)
    assert scorer(Request(gpu_milli=500), cap, np.array([0, 1])).tolist() == [-0.5, 0.5]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 2), st.sampled_from([250, 500, 1000])), max_size=12),
    st.integers(0, 10_000),
)
def test_memoised_growth_matches_measuring_afresh(history, seed):
    wl = Workload((Shape(1, 500, 2_000), Shape(2, 1000, 4_000), Shape(0, 0, 8_000)), (0.5, 0.3, 0.2))
    cap = capacity(*(node(f"n{i}", model="T4", gpus=4, cpu=32_000) for i in range(4)))
    frag = Fragmentation(wl)
    rng = random.Random(seed)
    probes = [Request(gpus=1, gpu_milli=500, cpu_milli=2_000), Request(gpus=2, cpu_milli=4_000)]
    for _, gpus, milli in history:
        req = Request(gpus=1, gpu_milli=milli, cpu_milli=1_000) if milli < MILLI else Request(gpus=gpus)
        verdict = place(get_policy("fgd", wl), req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
        for probe in probes:
            feasible, _ = explain(probe, cap, standard_filters())
            cands = np.flatnonzero(feasible)
            if cands.size:
                got = frag.best_growth(probe, cap, cands)
                fresh = Fragmentation(wl).options(probe, cap, cands).best_per_candidate()
                assert np.allclose(got, fresh)


def test_fgd_integer_score_is_the_published_formula_to_the_bit():
    """`sigmoid_score` runs as in-place ufuncs; it must give exactly ⌊100·sigmoid(−Δ/1000)⌋ as written
    with np.clip, including at ±inf, NaN and ±0 and across the clipped range."""
    rng = np.random.default_rng(0)
    for scale in (1.0, 100.0, 1_000.0, 5_000.0, 60_000.0, 1e6):
        delta = rng.normal(0.0, scale, 20_000)
        delta[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
        published = np.floor(100.0 / (1.0 + np.exp(np.clip(delta / 1000, -50, 50))))
        assert sigmoid_score(delta).tobytes() == published.tobytes()
    assert sigmoid_score(np.array([0.0]))[0] == 50.0
