import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.shares import uniform_shares
from neocloud.kernel.errors import Conflict
from tests.builders import capacity, fleet, node
from tests.unit.test_domain_free import assert_matches_recount


def test_new_capacity_is_all_free():
    cap = capacity(node("a", gpus=8), node("b", model="T4", gpus=2))
    assert cap.whole_free.tolist() == [8, 2]
    assert cap.milli_free.tolist() == [8000, 2000]
    assert cap.gpu_free[1].tolist() == [1000, 1000, 0, 0, 0, 0, 0, 0]


def test_take_then_give_back_restores_exact_state():
    cap = capacity(node("a", gpus=8))
    before = cap.copy()
    share = (NodeShare(0, (2,), 300, 1000, 2048),)
    cap.take(share)
    assert cap.gpu_free[0, 2] == 700 and cap.whole_free[0] == 7 and cap.cpu_free[0] == 63_000
    cap.give_back(share)
    assert np.array_equal(cap.gpu_free, before.gpu_free)
    assert np.array_equal(cap.cpu_free, before.cpu_free) and np.array_equal(cap.whole_free, before.whole_free)


def test_overcommit_is_refused_and_changes_nothing():
    cap = capacity(node("a", gpus=2))
    cap.take((NodeShare(0, (0,), 800, 0, 0),))
    with pytest.raises(Conflict):
        cap.take((NodeShare(0, (1,), 1000, 0, 0), NodeShare(0, (0,), 300, 0, 0)))
    assert cap.gpu_free[0].tolist()[:2] == [200, 1000]


def test_fleet_groups_domains_contiguously_in_first_seen_order():
    f = fleet(node("a", rack="r2"), node("b", rack="r10"), node("c", rack="r2"))
    assert [n.id for n in f.nodes] == ["a", "c", "b"]
    assert f.topology.names[1] == ("r2", "r10")
    assert isinstance(Capacity(f).schedulable, np.ndarray)


def test_two_shares_of_one_call_on_the_same_gpu_are_summed_before_checking():
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    with pytest.raises(Conflict):
        cap.take((NodeShare(0, (0,), 600, 0, 0), NodeShare(0, (0,), 600, 0, 0)))
    assert cap.gpu_free[0].tolist()[:2] == [1000, 1000]
    cap.take((NodeShare(0, (0,), 400, 0, 0), NodeShare(0, (0,), 600, 0, 0)))
    assert cap.gpu_free[0, 0] == 0 and cap.whole_free[0] == 1


@pytest.mark.parametrize(
    "share",
    [
        NodeShare(0, (-1,), 1000, 0, 0),  # a negative slot would index from the end
        NodeShare(0, (2,), 1000, 0, 0),  # the node has 2 GPUs
        NodeShare(0, (0, 0), 500, 0, 0),
        NodeShare(0, (0,), -500, 0, 0),  # a negative take would add capacity
        NodeShare(0, (), 0, -1, 0),
        NodeShare(5, (0,), 1000, 0, 0),
    ],
)
@pytest.mark.parametrize("gang", [False, True])
def test_malformed_shares_are_refused_and_change_nothing(share, gang):
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    before = cap.copy()
    shares = (share, NodeShare(1, (0,), 1000, 0, 0)) if gang else (share,)
    with pytest.raises(Conflict):
        cap.take(shares)
    assert np.array_equal(cap.gpu_free, before.gpu_free) and np.array_equal(cap.cpu_free, before.cpu_free)


def test_a_release_beyond_capacity_is_refused_and_changes_nothing():
    cap = capacity(node("a", gpus=2), node("b", gpus=2))
    cap.take((NodeShare(0, (0,), 500, 1000, 0),))
    before = cap.copy()
    for shares in (
        (NodeShare(0, (0,), 600, 0, 0),),
        (NodeShare(0, (), 0, 2000, 0),),
        (NodeShare(0, (1,), 500, 0, 0), NodeShare(1, (1,), 500, 0, 0)),
    ):
        with pytest.raises(Conflict):
            cap.give_back(shares)
        assert np.array_equal(cap.gpu_free, before.gpu_free) and np.array_equal(cap.cpu_free, before.cpu_free)


def test_a_gang_of_uniform_shares_is_taken_and_given_back_exactly():
    cap = capacity(*(node(f"n{i}", gpus=4) for i in range(6)))
    cap.untouched()  # derived state is kept in step from here on
    shares = tuple(NodeShare(i, (0, 1, 2, 3), 1000, 2000, 0) for i in (4, 1, 3))
    cap.take(shares)
    assert cap.whole_free.tolist() == [4, 0, 4, 0, 0, 4]
    assert cap.untouched().tolist() == [True, False, True, False, False, True]
    with pytest.raises(Conflict):
        cap.take(shares)  # already taken
    cap.give_back(shares)
    assert cap.whole_free.tolist() == [4] * 6 and cap.untouched().all()


def _state(cap: Capacity) -> tuple[list[int], ...]:
    return tuple(
        a.ravel().tolist()
        for a in (cap.gpu_free, cap.cpu_free, cap.mem_free, cap.whole_free, cap.milli_free, cap.untouched())
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(-1, 8), min_size=1, max_size=6),  # nodes: out of range, repeated, unsorted
            st.sampled_from(
                [(), (0,), (1, 3), (0, 1, 2, 3), (0, 0), (3, 4)]
            ),  # slot 4: absent on 4-GPU nodes
            st.sampled_from([0, 250, 1000, 1001]),
            st.sampled_from([0, 8_000, 200_000]),
            st.sampled_from([0, 1_024, 10**7]),
            st.booleans(),  # give back instead of take
        ),
        min_size=1,
        max_size=12,
    )
)
def test_uniform_gang_shares_change_capacity_exactly_as_the_same_shares_one_by_one(steps):
    """A gang's `UniformShares` take a fast path; every step (valid or not) must leave the capacity and
    its derived state as the general path does with the same shares, and raise exactly when it does."""
    f = fleet(*(node(f"n{i}", rack=f"r{i // 3}", gpus=8 if i % 4 == 0 else 4) for i in range(8)))
    fast, slow = Capacity(f), Capacity(f)
    _ = fast.domains, slow.domains, fast.untouched_per_profile(), slow.untouched_per_profile()  # kept in step
    for nodes, slots, milli, cpu, mem, release in steps:
        uniform = uniform_shares(np.array(nodes, dtype=np.int64), slots, milli, cpu, mem)
        plain = tuple(NodeShare(n, slots, milli, cpu, mem) for n in nodes)
        outcomes = []
        for cap, shares in ((fast, uniform), (slow, plain)):
            try:
                (cap.give_back if release else cap.take)(shares)
                outcomes.append(True)
            except Conflict:
                outcomes.append(False)
        assert outcomes[0] == outcomes[1]
        assert _state(fast) == _state(slow)
        assert fast.generation == slow.generation
        assert np.array_equal(fast.changed_since(0), slow.changed_since(0))
    assert_matches_recount(fast)
