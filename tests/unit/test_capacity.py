import numpy as np
import pytest

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.kernel.errors import Conflict
from tests.builders import capacity, fleet, node


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
