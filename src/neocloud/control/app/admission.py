"""Admission: place a request against the capacity left over its window, preempting spot if that is
the only obstacle, and persist the decision.

`admit` is the one entry point the products use (reservations and instances): it resolves the project,
honours the idempotency key (under a lock on that key only), checks quota (under the tenant's lock),
decides (pure placement on a capacity snapshot), locks the nodes it chose and checks they are still
free, and persists, all in one unit of work. Decisions on different nodes never wait for each other; PostgreSQL's exclusion
constraint on bookings is the last guard."""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from neocloud.control.app.access import resolve_project
from neocloud.control.app.deps import KEY_MAX, QUOTE_HORIZON, Deps, FleetCache
from neocloud.control.app.placement_timing import TimedPlacer
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.domain import calendar
from neocloud.control.domain.allocations import Allocation, Event, GpuBooking
from neocloud.control.domain.calendar import snapshot, snapshot_of_taken, yielding
from neocloud.control.domain.quotas import Quota, Usage, check_admission, peak_usage
from neocloud.control.domain.shapes import Shape, place_shape
from neocloud.control.domain.tenancy import Principal
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import Conflict, IdempotencyConflict, InvalidInput
from neocloud.kernel.gpus import GpuModel, gpu_model
from neocloud.kernel.ids import AllocationId, NodeId
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
) -> Admission | Unschedulable:
    """Place over [start, end), on no node of `excluded`. If that fails and `preempt`, retry treating spot GPUs as returned when
    the request's GPUs are first needed, but never before the notice period: at `start` if it is at
    least `notice` away, else (with `may_shift`) from now + notice.

    An open-ended request (`end` None) tries the spans of OPEN_ENDED_SPANS after the open window, and is
    admitted `until` the earliest later commitment on the GPUs it got."""
    fleet = load_fleet(uow, model.name, fleets)
    if fleet is None:
        return Unschedulable({"gpu-model": 0}, f"the fleet has no {model.name} nodes")
    states = uow.node_states()
    if excluded:
        states = {**states, **{n: "claimed-by-another-decision" for n in excluded}}
    windows = [end] if end is not None else [None, *(start + span for span in OPEN_ENDED_SPANS)]

    def attempt(
        begin: datetime, bookings: list[GpuBooking]
    ) -> tuple[Placement | None, Unschedulable | None, datetime | None]:
        first: Unschedulable | None = None
        for until in windows:
            verdict = place_shape(
                placer, model, shape, gpus, snapshot(fleet, bookings, begin, until, states), rng
            )
            if isinstance(verdict, Placement):
                return verdict, None, until
            first = first or verdict
        return None, first, None

    if end is not None:  # a bounded window needs only which GPUs are taken over it (one row per node)
        free = snapshot_of_taken(fleet, uow.taken(model.name, start, end), states)
        first = place_shape(placer, model, shape, gpus, free, rng)
        if isinstance(first, Placement):
            return Admission(fleet, first, start, ())
        verdict: Unschedulable | None = first
    else:
        raw = uow.bookings(model.name, start, end)
        placed, verdict, window_end = attempt(start, raw)
        if placed is not None:
            return Admission(fleet, placed, start, (), _held_until(fleet, placed, raw, start, window_end))
    assert verdict is not None
    if not preempt:
        return verdict
    yield_at = max(start, now + notice)
    if yield_at > start and not may_shift:
        return verdict
    spot = {a.id: a for a in uow.live_allocations(None, model.name, now, None, product=Product.SPOT)}
    if not spot:
        return verdict
    raw = uow.bookings(model.name, yield_at, end)
    yielded = yielding(raw, set(spot), yield_at)
    second, _, window_end = attempt(yield_at, yielded)
    if second is None:
        return verdict
    chosen = {(fleet.nodes[s.node].id, slot) for s in second.shares for slot in s.gpu_slots}
    hit = {
        b.allocation_id
        for b in raw
        if b.allocation_id in spot and (b.node_id, b.slot) in chosen and b.overlaps(yield_at, end)
    }
    others = [b for b in yielded if b.allocation_id not in hit]
    return Admission(
        fleet,
        second,
        yield_at,
        tuple(spot[i] for i in sorted(hit)),
        _held_until(fleet, second, others, yield_at, window_end),
    )


