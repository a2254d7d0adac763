"""Every cache the placement hot path keeps in step with a `Capacity` equals a full recomputation, and
the decisions reached through them equal those of the plain full pass, after any random sequence of
placements and releases.

The caches: the per-domain aggregates (large updates are summed level by level, small ones at once:
both are exercised), FGD's per-node rows (refreshed when read and stale), the gang feasible masks
kept per member demand, and the single-node search from the aggregates (forced on here, although it
only starts at `search.MIN_NODES` nodes in production)."""

from __future__ import annotations

import random
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet import domains as domains_module
from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.topology import Level
from neocloud.placement import search
from neocloud.placement.engine import place
from neocloud.placement.fgd import Fragmentation
from neocloud.placement.framework import Placement, Verdict
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request
from neocloud.placement.workload import Shape, Workload
from tests.strategies import fleets
from tests.unit.test_domain_free import assert_matches_recount

SHARING = Workload(
    (Shape(1, 250, 0), Shape(1, 500, 2_000), Shape(2, 1000, 4_000), Shape(4, 1000, 0)), (0.3, 0.3, 0.2, 0.2)
)

whole = st.builds(
    Request,
    gpus=st.sampled_from([1, 2, 4, 8]),
    cpu_milli=st.sampled_from([0, 0, 4_000]),
    nodes=st.sampled_from([1, 1, 1, 2, 18, 36, 54]),  # up to three GB200 racks: updates of > 32 nodes
    within=st.one_of(st.none(), st.sampled_from([Level.NVLINK, Level.SU, Level.HALL])),
)
sharing = st.builds(
    Request, gpus=st.just(1), gpu_milli=st.sampled_from([250, 500]), cpu_milli=st.sampled_from([0, 2_000])
)
cpu_only = st.builds(Request, gpus=st.just(0), cpu_milli=st.sampled_from([1_000, 8_000]))
requests = st.one_of(whole, whole, sharing, cpu_only)
steps = st.lists(st.tuples(requests, st.booleans()), min_size=1, max_size=30)


def fresh_fragmentation(frag: Fragmentation, cap: Capacity) -> Fragmentation:
    other = Fragmentation(frag.workload)
    other.sync(cap.copy())
    return other


def assert_fragmentation_exact(frag: Fragmentation, cap: Capacity) -> None:
    """Rows the cache holds as current equal a recomputation; after a full sync, all of them do."""
    if frag.fleet is None:
        return
    ref = fresh_fragmentation(frag, cap)
    current = frag._seen >= cap.version
    for name in ("total", "cnt", "high", "frag"):
        assert np.array_equal(getattr(frag, name)[current], getattr(ref, name)[current]), name
    frag.sync(cap)
    for name in ("total", "cnt", "high", "frag"):
        assert np.array_equal(getattr(frag, name), getattr(ref, name)), name


def assert_kept_masks_exact(policy_filters: tuple[object, ...], req: Request, cap: Capacity) -> None:
    kept = search.feasible_kept(policy_filters, req, cap, Level.NVLINK)
    assert kept is not None
    mask = np.ones(len(cap.cpu_free), dtype=np.bool_)
    for f in policy_filters:
        mask &= f(req, cap)  # type: ignore[operator]
    counts = np.add.reduceat(mask.view(np.uint8), cap.fleet.topology.starts[Level.NVLINK], dtype=np.int64)
    assert np.array_equal(kept[0], mask)
    assert np.array_equal(kept[1], counts)


def reference(name: str, workload: Workload | None, req: Request, cap: Capacity, seed: int) -> Verdict:
    """The decision of a fresh policy on a copy, by the full pass: no search, no kept masks."""
    with mock.patch.object(search, "MIN_NODES", 10**9), mock.patch.object(search, "KEEP_MASKS", False):
        return place(get_policy(name, workload), req, cap.copy(), random.Random(seed))


