"""The reconciler: drive allocations through their lifecycle as time passes.

Each step is its own short transaction on one locked allocation row (FOR UPDATE SKIP LOCKED on
PostgreSQL, the single writer on SQLite) that re-checks the state before moving it, so several
reconcilers at once make each transition exactly once. Provisioner calls happen after the commit
(durable intent first); they are idempotent, so a crash between commit and call is finished by the next
pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from neocloud.control.app.ports import Provisioner, UnitOfWork
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
    uow_factory: Callable[[], UnitOfWork], clock: Clock, provisioner: Provisioner, max_items: int
) -> ReconcileReport:
    tally = _Tally()
    now = clock.now()
    with uow_factory() as uow:
        due = [a.id for a in uow.due(now, max_items)]
    for allocation_id in due:
        try:
            _advance(uow_factory, provisioner, allocation_id, now, tally)
        except Exception as err:  # one failing call-out must not stall the others; the next pass retries
            tally.details.append(f"{allocation_id}: will retry after {type(err).__name__}: {err}")
    return ReconcileReport(
        tally.started,
        tally.provisioned,
        tally.ended,
        tally.preempted,
        tally.failed,
        tally.details,
        tally.ending,
    )


def _advance(
    uow_factory: Callable[[], UnitOfWork],
    provisioner: Provisioner,
    allocation_id: str,
    now: datetime,
    tally: _Tally,
) -> None:
    """Take one allocation through every step due now (at most four)."""
    for _ in range(4):  # a few steps per pass: scheduled → provisioning → active, or ending → ended
        with uow_factory() as uow:
            peek = uow.get_allocation(allocation_id)
        if peek is None:
            break
        ready: bool | None = None
        if peek.state is State.PROVISIONING:
            provisioner.provision(peek.id, peek.nodes)  # idempotent: finishes work a crash interrupted
            ready = provisioner.is_ready(peek.id)
        if peek.state is State.ENDING or _step(peek, ready, now) is State.PREEMPTED:
            provisioner.release(peek.id, peek.nodes)  # before the commit, so a crash leaves it due
        moved = _transition(uow_factory, allocation_id, ready, now)
        if moved is None:
            break
        _count(tally, moved)
        if moved.state is State.PROVISIONING:
            provisioner.provision(moved.id, moved.nodes)
        if moved.state in (State.ACTIVE, State.PREEMPTED, State.ENDED):
            break


def _transition(
    uow_factory: Callable[[], UnitOfWork], allocation_id: str, ready: bool | None, now: datetime
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
