"""Admission's decision: place a request against the capacity left over its window, preempting spot if
that is the only obstacle (`decide`), check quota, persist a decision, and say when a request that does
not fit would (`earliest`). The use case that runs them under locks is `control/app/admit.py`.

Decisions on different nodes never wait for each other; PostgreSQL's exclusion constraint on bookings
is the last guard."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from neocloud.control.app.deps import QUOTE_HORIZON, Deps, FleetCache
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.domain import calendar
from neocloud.control.domain.allocations import Allocation, Event, GpuBooking
from neocloud.control.domain.booked import (
    BookedGpus,
    BoolArray,
    IntArray,
    end_micros,
    from_micros,
    micros,
    on_gpus,
)
from neocloud.control.domain.calendar import snapshot_of_booked, snapshot_of_taken, yielding
from neocloud.control.domain.quotas import Quota, Usage, check_admission, peak_usage
from neocloud.control.domain.shapes import Shape, place_shape
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import Conflict
from neocloud.kernel.gpus import GpuModel
from neocloud.kernel.ids import NodeId
from neocloud.kernel.products import Product, State
from neocloud.placement.framework import Placement, Placer, Unschedulable

# An open-ended request (an instance) first looks for GPUs that no one has committed at any later time;
# failing that, for GPUs free for at least each of these spans in turn, and then runs until the earliest
# commitment on the GPUs it got (with notice before it). The last span is the shortest sale: capacity
# free now for less than an hour is not offered. See docs/capacity.md.
OPEN_ENDED_SPANS: tuple[timedelta, ...] = (
    timedelta(days=365),
    timedelta(days=30),
    timedelta(days=7),
    timedelta(days=1),
    timedelta(hours=1),
)


@dataclass(frozen=True)
class Admission:
    """Where the request goes, from when its GPUs are held, until when (`until`, for an open-ended
    request placed on GPUs committed later; None: until stopped), and the spot allocations it takes back."""

    fleet: Fleet
    placement: Placement
    start: datetime
    victims: tuple[Allocation, ...]
    until: datetime | None = None

    def gpus(self) -> list[tuple[NodeId, int]]:
        return [(self.fleet.nodes[s.node].id, slot) for s in self.placement.shares for slot in s.gpu_slots]


@dataclass
class Seen:
    """What a decision read, for the claim rounds after it to decide again without reading it again
    (control/app/admit.py): the fleet, the node states and, for a bounded window, the GPU slots taken
    over it by node. Another decision may book nodes meanwhile; the claim and the check after it catch
    that, and `refresh` replaces what it knows of the nodes it read again (under their locks)."""

    fleet: Fleet | None = None
    states: dict[str, str] | None = None
    taken: dict[str, set[int]] | None = None

    def refresh(self, nodes: Iterable[str], taken: dict[str, set[int]]) -> None:
        """`taken` is what is booked on `nodes` now: replace what was seen of them."""
        if self.taken is None:
            return
        for node in nodes:
            self.taken.pop(node, None)
            if taken.get(node):
                self.taken[node] = set(taken[node])


def load_fleet(uow: UnitOfWork, model: str, cache: FleetCache | None = None) -> Fleet | None:
    """The `model` nodes as a Fleet (None when there are none), rebuilt only when the node set changed."""
    version = uow.node_version(model) if cache is not None else ""
    if cache is not None and (hit := cache.get(model)) is not None and hit[0] == version:
        return hit[1]
    nodes = uow.nodes(model)
    if not nodes:
        return None
    fleet = Fleet.build(f"fleet-{model}", nodes)
    if cache is not None:
        cache[model] = (version, fleet)
    return fleet


def decide(
    uow: UnitOfWork,
    placer: Placer,
    model: GpuModel,
    shape: Shape,
    gpus: int,
    start: datetime,
    end: datetime | None,
    *,
    now: datetime,
    notice: timedelta,
    rng: random.Random,
    preempt: bool,
    may_shift: bool,
    fleets: FleetCache | None = None,
    excluded: set[str] | None = None,
    seen: Seen | None = None,
) -> Admission | Unschedulable:
    """Place over [start, end), on no node of `excluded`. With `seen`, the fleet, node states and taken
    GPUs it holds are used instead of reading them again (and what this reads is kept there). If that fails and `preempt`, retry treating spot GPUs as returned when
    the request's GPUs are first needed, but never before the notice period: at `start` if it is at
    least `notice` away, else (with `may_shift`) from now + notice.

    An open-ended request (`end` None) tries the spans of OPEN_ENDED_SPANS after the open window, and is
    admitted `until` the earliest later commitment on the GPUs it got. The bookings are read as columns
    (`uow.booked`), so each window costs array work over them, not a Python step per booking."""
    if seen is not None and seen.fleet is not None and seen.states is not None:
        fleet, states = seen.fleet, seen.states
    else:
        loaded = load_fleet(uow, model.name, fleets)
        if loaded is None:
            return Unschedulable({"gpu-model": 0}, f"the fleet has no {model.name} nodes")
        fleet, states = loaded, uow.node_states()
        if seen is not None:
            seen.fleet, seen.states = fleet, states
    if excluded:
        states = {**states, **{n: "claimed-by-another-decision" for n in excluded}}
    windows = [end] if end is not None else [None, *(start + span for span in OPEN_ENDED_SPANS)]
    window_us = [None if w is None else micros(w) for w in windows]

    def attempt(
        begin: datetime, booked: BookedGpus, rows: IntArray
    ) -> tuple[Placement | None, Unschedulable | None, datetime | None]:
        first: Unschedulable | None = None
        begin_us = micros(begin)
        for until, until_us in zip(windows, window_us, strict=True):
            free = snapshot_of_booked(fleet, booked, rows, begin_us, until_us, states)
            verdict = place_shape(placer, model, shape, gpus, free, rng)
            if isinstance(verdict, Placement):
                return verdict, None, until
            first = first or verdict
        return None, first, None

    if end is not None:  # a bounded window needs only which GPUs are taken over it (one row per node)
        if seen is not None and seen.taken is not None:
            taken = seen.taken
        else:
            taken = uow.taken(model.name, start, end)
            if seen is not None:
                seen.taken = taken
        free = snapshot_of_taken(fleet, taken, states)
        first = place_shape(placer, model, shape, gpus, free, rng)
        if isinstance(first, Placement):
            return Admission(fleet, first, start, ())
        verdict: Unschedulable | None = first
    else:
        raw = uow.booked(model.name, start, end)
        rows = raw.fleet_rows(fleet)
        placed, verdict, window_end = attempt(start, raw, rows)
        if placed is not None:
            until = _held_until(fleet, placed, raw, rows, start, window_end)
            return Admission(fleet, placed, start, (), until)
    assert verdict is not None
    if not preempt:
        return verdict
    yield_at = max(start, now + notice)
    if yield_at > start and not may_shift:
        return verdict
    spot = {a.id: a for a in uow.live_allocations(None, model.name, now, None, product=Product.SPOT)}
    if not spot:
        return verdict
    raw = uow.booked(model.name, yield_at, end)
    rows = raw.fleet_rows(fleet)
    codes = raw.codes(spot)
    yield_us = micros(yield_at)
    yielded = raw.yielding(codes, yield_us)
    second, _, window_end = attempt(yield_at, yielded, rows)
    if second is None:
        return verdict
    on_chosen = _on_gpus(fleet, second, raw, rows)
    taken_back = on_chosen & raw.owned_by(codes) & raw.holding(yield_us, end_micros(end))
    hit = np.unique(raw.owner[taken_back])
    return Admission(
        fleet,
        second,
        yield_at,
        tuple(spot[i] for i in sorted(raw.owners[c] for c in hit.tolist())),
        _held_until(fleet, second, yielded, rows, yield_at, window_end, without=hit),
    )


def _on_gpus(fleet: Fleet, placement: Placement, booked: BookedGpus, rows: IntArray) -> BoolArray:
    """The rows of `booked` on the GPUs `placement` chose."""
    chosen = ((s.node, slot) for s in placement.shares for slot in s.gpu_slots)
    return on_gpus(rows, booked.slot, fleet, chosen)


def _held_until(
    fleet: Fleet,
    placement: Placement,
    booked: BookedGpus,
    rows: IntArray,
    start: datetime,
    window_end: datetime | None,
    without: IntArray | None = None,
) -> datetime | None:
    """For a placement found over a bounded span of an open-ended request: the earliest start of another
    booking on its GPUs (the next commitment; not those of owners `without`), which is where it must end."""
    if window_end is None:
        return None
    start_us = micros(start)
    later = _on_gpus(fleet, placement, booked, rows) & (booked.start >= start_us)
    later &= booked.holding(start_us, None)
    if without is not None and len(without):
        later &= ~booked.owned_by(without)
    return from_micros(int(booked.start[later].min())) if later.any() else None


def check_quota(uow: UnitOfWork, alloc: Allocation, quotas: list[Quota] | None = None) -> None:
    """QuotaExceeded when the allocation would take its tenant or project past a quota at some instant.
    `quotas` are the tenant's, when the caller has read them already."""
    quotas = uow.quotas(alloc.tenant_id) if quotas is None else quotas
    if not any(q.model == alloc.model for q in quotas):
        return
    held = uow.held(alloc.tenant_id, alloc.model, alloc.start, alloc.end)

    def spans(project: str | None) -> list[tuple[float, float, int]]:
        return [
            (start.timestamp(), end.timestamp() if end else float("inf"), gpus)
            for start, end, gpus, held_project in held
            if project is None or held_project == project
        ]

    usage = Usage(peak_usage(spans(None)), peak_usage(spans(alloc.project_id)))
    check_admission(quotas, alloc.project_id, alloc.model, usage, alloc.gpus)