def same(a: Verdict, b: Verdict) -> bool:
    if isinstance(a, Placement) and isinstance(b, Placement):
        return (a.shares, a.domain) == (b.shares, b.domain)
    return not isinstance(a, Placement) and not isinstance(b, Placement)


def run(name: str, workload: Workload | None, f, plan, seed: int, few: int) -> None:  # type: ignore[no-untyped-def]
    cap = Capacity(f)
    policy = get_policy(name, workload)
    frag = policy.extra.get("fragmentation")
    rng = random.Random(seed)
    live: list[tuple[NodeShare, ...]] = []
    with mock.patch.object(search, "MIN_NODES", 0), mock.patch.object(domains_module, "_FEW", few):
        for i, (req, release) in enumerate(plan):
            decision_seed = rng.randrange(2**32)
            verdict = place(policy, req, cap, random.Random(decision_seed))
            assert same(verdict, reference(name, workload, req, cap, decision_seed)), (i, req)
            if isinstance(verdict, Placement):
                cap.take(verdict.shares)
                live.append(verdict.shares)
            if release and live:
                cap.give_back(live.pop(rng.randrange(len(live))))
            assert_matches_recount(cap)
            if isinstance(frag, Fragmentation):
                assert_fragmentation_exact(frag, cap)
            if req.is_gang:
                assert_kept_masks_exact(policy.filters, req, cap)


@settings(max_examples=40, deadline=None)
@given(fleets(), steps, st.integers(0, 2**16), st.sampled_from([0, 32]))
def test_default_policy_caches_equal_a_recount_and_decide_as_the_full_pass(f, plan, seed, few):
    run("default", None, f, plan, seed, few)


@settings(max_examples=40, deadline=None)
@given(fleets(), steps, st.integers(0, 2**16), st.sampled_from([0, 32]))
def test_fgd_with_sharing_shapes_caches_equal_a_recount_and_decide_as_the_full_pass(f, plan, seed, few):
    run("fgd", SHARING, f, plan, seed, few)


@settings(max_examples=25, deadline=None)
@given(fleets(), steps, st.integers(0, 2**16))
def test_default_with_a_workload_caches_equal_a_recount(f, plan, seed):
    run("default", SHARING, f, plan, seed, 32)


def test_gangs_of_one_member_demand_share_one_kept_mask():
    from tests.builders import fleet, node

    f = fleet(*[node(f"n{i}", rack=f"r{i // 4}", gpus=8) for i in range(16)])
    cap = Capacity(f)
    filters = get_policy("default").filters
    small, large = Request(gpus=8, nodes=2), Request(gpus=8, nodes=6, within=Level.SITE)
    search.feasible_kept(filters, small, cap, Level.NVLINK)
    before = len(cap.memo)
    search.feasible_kept(filters, large, cap, Level.NVLINK)
    assert len(cap.memo) == before
    search.feasible_kept(filters, Request(gpus=4, nodes=2), cap, Level.NVLINK)
    assert len(cap.memo) == before + 1


@settings(max_examples=20, deadline=None)
@given(fleets(), st.lists(requests, min_size=2, max_size=12), st.integers(0, 2**16))
def test_a_placer_reusing_its_policy_over_fresh_snapshots_decides_as_a_fresh_policy(f, reqs, seed):
    from neocloud.placement.engine import PolicyPlacer

    placer = PolicyPlacer("default")
    cap = Capacity(f)
    rng = random.Random(seed)
    for req in reqs:
        decision_seed = rng.randrange(2**32)
        snapshot = cap.copy()  # the control plane decides on a fresh snapshot each time
        verdict = placer.place(req, snapshot, random.Random(decision_seed))
        assert same(verdict, place(get_policy("default"), req, cap.copy(), random.Random(decision_seed)))
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
    assert placer.policy() is placer.policy()


