from neocloud.fleet.capacity import NodeShare
from neocloud.placement.watch import CapacityWatch
from tests.builders import capacity, node


def test_a_new_capacity_is_reported_as_all_new():
    watch = CapacityWatch()
    changed, _, _ = watch.changes(capacity(node("a"), node("b")))
    assert changed is None


def test_only_the_touched_nodes_are_reported_with_their_previous_rows():
    cap = capacity(node("a"), node("b"), node("c"))
    watch = CapacityWatch()
    watch.changes(cap)
    cap.take((NodeShare(1, (2,), 300, 1_000, 0),))
    changed, old_gpu, old_cpu = watch.changes(cap)
    assert changed is not None and changed.tolist() == [1]
    assert old_gpu[0, 2] == 1000 and old_cpu.tolist() == [64_000]


def test_a_cpu_only_change_is_reported():
    cap = capacity(node("a"), node("b"))
    watch = CapacityWatch()
    watch.changes(cap)
    cap.take((NodeShare(0, (), 0, 4_000, 0),))
    changed, _, _ = watch.changes(cap)
    assert changed is not None and changed.tolist() == [0]


def test_nothing_is_reported_twice():
    cap = capacity(node("a"))
    watch = CapacityWatch()
    watch.changes(cap)
    cap.take((NodeShare(0, (0,), 1000, 0, 0),))
    watch.changes(cap)
    changed, _, _ = watch.changes(cap)
    assert changed is not None and changed.size == 0
