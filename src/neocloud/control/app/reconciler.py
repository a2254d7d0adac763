"""The reconciler: drive allocations through their lifecycle as time passes.

Look-ups (what is due, each allocation's current state, the grants held) are read-only units of work:
on SQLite they read beside the writer instead of taking its lock. Each step is its own short
transaction on one locked allocation row (FOR UPDATE SKIP LOCKED on
PostgreSQL, the single writer on SQLite) that re-checks the state before moving it, so several
reconcilers at once make each transition exactly once. Provisioner calls happen after the commit
(durable intent first); they are idempotent, so a crash between commit and call is finished by the next
pass.

A provisioner call that fails leaves the allocation where it was, records an event naming the cause
(`provisioning: retry 3 in 4s after slurmctld unreachable`) and is retried with exponential backoff
(`Retries`). A provisioner with state of its own (`horizon()` not None: Slurm) is then converged with
every grant neocloud holds, so a crash between commit and call, or a change made by hand, is repaired.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from neocloud.control.app.ports import Grant, Provisioner, ProvisionError, UnitOfWorkFactory
from neocloud.control.app.views import ReconcileReport
from neocloud.control.domain.allocations import Allocation
from neocloud.kernel.clock import Clock
from neocloud.kernel.products import Product, State


@dataclass
class _Tally:
    started: int = 0
    provisioned: int = 0
    ended: int = 0
    preempted: int = 0
    failed: int = 0
    ending: int = 0
    details: list[str] = field(default_factory=list)


@dataclass
class Retries:
    """Backoff per allocation for failed provisioner calls: the first retry is at once (the next pass:
    a crash or a blip), retry k > 1 waits min(cap, base * 2^(k-2)).
    In-process (a restarted worker starts over, which only retries sooner); thread-safe."""

    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(seconds=60)
    _state: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def waiting(self, allocation_id: str, now: datetime) -> bool:
        with self._lock:
            st = self._state.get(allocation_id)
            return st is not None and now < st[1]

    def failed(self, allocation_id: str, now: datetime) -> tuple[int, timedelta]:
        """Count a failure; returns (attempt, wait before the next)."""
        with self._lock:
            attempt = self._state.get(allocation_id, (0, now))[0] + 1
            wait = timedelta(0) if attempt == 1 else min(self.cap, self.base * (2 ** min(attempt - 2, 30)))
            self._state[allocation_id] = (attempt, now + wait)
            return attempt, wait

    def succeeded(self, allocation_id: str) -> None:
        with self._lock:
            self._state.pop(allocation_id, None)

    def pending(self) -> int:
        """How many allocations are backing off."""
        with self._lock:
            return len(self._state)

    def keep_only(self, due: Collection[str]) -> None:
        """Forget allocations no longer due (ended, cancelled, done elsewhere), so the state never grows
        with history."""
        with self._lock:
            for gone in [a for a in self._state if a not in due]:
                del self._state[gone]


CONVERGE_STATES = (State.SCHEDULED, State.PROVISIONING, State.ACTIVE)
CONVERGE_PAGE = 500


def _step(alloc: Allocation, now_ready: bool | None, now: datetime) -> State | None:
    """The next state for `alloc` now, or None when nothing is due. Pure."""
    if (
        alloc.notice_until is not None
        and alloc.notice_until <= now
        and alloc.state
        in (
            State.SCHEDULED,
            State.PROVISIONING,
            State.ACTIVE,
        )
    ):
        return State.PREEMPTED
    if alloc.state is State.SCHEDULED and alloc.start <= now:
        return State.PROVISIONING
    if alloc.state in (State.PROVISIONING, State.ACTIVE) and alloc.end is not None and alloc.end <= now:
        return State.ENDING
    if alloc.state is State.PROVISIONING and now_ready:
        return State.ACTIVE
    if alloc.state is State.ENDING:
        return State.ENDED
    return None


def reconcile(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    provisioner: Provisioner,
    max_items: int,
    retries: Retries | None = None,
) -> ReconcileReport:
    tally = _Tally()
    retries = retries if retries is not None else Retries()
    now = clock.now()
    with uow_factory(read_only=True) as uow:  # those backing off are read too: they must not crowd others out
        due = uow.due(now, max_items + retries.pending())
    retries.keep_only({a.id for a in due})
    for seen in [a for a in due if not retries.waiting(a.id, now)][:max_items]:
        allocation_id = seen.id
        try:
            _advance(uow_factory, provisioner, allocation_id, now, tally, seen)
            retries.succeeded(allocation_id)
        except Exception as err:  # one failing call-out must not stall the others; the next pass retries
            cause = err.cause if isinstance(err, ProvisionError) else f"{type(err).__name__}: {err}"
            attempt, wait = retries.failed(allocation_id, now)
            tally.details.append(f"{allocation_id}: will retry after {cause}")
            _record_retry(uow_factory, allocation_id, now, attempt, wait, cause)
    horizon = provisioner.horizon()
    if horizon is not None:
        _converge(uow_factory, provisioner, now, horizon, tally)
    return ReconcileReport(
        tally.started,
        tally.provisioned,
        tally.ended,
        tally.preempted,
        tally.failed,
        tally.details,
        tally.ending,
    )


def held_grants(uow_factory: UnitOfWorkFactory, until: datetime | None) -> list[Grant]:
    """Every grant neocloud holds now: the placed allocations that will hold or hold their nodes
    (scheduled, provisioning, active) and start before `until` (None: any time). Read in pages, each
    its own short read."""
    grants: list[Grant] = []
    after: str | None = None
    while True:
        with uow_factory(read_only=True) as uow:
            items, _ = uow.list_allocations(None, list(Product), list(CONVERGE_STATES), after, CONVERGE_PAGE)
        grants += [Grant.of(a) for a in items if a.nodes and (until is None or a.start < until)]
        if len(items) < CONVERGE_PAGE:
            return grants
        after = items[-1].id


def _converge(
    uow_factory: UnitOfWorkFactory,
    provisioner: Provisioner,
    now: datetime,
    horizon: timedelta,
    tally: _Tally,
) -> None:
    try:
        # the provisioner reads the cluster, then what neocloud holds (each read outside any transaction)
        result = provisioner.converge(lambda: held_grants(uow_factory, now + horizon), now)
    except Exception as err:
        cause = err.cause if isinstance(err, ProvisionError) else f"{type(err).__name__}: {err}"
        tally.details.append(f"converge: will retry after {cause}")
        return
    for verb, ids in (("created", result.created), ("updated", result.updated), ("deleted", result.deleted)):
        tally.details += [f"{i}: converge {verb}" for i in ids]
    tally.details += [f"{i}: converge failed: {cause}" for i, cause in result.failed]


def _record_retry(
    uow_factory: UnitOfWorkFactory,
    allocation_id: str,
    now: datetime,
    attempt: int,
    wait: timedelta,
    cause: str,
) -> None:
    """An event on the allocation naming the cause of a failed provisioner call (its state unchanged)."""
    try:
        with uow_factory() as uow:
            alloc = uow.get_allocation(allocation_id, lock=True, skip_locked=True)
            if alloc is None or not alloc.live:
                return
            reason = f"{alloc.state.value}: retry {attempt} in {wait.total_seconds():g}s after {cause}"
            uow.add_event(alloc.event(alloc.state, alloc.state, max(now, alloc.created_at), reason[:500]))
            uow.commit()
    except Exception:  # the database itself failing: the next pass tries again
        return


def _advance(
    uow_factory: UnitOfWorkFactory,
    provisioner: Provisioner,
    allocation_id: str,
    now: datetime,
    tally: _Tally,
    seen: Allocation | None = None,
) -> None:
    """Take one allocation through every step due now (at most four).

    Each step looks at the allocation first, outside any transaction, to make its provisioner calls
    and to open no writing transaction when nothing is due; the locked transition re-checks it. The
    look is a fresh read, except where what is in hand will do: the allocation as `seen` in the due
    list when it is scheduled (no provisioner call comes before its transition), and the allocation as
    this pass's own transition left it (it committed that a moment ago)."""
    known = seen if seen is not None and seen.state is State.SCHEDULED else None
    for _ in range(4):  # a few steps per pass: scheduled → provisioning → active, or ending → ended
        if known is not None:
            peek: Allocation | None = known
        else:
            with uow_factory(read_only=True) as uow:
                peek = uow.get_allocation(allocation_id)
        if peek is None:
            break
        ready: bool | None = None
        if peek.state is State.PROVISIONING:
            provisioner.provision(Grant.of(peek))  # idempotent: finishes work a crash interrupted
            ready = provisioner.is_ready(peek.id)
        if _step(peek, ready, now) is None:
            break  # nothing due (as read): no writing transaction just to find that out again
        if peek.state is State.ENDING or _step(peek, ready, now) is State.PREEMPTED:
            provisioner.release(peek.id, peek.nodes)  # before the commit, so a crash leaves it due
        moved = _transition(uow_factory, allocation_id, ready, now)
        if moved is None:
            break
        _count(tally, moved)
        if moved.state is State.PROVISIONING:
            provisioner.provision(Grant.of(moved))
        if moved.state in (State.ACTIVE, State.PREEMPTED, State.ENDED):
            break
        known = moved