@settings(max_examples=40, deadline=None)
@given(fleets(), steps, st.integers(0, 2**16), st.sampled_from([None, "cpu"]))
def test_fgd_growth_on_python_numbers_is_the_vectorised_float(f, plan, seed, workload):
    from neocloud.placement import fgd

    wl = (
        Workload((Shape(1, 1000, 4_000), Shape(2, 1000, 0), Shape(4, 1000, 16_000)), (0.3, 0.1, 0.6))
        if workload
        else None
    )
    cap = Capacity(f)
    policy = get_policy("first-fit")
    rng = random.Random(seed)
    scalar = Fragmentation(wl)
    for req, _ in plan:
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
        if req.shares_gpu:
            continue
        nodes = np.flatnonzero(cap.whole_free >= req.gpus)[: fgd._SCALAR_ROWS]
        if not len(nodes):
            continue
        vector = Fragmentation(wl)
        with mock.patch.object(fgd, "_SCALAR_ROWS", -1):
            expected = vector.options(req, cap, nodes).best_per_candidate()
            assert np.array_equal(vector.best_growth(req, cap, nodes), expected)
        got = scalar.best_growth(req, cap, nodes)
        assert scalar._single
        assert got.tobytes() == expected.tobytes()


@settings(max_examples=30, deadline=None)
@given(fleets(), st.lists(st.tuples(st.integers(0, 10**6), st.booleans()), min_size=1, max_size=8))
def test_kept_gang_masks_follow_schedulable_flags_written_directly(f, flips):
    """Cordoning writes `Capacity.schedulable` directly, without a generation: the kept mask must
    notice (fleets here have node counts both multiple of 8 and not, the two ways flags are compared)."""
    cap = Capacity(f)
    filters = get_policy("default").filters
    req = Request(gpus=4, nodes=2)
    for node, flag in flips:
        assert_kept_masks_exact(filters, req, cap)
        cap.schedulable[node % len(cap.schedulable)] = flag
        assert_kept_masks_exact(filters, req, cap)


def test_the_growth_memo_never_serves_a_node_changed_while_a_call_left_it_out():
    """The memo's freshness is per node: a call whose candidates leave a changed node out must not mark
    it fresh for a later call that includes it (the stale value decided wrongly on long-lived
    capacities: bench openb, bench scale, the departures replay)."""
    from tests.builders import fleet, node

    f = fleet(node("a", gpus=8), node("b", gpus=8))
    cap = Capacity(f)
    frag = Fragmentation(SHARING)
    req = Request(gpus=1)
    both, only_b = np.array([0, 1]), np.array([1])
    frag.best_growth(req, cap, both)
    cap.take((NodeShare(0, (0, 1, 2, 3), 1000, 0, 0),))  # node a: 1-GPU growth 0 → 600 milli-GPU
    frag.best_growth(req, cap, only_b)
    got = frag.best_growth(req, cap, both)
    assert got.tolist() == Fragmentation(SHARING).best_growth(req, cap.copy(), both).tolist()


@settings(max_examples=40, deadline=None)
@given(
    fleets(),
    st.lists(
        st.tuples(
            st.one_of(whole, sharing),
            st.sampled_from([0, 0, 200_000]),  # memory: a filter drops nodes, the memo's key does not see it
            st.integers(0, 2**16),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_the_growth_memo_equals_a_fresh_measure_over_any_candidate_subsets(f, plan):
    cap = Capacity(f)
    frag = Fragmentation(SHARING)
    policy = get_policy("first-fit")
    for req, memory, seed in plan:
        rng = random.Random(seed)
        n = len(cap.cpu_free)
        cands = np.array(sorted(rng.sample(range(n), rng.randint(1, n))), dtype=np.int64)
        single = Request(gpus=req.gpus, gpu_milli=req.gpu_milli, cpu_milli=req.cpu_milli, memory_mib=memory)
        fits = cands[cap.whole_free[cands] >= max(single.gpus, 1)]
        if len(fits):
            got = frag.best_growth(single, cap, fits)
            want = Fragmentation(SHARING).best_growth(single, cap.copy(), fits)
            assert got.tobytes() == want.tobytes()
        verdict = place(policy, single, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