def persist(
    uow: UnitOfWork,
    alloc: Allocation,
    events: list[Event],
    admission: Admission,
    *,
    now: datetime,
    notice: timedelta,
) -> Allocation:
    """Record the placed allocation (requested → scheduled), its GPU bookings and any spot it takes back.

    A spot victim returns its GPUs when the new allocation first needs them (`admission.start`) and is
    told `notice` before (never earlier than now); an open-ended allocation placed on GPUs committed
    later carries the same kind of notice for its `until`."""
    for seen in admission.victims:  # first: their GPUs come back before the new bookings begin
        victim = uow.get_allocation(seen.id, lock=True)  # as it is now: another decision may have noticed it
        if victim is None or not victim.live:
            continue
        until = admission.start
        if victim.notice_until is not None and victim.notice_until < until:
            until = victim.notice_until
        uow.update_allocation(victim.with_notice(max(now, until - notice), until))
        uow.end_bookings(victim.id, until)
    nodes = tuple(dict.fromkeys(n for n, _ in admission.gpus()))
    placed = alloc.placed(nodes, admission.start)
    if admission.until is not None:
        placed = placed.with_notice(max(now, admission.until - notice), admission.until)
    scheduled, event = placed.to(State.SCHEDULED, at=now, reason=f"placed on {len(nodes)} node(s)")
    uow.add_allocation(scheduled)
    for e in [*events, event]:
        uow.add_event(e)
    booked_until = scheduled.end if admission.until is None else admission.until
    uow.add_bookings(
        [GpuBooking(scheduled.id, n, slot, scheduled.start, booked_until) for n, slot in admission.gpus()]
    )
    return scheduled