def _transition(
    uow_factory: UnitOfWorkFactory, allocation_id: str, ready: bool | None, now: datetime
) -> Allocation | None:
    with uow_factory() as uow:
        alloc = uow.get_allocation(allocation_id, lock=True, skip_locked=True)
        if alloc is None:
            return None  # gone, or another reconciler holds it
        nxt = _step(alloc, ready, now)
        if nxt is None:
            return None
        reason = {
            State.PREEMPTED: "spot notice elapsed"
            if alloc.product is Product.SPOT
            else "its GPUs are committed to a reservation from now",
            State.PROVISIONING: "start time reached",
            State.ENDING: "end time reached",
            State.ACTIVE: "nodes ready",
            State.ENDED: "nodes released",
        }[nxt]
        at = alloc.notice_until if nxt is State.PREEMPTED and alloc.notice_until else now
        moved, event = alloc.to(nxt, at=max(at, alloc.created_at), reason=reason)
        if nxt is State.PREEMPTED:
            uow.end_bookings(alloc.id, max(at, alloc.start))
        uow.update_allocation(moved)
        uow.add_event(event)
        uow.commit()
    return moved


def _count(t: _Tally, moved: Allocation) -> None:
    match moved.state:
        case State.PROVISIONING:
            t.started += 1
        case State.ACTIVE:
            t.provisioned += 1
        case State.ENDING:
            t.ending += 1
        case State.ENDED:
            t.ended += 1
        case State.PREEMPTED:
            t.preempted += 1
        case State.FAILED:
            t.failed += 1
        case _:
            pass
    t.details.append(f"{moved.id}: {moved.state.value}")
