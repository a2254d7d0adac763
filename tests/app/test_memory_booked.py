"""The memory store's incremental views — each model's bookings as columns (what admission decides on)
and live allocations by the instant they become due — must answer exactly as a recompute from the
bookings and allocations would, after any sequence of writes, commits and rollbacks."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.control.adapters.memory import MemoryStore, MemoryUnitOfWork, _is_due
from neocloud.control.adapters.memory_booked import BookingColumns
from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.booked import BookedGpus, micros
from neocloud.control.domain.calendar import snapshot, snapshot_of_booked, yielding
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.ids import AllocationId, NodeId
from tests.app.test_memory_store import NODES, apply, hours
from tests.builders import node

LATE = node("n5", gpus=4)  # added after some of its bookings were made
MODELS = {"H100": [*(f"n{i}" for i in range(4)), "n5"], "H200": ["n4"]}

# one write: (kind, x, y); kinds 0-9 as in test_memory_store, 10 adds the late node, 11 books on it,
# 12 puts an allocation under notice
SLACK = BookingColumns.SLACK
writes = st.lists(st.tuples(st.sampled_from(range(13)), st.integers(0, 7), st.integers(0, 7)), max_size=20)
units = st.lists(st.tuples(writes, st.booleans()), min_size=1, max_size=4)  # (writes, committed?)


def write(uow: MemoryUnitOfWork, kind: int, x: int, y: int) -> None:
    if kind == 10:
        uow.add_nodes([LATE])
    elif kind == 11:
        end = None if y % 2 == 0 else hours(y)
        uow.add_bookings([GpuBooking(AllocationId(f"a{x}"), NodeId("n5"), y % 4, hours(x % 3), end)])
    elif kind == 12:
        if (found := uow.get_allocation(f"a{x}")) is not None:
            uow.update_allocation(found.with_notice(hours(y), hours(y + 1)))
    else:
        apply(uow, kind, x, y)


def rows(b: BookedGpus, start: int = -100) -> Counter[tuple[str, int, int, int, str]]:
    """The rows that hold a GPU at some instant from hour `start` on (an empty booking answers no
    question; a store may leave out rows that ended before the start it was asked)."""
    held = b.holding(micros(hours(start)), None)
    cols = (b.node[held], b.slot[held], b.start[held], b.end[held], b.owner[held])
    return Counter(
        (b.node_ids[n], s, t, e, b.owners[o])
        for n, s, t, e, o in zip(*(c.tolist() for c in cols), strict=True)
    )


def scan(uow: MemoryUnitOfWork, model: str) -> list[GpuBooking]:
    """Every booking of the model's nodes, from the bookings table itself, windows after them."""
    t = uow._t
    of = {n.id: n.gpus for n in uow.nodes(model)}
    found = [b for _, b in sorted(t.bookings.items()) if b.node_id in of]
    for w in t.maintenance.values():
        if w.node_id in of:
            found.extend(w.bookings(of[w.node_id]))
    return found


def recomputed(uow: MemoryUnitOfWork, model: str) -> BookedGpus:
    """Columns rebuilt from every booking of the model's nodes (as a SQL store builds them)."""
    return BookedGpus.of(scan(uow, model))


def check(uow: MemoryUnitOfWork) -> None:
    for model in MODELS:
        view = uow.booked(model, hours(0), None)
        assert rows(view, 0) == rows(recomputed(uow, model), 0)
        assert rows(uow.booked(model, hours(-100), None)) == rows(recomputed(uow, model))
        nodes = uow.nodes(model)
        if not nodes:
            continue
        fleet = Fleet.build("f", nodes)
        every = scan(uow, model)
        assert uow.bookings(model, hours(-100), None) == [b for b in every if b.overlaps(hours(-100), None)]
        for some in (MODELS[model], MODELS[model][-1:]):  # the late node too, even before it has rows
            known = {n.id for n in nodes} & set(some)
            want = [b for b in every if b.node_id in known and b.overlaps(hours(2), hours(5))]
            assert uow.bookings(model, hours(2), hours(5), some) == want
        states = uow.node_states()
        spot = {f"a{i}" for i in range(0, 8, 3)}
        for h in range(0, 12, 3):
            for span in (None, 1, 4):
                start, end = hours(h), None if span is None else hours(h + span)
                end_us = None if end is None else micros(end)
                rows_at = view.fleet_rows(fleet)
                got = snapshot_of_booked(fleet, view, rows_at, micros(start), end_us, states)
                want = snapshot(fleet, every, start, end, states)
                assert np.array_equal(got.gpu_free, want.gpu_free)
                assert np.array_equal(got.schedulable, want.schedulable)
                cut = view.yielding(view.codes(spot), micros(start + timedelta(hours=1)))
                got = snapshot_of_booked(fleet, cut, rows_at, micros(start), end_us, states)
                want = snapshot(fleet, yielding(every, spot, start + timedelta(hours=1)), start, end, states)
                assert np.array_equal(got.gpu_free, want.gpu_free)
    for h in range(-1, 16, 2):
        wanted = sorted(
            (a for a in uow._t.allocations.values() if a.id in uow._t.live and _is_due(a, hours(h))),
            key=lambda a: a.id,
        )
        assert uow.due(hours(h), 100) == wanted
        assert uow.due(hours(h), 2) == wanted[:2]


