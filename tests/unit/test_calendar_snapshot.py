"""The calendar's vectorised snapshot is the same free state as taking each booked GPU through
Capacity.take, and it refuses a booking on a GPU slot the node does not have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.calendar import snapshot, snapshot_of_taken
from neocloud.fleet.capacity import MILLI, Capacity, NodeShare
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId
from tests import builders
from tests.strategies import fleets

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _by_take(fleet: Fleet, taken: dict[str, set[int]], states: dict[str, str]) -> Capacity:
    cap = Capacity(fleet)
    shares = tuple(NodeShare(fleet.index_of[n], tuple(sorted(s)), MILLI, 0, 0) for n, s in taken.items() if s)
    cap.take(shares)
    for n, state in states.items():
        if state != "ready":
            cap.schedulable[fleet.index_of[n]] = False
    return cap


def _same(a: Capacity, b: Capacity) -> None:
    for field in ("gpu_free", "whole_free", "milli_free", "cpu_free", "mem_free", "schedulable"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.pristine.tolist() == b.pristine.tolist()
    assert a.untouched().tolist() == b.untouched().tolist()


@settings(max_examples=60, deadline=None)
@given(fleet=fleets(), data=st.data())
def test_snapshot_equals_taking_every_booked_gpu(fleet: Fleet, data: st.DataObject) -> None:
    bookings = []
    for k in range(data.draw(st.integers(0, 40))):
        n = data.draw(st.sampled_from(fleet.nodes))
        slot = data.draw(st.integers(0, n.gpus - 1))
        start = T0 + timedelta(hours=data.draw(st.integers(0, 20)))
        end = None if data.draw(st.booleans()) else start + timedelta(hours=data.draw(st.integers(0, 10)))
        bookings.append(GpuBooking(AllocationId(f"a{k}"), n.id, slot, start, end))
    lo = T0 + timedelta(hours=data.draw(st.integers(0, 25)))
    hi = None if data.draw(st.booleans()) else lo + timedelta(hours=data.draw(st.integers(1, 10)))
    states = {n.id: "draining" for n in fleet.nodes if data.draw(st.booleans())}
    taken: dict[str, set[int]] = {}
    for b in bookings:
        if b.overlaps(lo, hi):
            taken.setdefault(b.node_id, set()).add(b.slot)
    expected = _by_take(fleet, taken, states)
    _same(snapshot(fleet, bookings, lo, hi, states), expected)
    _same(snapshot_of_taken(fleet, taken, states), expected)


def test_a_booking_on_a_slot_the_node_lacks_is_refused() -> None:
    fleet = builders.fleet(builders.node("n0", gpus=8))
    n = fleet.nodes[0]
    with pytest.raises(Conflict, match="no GPU slot"):
        snapshot_of_taken(fleet, {n.id: {n.gpus}})