def unschedulable(verdict: Unschedulable, what: str, earliest: datetime | None = None) -> Conflict:
    """The Conflict for a request that does not fit: the engine's reasons, and when it would fit."""
    when = (
        f"; the earliest start at which it fits is {earliest.isoformat()}"
        if earliest is not None
        else "; it does not fit within the booking horizon"
    )
    details = {"reasons": dict(verdict.reasons), "earliest_start": earliest.isoformat() if earliest else None}
    return Conflict(f"{what}: {verdict.message}{when}", details=details)


def earliest(
    deps: Deps, model: GpuModel, shape: Shape, gpus: int, start: datetime, duration: timedelta, now: datetime
) -> calendar.Fit:
    """The first instant >= `start` at which `gpus` of `model` in `shape` fit for `duration` (spot counted
    as yielding after the notice period), up to QUOTE_HORIZON later. Reads in a read-only unit of work,
    searches outside it."""
    with deps.uow(read_only=True) as uow:
        fleet = load_fleet(uow, model.name, deps.fleets)
        if fleet is None:
            return calendar.Fit(None, None, {"gpu-model": 0}, f"the fleet has no {model.name} nodes")
        spot = {a.id for a in uow.live_allocations(None, model.name, now, None, product=Product.SPOT)}
        bookings = yielding(uow.bookings(model.name, start, None), spot, now + deps.spot_notice)
        states = uow.node_states()
    return calendar.earliest_fit(
        deps.placer,
        fleet,
        bookings,
        model,
        shape,
        gpus,
        start,
        duration,
        random.Random(0),
        states,
        horizon=start + QUOTE_HORIZON,
    )
