"""`neocloud bench billing`: meter and rate one month of synthetic allocations on a large fleet.

A seeded generator draws a fleet (100k nodes by default) and N allocations across products and
lifecycles (run to the end, still running, cancelled, preempted, failed, reserved windows, extensions).
The clock then walks the month a day at a time, metering after each day as production would; at the end
every tenant's invoice is finalized and the month is reconciled. Each phase is timed with
`time.perf_counter` (the benchmark, not the domain, reads the clock). The ledger and invoices live in
memory, a fresh SQLite file or a temporary PostgreSQL schema; events come from an in-memory log.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from neocloud.billing.app.ports import LifecycleEventSource
from neocloud.billing.app.service import BillingService
from neocloud.billing.domain.metering import LifecycleEvent
from neocloud.billing.domain.pricing import PriceKey, default_catalog
from neocloud.bootstrap import build_services, event_log, scratch_settings
from neocloud.fleet.fleet import Fleet, Node
from neocloud.infra.clock import ManualClock
from neocloud.kernel import reference as ref
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.periods import Period
from neocloud.kernel.products import Product, State

MODELS = ("H100", "H200", "B200", "GB200")
MODEL_WEIGHTS = (0.35, 0.2, 0.3, 0.15)


def synthetic_fleet(nodes: int, rng: random.Random) -> Fleet:
    """`nodes` nodes in racks, models drawn with MODEL_WEIGHTS."""
    figures = {f.name: f for f in ref.DATACENTER_GPUS}
    out = []
    for i in range(nodes):
        model = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        per_rack = ref.NVL72_TRAYS_PER_RACK if model == "GB200" else 4
        rack = f"{model}-r{i // per_rack}"
        out.append(
            Node(
                NodeId(f"n{i}"),
                model,
                figures[model].gpus_per_node,
                64_000,
                1_024_000,
                rack=rack,
                nvlink=rack,
            )
        )
    return Fleet.build("bench-billing", out)


def synthetic_allocations(
    fleet: Fleet, count: int, month: Period, rng: random.Random, tenants: int = 500
) -> list[LifecycleEvent]:
    """Events for `count` allocations whose lives overlap `month`."""
    events: list[LifecycleEvent] = []
    span = int((month.end - month.start).total_seconds())
    for i in range(count):
        node = fleet.nodes[rng.randrange(len(fleet.nodes))]
        tenant = rng.randrange(tenants)
        product = rng.choices([Product.ON_DEMAND, Product.SPOT, Product.RESERVED], [5, 2, 3])[0]
        width = rng.choice([1, 1, 2, 4, 16, 64]) if node.gpus > 1 else 1
        gpus = node.gpus * width if rng.random() < 0.7 else max(1, node.gpus // 2)
        milli = 1000
        if rng.random() < 0.05:
            gpus, milli = 1, rng.choice([250, 500])
        template = LifecycleEvent(
            allocation_id=AllocationId(f"alloc-{i}"),
            tenant_id=TenantId(f"tenant-{tenant}"),
            project_id=ProjectId(f"tenant-{tenant}-p{rng.randrange(4)}"),
            product=product,
            model=node.model,
            gpus=gpus,
            milli_per_gpu=milli,
            to_state=State.REQUESTED,
            at=month.start,
        )

        def ev(
            state: State,
            at: datetime,
            window: tuple[datetime, datetime] | None = None,
            template: LifecycleEvent = template,
        ) -> LifecycleEvent:
            if window is None:
                return replace(template, to_state=state, at=at)
            return replace(
                template, to_state=state, at=at, window_start=window[0], window_end=window[1], term_months=1
            )

        begin = month.start + timedelta(seconds=rng.randrange(-5 * 86_400, span - 3600))
        fate = rng.random()
        if product is Product.RESERVED:
            ws = begin + timedelta(hours=rng.randrange(48))
            we = ws + timedelta(days=rng.choice([7, 14, 30]))
            events.append(ev(State.SCHEDULED, begin, (ws, we)))
            if fate < 0.1:
                events.append(ev(State.CANCELLED, begin + (ws - begin) / 2))
            elif fate < 0.3:
                events.append(ev(State.ACTIVE, ws, (ws, we + timedelta(days=7))))  # extended
            else:
                events.append(ev(State.ACTIVE, ws, (ws, we)))
            continue
        active = begin + timedelta(seconds=rng.randrange(600))
        events.append(ev(State.REQUESTED, begin))
        if fate < 0.05:
            events.append(ev(State.CANCELLED, active))
            continue
        events.append(ev(State.ACTIVE, active))
        if fate < 0.2:
            continue  # still running at the end of the month
        stop = active + timedelta(seconds=rng.randrange(600, 12 * 86_400))
        if product is Product.SPOT and fate < 0.5:
            events.append(ev(State.PREEMPTED, stop))
        elif fate < 0.25:
            events.append(ev(State.FAILED, stop))
        else:
            events.append(ev(State.ENDING, stop))
            events.append(ev(State.ENDED, stop + timedelta(seconds=30)))
    events.sort(key=lambda e: e.at)
    return events


def run(
    allocations: int = 10_000,
    nodes: int = 100_000,
    seed: int = 1,
    year: int = 2026,
    month_number: int = 10,
    store: str = "memory",
    database_url: str | None = None,
) -> dict[str, Any]:
    """Build, meter daily, finalize, reconcile; return the figures (times in seconds). Billing is wired
    by bootstrap over a scratch database (memory, a temporary SQLite file or a temporary PostgreSQL
    schema at `database_url`) and meters an in-memory log of the synthetic events."""
    month = Period.month(year, month_number)
    log = event_log()
    clock = ManualClock(month.start)
    with (
        scratch_settings(store, database_url) as settings,
        closing(build_services(settings, clock=clock, events=log)) as services,
    ):
        assert services.billing is not None
        figures = _run(services.billing, log, clock, allocations, nodes, seed, month)
    return {"store": store, **figures}


class EventLog(LifecycleEventSource, Protocol):
    """The events billing meters here: a log the benchmark fills (bootstrap.event_log())."""

    def extend(self, events: Iterable[LifecycleEvent]) -> None: ...


def _run(
    service: BillingService,
    log: EventLog,
    clock: ManualClock,
    allocations: int,
    nodes: int,
    seed: int,
    month: Period,
) -> dict[str, Any]:
    times: dict[str, float] = {}
    t = time.perf_counter()
    fleet = synthetic_fleet(nodes, random.Random(f"{seed}:fleet"))
    events = synthetic_allocations(fleet, allocations, month, random.Random(f"{seed}:allocations"))
    times["generate_s"] = time.perf_counter() - t

    store = service.store
    catalog = default_catalog()
    spot_rng = random.Random(f"{seed}:spot")
    hour = month.start - timedelta(days=7)
    key = PriceKey.of("H100", Product.SPOT)
    while hour < month.end + timedelta(days=45):  # the operator moves the H100 spot price every hour
        catalog = catalog.with_price(
            key, Decimal("2.46") + Decimal(spot_rng.randrange(-40, 41)) / 100, "USD", hour
        )
        hour += timedelta(hours=1)
    store.save_catalog(catalog)
    log.extend(events)

    t = time.perf_counter()
    day = month.start + timedelta(days=1)
    while day <= month.end + timedelta(hours=1):
        clock.set(day)
        service.meter()
        day += timedelta(days=1)
    clock.set(month.end + timedelta(hours=1))
    times["meter_s"] = time.perf_counter() - t

    t = time.perf_counter()
    invoices = service.finalize(month)
    times["rate_s"] = time.perf_counter() - t

    t = time.perf_counter()
    report = service.reconcile(month)
    times["reconcile_s"] = time.perf_counter() - t

    revenue = sum((i.subtotal.decimal() for i in invoices), Decimal(0))
    return {
        "allocations": allocations,
        "nodes": len(fleet.nodes),
        "gpus": fleet.gpu_count(),
        "events": len(events),
        "ledger_entries": len(store.usage()),
        "invoices": len(invoices),
        "invoice_lines": sum(len(i.lines) for i in invoices),
        "gpu_hours": str(round(Decimal(report.ledger_milli) / 3_600_000)),
        "revenue_usd": str(revenue),
        "differences": len(report.differences),
        **{k: round(v, 3) for k, v in times.items()},
        "meter_rate_reconcile_s": round(times["meter_s"] + times["rate_s"] + times["reconcile_s"], 3),
    }
