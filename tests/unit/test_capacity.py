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
