import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.calendar import earliest_fit, slots, snapshot, yielding
from neocloud.control.domain.shapes import Shape
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import AllocationId, NodeId
from neocloud.placement.engine import placer
from tests.builders import fleet, node

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
H100 = gpu_model("H100")
PLACER = placer("default")


def booking(
    node_id: str, slots_: range, start: datetime, end: datetime | None, alloc: str = "a"
) -> list[GpuBooking]:
    return [GpuBooking(AllocationId(alloc), NodeId(node_id), s, start, end) for s in slots_]


def test_snapshot_takes_gpus_booked_at_any_instant_of_the_window():
    f = fleet(node("a"), node("b"))
    cap = snapshot(f, booking("a", range(8), T0 + 2 * H, T0 + 3 * H), T0, T0 + 4 * H)
    assert cap.whole_free.tolist() == [0, 8]


def test_snapshot_ignores_bookings_outside_the_window():
    f = fleet(node("a"))
    cap = snapshot(f, booking("a", range(8), T0, T0 + H), T0 + H, T0 + 2 * H)
    assert cap.whole_free.tolist() == [8]


def test_snapshot_marks_nodes_not_ready_unschedulable():
    f = fleet(node("a"), node("b"))
    assert snapshot(f, [], T0, None, {"b": "drained"}).schedulable.tolist() == [True, False]


def test_earliest_fit_is_the_asked_start_when_free():
    f = fleet(node("a"))
    fit = earliest_fit(PLACER, f, [], H100, Shape.ANY, 8, T0, H, random.Random(0))
    assert fit.start == T0 and fit.message == "fits"


def test_earliest_fit_waits_for_a_booking_to_end():
    f = fleet(node("a"))
    fit = earliest_fit(
        PLACER, f, booking("a", range(4), T0, T0 + 3 * H), H100, Shape.WHOLE_NODES, 8, T0, H, random.Random(0)
    )
    assert fit.start == T0 + 3 * H and fit.reasons == {"free-gpus": 1}


def test_earliest_fit_never_when_an_open_booking_blocks_forever():
    f = fleet(node("a"))
    fit = earliest_fit(
        PLACER, f, booking("a", range(1), T0, None), H100, Shape.WHOLE_NODES, 8, T0, H, random.Random(0)
    )
    assert fit.start is None and fit.placement is None and fit.reasons


def test_yielding_cuts_only_the_named_allocations():
    bookings = booking("a", range(1), T0, None, "spot") + booking("a", range(1, 2), T0, None, "od")
    cut = yielding(bookings, {"spot"}, T0 + H)
    assert [b.end for b in cut] == [T0 + H, None]


def test_slots_show_free_gpus_and_the_largest_request_per_step():
    f = fleet(node("a"), node("b"))
    got = slots(f, booking("a", range(2), T0 + H, T0 + 2 * H), H100, Shape.WHOLE_NODES, T0, T0 + 3 * H, H)
    assert [(s.free_gpus, s.max_request_gpus) for s in got] == [(16, 16), (14, 8), (16, 16)]


def test_slots_refuse_too_many_steps():
    with pytest.raises(InvalidInput):
        slots(fleet(node("a")), [], H100, Shape.ANY, T0, T0 + 10_000 * H, H)


def test_slots_refuse_an_empty_range():
    with pytest.raises(InvalidInput):
        slots(fleet(node("a")), [], H100, Shape.ANY, T0, T0, H)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 7), st.integers(0, 10), st.integers(1, 6)), max_size=12
    ),
    st.integers(1, 24),
    st.integers(1, 5),
    st.integers(0, 8),
)
def test_the_earliest_fit_never_overlaps_a_booking_of_the_gpus_it_takes(raw, gpus, hours, asked):
    f = fleet(node("n0"), node("n1"), node("n2"))
    bookings = [
        GpuBooking(AllocationId(f"b{i}"), NodeId(f"n{n}"), s, T0 + a * H, T0 + (a + d) * H)
        for i, (n, s, a, d) in enumerate(raw)
    ]
    start = T0 + asked * H
    fit = earliest_fit(PLACER, f, bookings, H100, Shape.ANY, gpus, start, hours * H, random.Random(0))
    assert fit.start is not None  # every booking ends, so it fits eventually
    assert fit.start >= start and fit.placement is not None
    taken = {(f.nodes[s.node].id, slot) for s in fit.placement.shares for slot in s.gpu_slots}
    clash = [
        b for b in bookings if (b.node_id, b.slot) in taken and b.overlaps(fit.start, fit.start + hours * H)
    ]
    assert clash == []