def _held_until(
    fleet: Fleet,
    placement: Placement,
    bookings: list[GpuBooking],
    start: datetime,
    window_end: datetime | None,
) -> datetime | None:
    """For a placement found over a bounded span of an open-ended request: the earliest start of another
    booking on its GPUs (the next commitment), which is where it must end."""
    if window_end is None:
        return None
    chosen = {(fleet.nodes[s.node].id, slot) for s in placement.shares for slot in s.gpu_slots}
    starts = [
        b.start
        for b in bookings
        if (b.node_id, b.slot) in chosen and b.start >= start and b.overlaps(start, None)
    ]
    return min(starts) if starts else None


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


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """One request for capacity as the products phrase it: `gpus` of `model` in `shape` over
    [start, end) (end None: until stopped), priced `price_minor` in the price book's currency."""

    product: Product
    model: str
    shape: Shape
    gpus: int
    start: datetime
    end: datetime | None
    price_minor: int
    project: str | None = None
    idempotency_key: str | None = None
    nodes_requested: int = 0
    asked: tuple[tuple[str, str], ...] = ()
    """The request's own words that the fields above do not keep (an instant as given, the hours), for
    the idempotency digest: the same key with another request is a Conflict, not the first answer."""

    def digest(self, project_id: str) -> str:
        """sha256 of the canonical request: product, model, shape, GPUs, nodes, project and what was asked."""
        canonical = {
            "product": self.product.value,
            "model": self.model,
            "shape": self.shape.value,
            "gpus": self.gpus,
            "nodes": self.nodes_requested,
            "project": project_id,
            **dict(self.asked),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


_PREFIX = {Product.RESERVED: "rsv", Product.ON_DEMAND: "ins", Product.SPOT: "spt"}


def admit(deps: Deps, principal: Principal, req: AdmissionRequest, now: datetime) -> Allocation:
    """Place and record `req` for `principal`'s project, or raise Conflict with the engine's reasons
    (QuotaExceeded past a quota). The same idempotency key from the same tenant returns the first
    allocation; reused for a different request, IdempotencyConflict."""
    key = req.idempotency_key
    if key is not None and not 0 < len(key) <= KEY_MAX:
        raise InvalidInput(f"an idempotency key has 1..{KEY_MAX} characters")
    model = gpu_model(req.model)
    with deps.uow() as uow:
        project = resolve_project(uow, principal, req.project)
        digest = req.digest(project.id) if key is not None else None
        quotas = [q for q in uow.quotas(project.tenant_id) if q.model == model.name]
        if quotas:
            uow.lock_tenant(project.tenant_id)  # one tenant's quota-bound decisions, one at a time
        if key is not None:
            uow.lock_key(project.tenant_id, key)  # one request per key at a time; other keys pass
            if (done := uow.allocation_by_key(project.tenant_id, key)) is not None:
                return _same_request(done, req, model.name, key, digest)
        alloc, first = Allocation.new(
            AllocationId(deps.ids.new_id(_PREFIX[req.product])),
            project.tenant_id,
            project.id,
            req.product,
            model.name,
            req.gpus,
            req.start,
            req.end,
            at=now,
            nodes_requested=req.nodes_requested,
            shape=req.shape.value,
            price_minor=req.price_minor,
            currency=deps.prices.currency(),
            idempotency_key=key,
            request_digest=digest,
        )
        if quotas:
            check_quota(uow, alloc, quotas)
        rng = random.Random(alloc.id)
        verdict = _claimed_decision(uow, deps, req, model, now, rng)
        if isinstance(verdict, Admission):
            placed = persist(uow, alloc, [first], verdict, now=now, notice=deps.spot_notice)
            uow.commit()
            return placed
    # Out of the unit of work (it held the write lock): when would it fit?
    duration = (req.end - req.start) if req.end is not None else OPEN_ENDED_SPANS[-1]
    fit = earliest(deps, model, req.shape, req.gpus, req.start, duration, now)
    raise unschedulable(verdict, f"{req.gpus} {model.name} GPUs ({req.shape.value}) do not fit", fit.start)


CLAIM_ROUNDS = 10
BACKOFF_S = 0.002  # doubled each round it backs off: at most ~1 s in all


def _claimed_decision(
    uow: UnitOfWork, deps: Deps, req: AdmissionRequest, model: GpuModel, now: datetime, rng: random.Random
) -> Admission | Unschedulable:
    """Decide, then lock the nodes the decision books and check that nothing was booked on them since
    it read the bookings; decide again if it was.

    Nodes another decision holds right now are skipped (SKIP LOCKED), so concurrent decisions spread
    over different nodes instead of queueing behind one lock. When the only fit is on held nodes, the
    decision backs off briefly (their holders commit in milliseconds) and decides again on a fresh read;
    only its last round waits for the nodes it chose (bounded by the database's lock timeout), so a
    burst racing for the last capacity resolves into admissions and clear Conflicts, not lock chains."""
    excluded: set[str] = set()
    for round_ in range(CLAIM_ROUNDS):
        last = round_ == CLAIM_ROUNDS - 1
        timed = TimedPlacer(deps.placer)
        verdict = decide(
            uow,
            timed,
            model,
            req.shape,
            req.gpus,
            req.start,
            req.end,
            now=now,
            notice=deps.spot_notice,
            rng=rng,
            preempt=req.product is not Product.SPOT,
            may_shift=req.product is Product.ON_DEMAND,
            fleets=deps.fleets,
            excluded=None if last else excluded,
        )
        deps.placement_timings.observe(req.product.value, timed.seconds)
        if not isinstance(verdict, Admission):
            if excluded and not last:
                excluded = set()  # the nodes others hold may be the only fit: look again once they commit
                time.sleep(BACKOFF_S * 2**round_)
                continue
            return verdict
        chosen = sorted({n for n, _ in verdict.gpus()})
        claimed = uow.claim_nodes(chosen, wait=last)
        if claimed != set(chosen):
            excluded |= set(chosen) - claimed
            continue
        if _still_free(uow, verdict, req.end, model.name):
            return verdict
    return Unschedulable({"contended": 1}, "capacity is contended by concurrent requests; retry")


def _still_free(uow: UnitOfWork, adm: Admission, end: datetime | None, model: str) -> bool:
    """Whether the GPUs `adm` books are still free over its window, reading after the claim (so current)."""
    mine = set(adm.gpus())
    victims = {v.id for v in adm.victims}
    until = adm.until if adm.until is not None else end
    nodes = sorted({n for n, _ in mine})
    for b in uow.bookings(model, adm.start, until, nodes=nodes):
        if (b.node_id, b.slot) in mine and b.allocation_id not in victims and b.overlaps(adm.start, until):
            return False
    return True


def _same_request(
    done: Allocation, req: AdmissionRequest, model: str, key: str, digest: str | None
) -> Allocation:
    """The stored allocation for a reused idempotency key, if it was made from the same canonical request
    (every field, compared by digest); IdempotencyConflict otherwise. Allocations stored before digests
    were kept compare by product, model, GPUs and shape."""
    if done.request_digest is not None:
        same = done.request_digest == digest
    else:
        same = (done.product, done.model, done.gpus, done.shape) == (
            req.product,
            model,
            req.gpus,
            req.shape.value,
        )
    if not same:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for a different request ({done.id})",
            details={"idempotency_key": key, "existing": done.id},
        )
    return done
