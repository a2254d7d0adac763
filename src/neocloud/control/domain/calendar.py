"""The capacity calendar: what is free over a window, and the earliest instant a shape fits.

Bookings hold specific GPUs over [start, end). The capacity left for a window is the fleet minus every
GPU booked at any instant of the window — a GPU is free for the window only if it is free throughout —
so placing against that snapshot can never overbook a GPU at any instant.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.booked import BookedGpus, IntArray
from neocloud.control.domain.shapes import Shape, max_request, place_shape
from neocloud.fleet.capacity import Capacity
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import GpuModel
from neocloud.placement.framework import Placement, Placer, Unschedulable

READY = "ready"
MAX_SLOTS = 2000


def snapshot(
    fleet: Fleet,
    bookings: Iterable[GpuBooking],
    start: datetime,
    end: datetime | None,
    node_states: Mapping[str, str] | None = None,
) -> Capacity:
    """Free capacity over [start, end): every GPU booked at any instant of it is taken; nodes whose state
    is not 'ready' are unschedulable."""
    # GpuBooking.overlaps, inlined: this loop runs over every booking of the model on each decision
    if end is None:
        held = [b for b in bookings if b.end is None or (b.end > start and b.end > b.start)]
    else:
        held = [
            b for b in bookings if b.start < end and (b.end is None or (b.end > start and b.end > b.start))
        ]
    index_of = fleet.index_of
    nodes: list[int] = []
    slots: list[int] = []
    for b in held:
        i = index_of.get(b.node_id)
        if i is not None:
            nodes.append(i)
            slots.append(b.slot)
    return _free(fleet, nodes, slots, node_states)


def snapshot_of_taken(
    fleet: Fleet, taken: Mapping[str, AbstractSet[int]], node_states: Mapping[str, str] | None = None
) -> Capacity:
    """Free capacity with the GPU slots of `taken` (by node id) held; nodes whose state is not 'ready'
    are unschedulable."""
    index_of = fleet.index_of
    nodes: list[int] = []
    slots: list[int] = []
    for node_id, held in taken.items():
        i = index_of.get(node_id)
        if i is not None:
            nodes.extend([i] * len(held))
            slots.extend(held)
    return _free(fleet, nodes, slots, node_states)


def snapshot_of_booked(
    fleet: Fleet,
    booked: BookedGpus,
    rows: IntArray,
    start: int,
    end: int | None,
    node_states: Mapping[str, str] | None = None,
) -> Capacity:
    """`snapshot` over [start, end) (µs; end None: open) of the bookings in columns, whose rows are on
    fleet nodes `rows` (`booked.fleet_rows(fleet)`; -1: not of this fleet): the same capacity, in array
    work."""
    held = booked.holding(start, end) & (rows >= 0)
    return _free(fleet, rows[held], booked.slot[held], node_states)


def _free(
    fleet: Fleet,
    nodes: list[int] | IntArray,
    slots: list[int] | IntArray,
    node_states: Mapping[str, str] | None,
) -> Capacity:
    cap = Capacity.with_gpus_taken(
        fleet, np.asarray(nodes, dtype=np.int64), np.asarray(slots, dtype=np.int64)
    )
    if node_states:
        index_of = fleet.index_of
        for node_id, state in node_states.items():
            i = index_of.get(node_id)
            if i is not None and state != READY:
                cap.schedulable[i] = False
    return cap


def yielding(
    bookings: Iterable[GpuBooking], allocation_ids: AbstractSet[str], until: datetime
) -> list[GpuBooking]:
    """Bookings with those of `allocation_ids` (spot, which yields) cut to end by `until`."""
    out = []
    for b in bookings:
        if b.allocation_id in allocation_ids and (b.end is None or b.end > until):
            b = replace(b, end=max(until, b.start))
        out.append(b)
    return out


@dataclass(frozen=True, slots=True)
class Fit:
    """Where and from when a request fits; `placement` None means it never fits within the horizon,
    and `reasons` then explain the asked start."""

    start: datetime | None
    placement: Placement | None
    reasons: dict[str, int]
    message: str


def earliest_fit(
    placer: Placer,
    fleet: Fleet,
    bookings: Sequence[GpuBooking],
    model: GpuModel,
    shape: Shape,
    gpus: int,
    start: datetime,
    duration: timedelta,
    rng: random.Random,
    node_states: Mapping[str, str] | None = None,
    horizon: datetime | None = None,
) -> Fit:
    """The first instant t >= start (the asked start, or one at which a booking ends) at which the
    shape fits over [t, t + duration), up to `horizon`."""
    candidates = sorted({start} | {b.end for b in bookings if b.end is not None and b.end > start})
    first: Unschedulable | None = None
    for t in candidates:
        if horizon is not None and t > horizon:
            break
        cap = snapshot(fleet, bookings, t, t + duration, node_states)
        verdict = place_shape(placer, model, shape, gpus, cap, rng)
        if isinstance(verdict, Placement):
            reasons = first.reasons if first is not None else {}  # an Unschedulable is falsy: test for None
            return Fit(t, verdict, reasons, "fits" if t == start else f"fits from {t.isoformat()}")
        if first is None:
            first = verdict
    assert first is not None
    return Fit(None, None, first.reasons, first.message)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    free_gpus: int
    max_request_gpus: int


def slots(
    fleet: Fleet,
    bookings: Sequence[GpuBooking],
    model: GpuModel,
    shape: Shape,
    start: datetime,
    end: datetime,
    step: timedelta,
    node_states: Mapping[str, str] | None = None,
) -> list[Slot]:
    """For each step of [start, end): GPUs free throughout it and the largest `shape` request fitting."""
    if end <= start:
        raise InvalidInput("the calendar's end must be after its start")
    if step <= timedelta(0):
        raise InvalidInput("the calendar's step must be positive")
    if (end - start) / step > MAX_SLOTS:
        raise InvalidInput(
            f"at most {MAX_SLOTS} calendar slots; use a longer step", details={"max_slots": MAX_SLOTS}
        )
    out = []
    t = start
    while t < end:
        u = min(t + step, end)
        cap = snapshot(fleet, bookings, t, u, node_states)
        out.append(Slot(t, u, max_request(model, Shape.ANY, cap), max_request(model, shape, cap)))
        t = u
    return out
