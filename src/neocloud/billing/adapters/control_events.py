"""The control plane's allocation events, as billing's `LifecycleEvent`s.

Control records every transition as an append-only event row; the reserved window is the allocation's
`[start, end)` (an extension moves `end`; stopping a running reservation early moves `end` to the stop).
Times are cut to whole seconds, the unit billing meters in.

On the memory store the feed reads the store's event log directly (`events_after`: by tenant, or from
a cursor) instead of paging through every allocation, and it is a `MeteringCursor`: a metering pass
reads the allocations still running plus those with new events, never the whole history again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from neocloud.billing.domain.metering import TERMINAL, LifecycleEvent
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.domain.allocations import Allocation, Event
from neocloud.kernel.ids import AllocationId, TenantId
from neocloud.kernel.products import Product

PAGE = 500


def _second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def lifecycle_event(event: Event, allocation: Allocation) -> LifecycleEvent:
    """One control-plane event in billing's terms (the window from the allocation, for reservations)."""
    window = allocation.product is Product.RESERVED and allocation.end is not None
    return LifecycleEvent(
        allocation_id=event.allocation_id,
        tenant_id=event.tenant_id,
        project_id=event.project_id,
        product=event.product,
        model=event.model,
        gpus=event.gpus,
        to_state=event.to_state,
        at=_second(event.at),
        window_start=_second(allocation.start) if window else None,
        window_end=_second(allocation.end) if window and allocation.end is not None else None,
    )


@runtime_checkable
class EventLog(Protocol):
    """A unit of work that reads its event log from a position (the memory store's)."""

    def events_after(self, position: int, tenant_id: str | None = None) -> tuple[list[Event], int]: ...
    def events(self, allocation_id: str) -> list[Event]: ...
    def get_allocation(self, allocation_id: str) -> Allocation | None: ...


def _in_order(events: list[LifecycleEvent]) -> list[LifecycleEvent]:
    """Time order; ties by allocation id, then as recorded (what paging by allocation id gave)."""
    return sorted(events, key=lambda e: (e.at, e.allocation_id))


class ControlEventFeed:
    """A LifecycleEventSource over the control plane's UnitOfWork (memory or SQL alike; on SQL,
    billing/adapters/sql/feed.py reads the same in one query). A MeteringCursor on the memory store."""

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow
        self._lock = threading.Lock()
        self._position = 0  # events of the log read so far by `unmetered_events`
        self._open: dict[str, None] = {}  # allocations met in the log and not metered to the end
        self._seen: dict[_Key, LifecycleEvent] = {}  # conversions made (memory store): see `_converted`

    def lifecycle_events(self, until: datetime, tenant: TenantId | None = None) -> list[LifecycleEvent]:
        with self._uow() as uow:
            if isinstance(uow, EventLog):
                events, _ = uow.events_after(0, tenant)
                return _in_order(self._converted(uow, (e for e in events if e.at <= until)))
        return sorted(self._iter(until, tenant), key=lambda e: e.at)

    def unmetered_events(self, until: datetime) -> tuple[list[LifecycleEvent], Collection[AllocationId]]:
        with self._lock, self._uow() as uow:
            if isinstance(uow, EventLog):
                return self._unmetered(uow, until)
        return sorted(self._iter(until, None), key=lambda e: e.at), ()  # another store: all of them

    def _unmetered(self, uow: EventLog, until: datetime) -> tuple[list[LifecycleEvent], list[AllocationId]]:
        """Under the feed's lock and inside the store's unit of work."""
        new, self._position = uow.events_after(self._position)
        for e in new:
            self._open[e.allocation_id] = None
        out: list[LifecycleEvent] = []
        done: list[AllocationId] = []
        for allocation_id in self._open:
            events = [e for e in uow.events(allocation_id) if e.at <= until]
            if not events:
                continue
            out.extend(self._converted(uow, events))
            if any(e.to_state in TERMINAL for e in events):
                done.append(AllocationId(allocation_id))
        return _in_order(out), done

    def metered(self, done: Collection[AllocationId]) -> None:
        with self._lock:
            for allocation_id in done:
                self._open.pop(allocation_id, None)

    def _iter(self, until: datetime, tenant: TenantId | None) -> Iterator[LifecycleEvent]:
        after: str | None = None
        with self._uow() as uow:
            while True:
                page, _ = uow.list_allocations(tenant, tuple(Product), None, after, PAGE)
                for allocation in page:
                    for event in uow.events(allocation.id):
                        if event.at <= until:
                            yield lifecycle_event(event, allocation)
                if len(page) < PAGE:
                    return
                after = page[-1].id

    def _converted(self, uow: EventLog, events: Iterator[Event] | list[Event]) -> list[LifecycleEvent]:
        """Each event in billing's terms. The memory store keeps every event for good, and each
        metering pass and invoice preview reads them again: a conversion is kept, by the event and
        what it takes from its allocation (so an allocation whose window moved converts anew)."""
        allocations: dict[str, Allocation | None] = {}
        seen = self._seen
        out = []
        for e in events:
            if e.allocation_id not in allocations:
                allocations[e.allocation_id] = uow.get_allocation(e.allocation_id)
            allocation = allocations[e.allocation_id]
            if allocation is not None:
                key = (e, allocation.product, allocation.start, allocation.end)
                found = seen.get(key)
                if found is None:
                    found = seen[key] = lifecycle_event(e, allocation)
                out.append(found)
        return out


_Key = tuple[Event, Product, datetime, datetime | None]