@settings(max_examples=200, deadline=None)
@given(steps=units, starts=st.lists(st.integers(-2, 12), max_size=3))
def test_the_columns_and_the_due_index_equal_a_recompute_after_any_writes_and_rollbacks(
    steps: Any, starts: list[int]
) -> None:
    """With the columns compacted at every chance (whatever they kept), after reads from random starts,
    so rows are archived, read back from the archive by earlier windows, and ended or restored there."""
    BookingColumns.SLACK = -(1 << 40)
    try:
        _writes_and_rollbacks(steps, starts)
    finally:
        BookingColumns.SLACK = SLACK


def _writes_and_rollbacks(steps: Any, starts: list[int]) -> None:
    store = MemoryStore()
    with store() as uow:
        uow.add_nodes(NODES)
        uow.commit()
    for k, (batch, committed) in enumerate(steps):
        with store() as uow:
            for model in MODELS:  # a read with no write pending may compact, up to the starts read since
                for _ in range(2):
                    uow.booked(model, hours(starts[k % len(starts)] if starts else 0), None)
            for w in batch:
                write(uow, *w)
            check(uow)  # inside the unit, before it ends: its own writes are seen
            if committed:
                uow.commit()
        with store() as uow:
            check(uow)  # after: committed kept, the rest taken back


def test_a_node_added_after_the_columns_were_read_is_in_the_next_read() -> None:
    store = MemoryStore()
    with store() as uow:
        uow.add_nodes(NODES)
        write(uow, 2, 1, 1)  # bookings on n1
        uow.commit()
    with store() as uow:
        check(uow)  # reads the columns
        write(uow, 10, 0, 0)  # the late node, with no bookings yet
        check(uow)
        assert uow.booked("H100", hours(0), None).node_ids[-1] == "n5"
        uow.commit()
    with store() as uow:
        check(uow)


def test_an_archived_booking_made_to_hold_again_is_read_again() -> None:
    """A booking that ended before the floor is archived; ending it again later (so it holds to then)
    brings it back into every read, and a later compaction keeps it live."""
    store = MemoryStore()
    with store() as uow:
        uow.add_nodes(NODES)
        uow.add_bookings([GpuBooking(AllocationId("a1"), NodeId("n1"), 0, hours(0), hours(1))])
        uow.add_bookings([GpuBooking(AllocationId("a2"), NodeId("n2"), 0, hours(0), None)])
        uow.commit()
    BookingColumns.SLACK = -(1 << 40)
    try:
        with store() as uow:
            uow.booked("H100", hours(3), None)  # the earliest start read since: hour 3
        with store() as uow:
            view = uow.booked("H100", hours(3), None)  # compacts: a1 ended at hour 1, so it is archived
            assert rows(view, 3) == rows(recomputed(uow, "H100"), 3)
            assert len(view) == 1 and len(uow._t.columns["H100"]) == 2
            assert [b.allocation_id for b in uow.bookings("H100", hours(0), None)] == ["a1", "a2"]
            uow.end_bookings("a1", hours(5))
            uow.commit()
        for _ in range(2):
            with store() as uow:
                assert rows(uow.booked("H100", hours(4), None), 4) == rows(recomputed(uow, "H100"), 4)
                assert [b.allocation_id for b in uow.bookings("H100", hours(4), None)] == ["a1", "a2"]
                check(uow)
    finally:
        BookingColumns.SLACK = SLACK
