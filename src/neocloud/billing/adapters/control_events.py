"""The control plane's allocation events, as billing's `LifecycleEvent`s.

Control records every transition as an append-only event row; the reserved window is the allocation's
`[start, end)` (an extension moves `end`; stopping a running reservation early moves `end` to the stop).
Times are cut to whole seconds, the unit billing meters in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from neocloud.billing.domain.metering import LifecycleEvent
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.domain.allocations import Allocation, Event
from neocloud.kernel.ids import TenantId
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


class ControlEventFeed:
    """A LifecycleEventSource over the control plane's UnitOfWork (memory or SQL alike; on SQL,
    adapters/db/billing_feed.py reads the same in one query)."""

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    def lifecycle_events(self, until: datetime, tenant: TenantId | None = None) -> list[LifecycleEvent]:
        return sorted(self._iter(until, tenant), key=lambda e: e.at)

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
