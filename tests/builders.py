"""One-line fixtures: `fleet(node("a", gpus=8), node("b", model="T4", gpus=2))`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from neocloud.billing.adapters.memory import MemoryBillingStore, MemoryEventLog
from neocloud.billing.app.service import BillingService
from neocloud.billing.app.settings import BillingSettings
from neocloud.billing.domain.metering import LifecycleEvent
from neocloud.fleet.capacity import Capacity
from neocloud.fleet.fleet import Fleet, Node
from neocloud.infra.clock import ManualClock
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId


def node(
    name: str,
    *,
    model: str = "H100",
    gpus: int = 8,
    cpu: int = 64_000,
    mem: int = 256_000,
    rack: str | None = None,
    nvlink: str | None = None,
    leaf: str = "leaf-0",
    su: str = "su-0",
    fabric: str = "fabric-0",
    hall: str = "hall-0",
) -> Node:
    return Node(
        NodeId(name),
        model,
        gpus,
        cpu,
        mem,
        rack=rack or f"rack-{name}",
        nvlink=nvlink or f"nvl-{name}",
        leaf=leaf,
        su=su,
        fabric=fabric,
        hall=hall,
    )


def fleet(*nodes: Node, name: str = "test") -> Fleet:
    return Fleet.build(name, nodes)


def capacity(*nodes: Node) -> Capacity:
    return Capacity(fleet(*nodes))


# Billing ------------------------------------------------------------------------------------------------

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def at(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """An instant relative to T0 (2026-10-01 00:00 UTC)."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def event(
    allocation: str,
    state: str,
    when: datetime,
    *,
    tenant: str = "acme",
    project: str = "p1",
    product: str = "on-demand",
    model: str = "H100",
    gpus: int = 8,
    milli: int = 1000,
    window: tuple[datetime, datetime] | None = None,
    term: int | None = None,
) -> LifecycleEvent:
    return LifecycleEvent(
        allocation_id=AllocationId(allocation),
        tenant_id=TenantId(tenant),
        project_id=ProjectId(project),
        product=product,
        model=model,
        gpus=gpus,
        milli_per_gpu=milli,
        to_state=state,  # type: ignore[arg-type]
        at=when,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        term_months=term,
    )


def run(
    allocation: str, start: datetime, end: datetime | None = None, *, end_state: str = "ended", **kw: object
) -> list[LifecycleEvent]:
    """An on-demand (or spot) allocation: requested and active at `start`, `end_state` at `end`."""
    events = [event(allocation, "requested", start, **kw), event(allocation, "active", start, **kw)]  # type: ignore[arg-type]
    if end is not None:
        events.append(event(allocation, end_state, end, **kw))  # type: ignore[arg-type]
    return events


def reservation(
    allocation: str, start: datetime, end: datetime, *, booked: datetime | None = None, **kw: object
) -> list[LifecycleEvent]:
    """A reserved window `[start, end)`, scheduled at `booked` (default `start`); never used unless more
    events say so."""
    when = booked or start
    return [event(allocation, "scheduled", when, product="reserved", window=(start, end), **kw)]  # type: ignore[arg-type]


@dataclass
class BillingRig:
    service: BillingService
    log: MemoryEventLog
    store: MemoryBillingStore
    clock: ManualClock


def billing(
    now: datetime = T0,
    *,
    currency: str = "USD",
    grid_seconds: int = 86_400,
    usd_to_currency: str | None = None,
) -> BillingRig:
    """A BillingService over in-memory adapters and a manual clock."""
    log, store, clock = MemoryEventLog(), MemoryBillingStore(), ManualClock(now)
    settings = BillingSettings(currency=currency, grid_seconds=grid_seconds, usd_to_currency=usd_to_currency)
    return BillingRig(BillingService(store, log, clock, settings), log, store, clock)
