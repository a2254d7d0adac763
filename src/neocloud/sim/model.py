"""What both engines share: the scenario resolved into numbers, its seeded random sources, prices from
billing's catalog, calendar months, and the totals a run accumulates."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from neocloud.billing.domain.metering import nearest_term
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceKey, default_catalog
from neocloud.control.app.deps import DEFAULT_SPOT_NOTICE
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.money import round_half_even
from neocloud.kernel.periods import Period
from neocloud.sim import demand
from neocloud.sim.accounting import Levels
from neocloud.sim.scenarios import TRACE_SOURCES, Power, Scenario

PRODUCTS = ("reserved", "on-demand", "spot")


@dataclass
class SimTotals:
    events: int = 0
    admissions: int = 0
    failures: int = 0
    repairs: int = 0
    metering_passes: int = 0
    refused: list[int] = field(default_factory=lambda: [0, 0, 0])
    queued: list[int] = field(default_factory=lambda: [0, 0, 0])
    queue_delay_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    preempted: list[int] = field(default_factory=lambda: [0, 0, 0])
    interrupted: list[int] = field(default_factory=lambda: [0, 0, 0])
    completed: list[int] = field(default_factory=lambda: [0, 0, 0])
    wall_seconds: float = 0.0
    loop_seconds: float = 0.0  # the event loop alone: no set-up (fleet, tenants, contracts), no invoicing
    loop_cpu_seconds: float = 0.0
    levels: Levels | None = None
    series: dict[str, list[float]] = field(default_factory=dict)
    revenue: dict[str, Decimal] = field(default_factory=dict)
    revenue_by_contract_month: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    credits: Decimal = Decimal(0)
    notes: list[str] = field(default_factory=list)


class Model:
    """The scenario as numbers for one seed. Random sources (each its own stream, STYLE.md example 3):
    `{seed}:arrivals:on-demand`, `{seed}:arrivals:spot` (demand.py), `{seed}:failures:…` (the fault
    injector's streams per failure kind), `{seed}:failures:victims` (the pooled engine's pick of which job
    of a product a failure hits)."""

    def __init__(self, scenario: Scenario, seed: int, *, trace: Any = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.horizon = round(scenario.days * 86400)
        fleet = scenario.fleet()
        gpu = gpu_model(scenario.model)
        self.gpn = gpu.gpus_per_node
        self.node_ids = [n.id for n in fleet.nodes if n.model == scenario.model]
        self.nodes = len(self.node_ids)
        self.gpus = self.nodes * self.gpn
        self.spare_nodes = round(scenario.failures.spare_share * self.nodes)
        self.power: Power = scenario.power_figures()
        self.notice_s = int(DEFAULT_SPOT_NOTICE.total_seconds())
        hours = scenario.failures.repair_hours
        self.repair_s = None if hours is None else round(hours * 3600)
        self._nodes = [n for n in fleet.nodes if n.model == scenario.model]
        self.swap_s = round(scenario.failures.swap_minutes * 60)
        self.max_wait = [
            0,
            int(scenario.on_demand.max_wait_hours * 3600),
            int(scenario.spot.max_wait_hours * 3600),
        ]
        self.catalog = default_catalog(scenario.currency)
        self.downtimes: list[tuple[int, float, float, int]] = []
        self.totals = SimTotals()
        self.plans: list[demand.StreamPlan] = []
        self._trace = trace
        self._trace_columns: demand.TraceColumns | None = None
        if scenario.source == "philly" and trace is None:
            from neocloud.traces.philly import read_trace

            self._trace = read_trace(scenario.trace_path)
        elif scenario.source == "openb" and trace is None:
            from neocloud.sim import openb_demand

            self._trace = openb_demand.read_trace(scenario.trace_path, scenario.workload)
        streams = ((1, scenario.on_demand), (2, scenario.spot))
        peak: int | None = None  # the trace's peak, one for both streams (a pass over the whole trace)
        for product, stream in streams:
            share_gpus = int(stream.share * self.gpus)
            if scenario.source in TRACE_SOURCES:
                if peak is None:
                    peak = self._trace.peak_concurrent(self.gpn)
                plan = demand.philly_plan(self._trace, PRODUCTS[product], share_gpus, self.gpn, peak)
                self.plans.append(plan)

    def job_chunks(self, product: int) -> Iterator[demand.Chunk]:
        """The same stream as `jobs`, as column chunks (the pooled engine's fast path)."""
        stream = self.scenario.on_demand if product == 1 else self.scenario.spot
        if self.scenario.source in TRACE_SOURCES and int(stream.share * self.gpus) > 0:
            plan = self.plans[product - 1]
            return demand.philly_chunks(
                self._trace, plan, self.gpn, self.horizon, stream.tenants, self.seed, self._columns()
            )
        return demand.chunks_of(self.jobs(product))

    def _columns(self) -> demand.TraceColumns:
        """The trace as columns, read once for both streams."""
        if self._trace_columns is None:
            self._trace_columns = demand.trace_columns(self._trace)
        return self._trace_columns

    def jobs(self, product: int) -> Iterator[demand.Job]:
        if self.scenario.source == "list":
            name = PRODUCTS[product]
            return iter(
                [
                    demand.Job(round(j.at_hours * 3600), j.nodes, max(1, round(j.hours * 3600)), j.tenant)
                    for j in self.scenario.job_list
                    if j.product == name and j.at_hours * 3600 < self.horizon
                ]
            )
        stream = self.scenario.on_demand if product == 1 else self.scenario.spot
        share_gpus = int(stream.share * self.gpus)
        if share_gpus <= 0:
            return iter(())
        if self.scenario.source in TRACE_SOURCES:
            plan = self.plans[product - 1]
            return demand.philly_jobs(
                self._trace, plan, self.gpn, self.horizon, stream.tenants, self.seed, self._columns()
            )
        return demand.synthetic_jobs(
            PRODUCTS[product],
            share_gpus,
            self.gpn,
            stream.mean_nodes,
            stream.mean_hours,
            self.horizon,
            stream.tenants,
            self.seed,
        )

    def failures(self) -> Iterator[tuple[int, str, int]]:
        """(second, node id, repair seconds) of every failure in the horizon, in time order, from the
        health context's seeded fault injector: the Llama 3 breakdown by component, scaled to the
        scenario's `failures.per_gpu_day`, each repaired after its recommended action's time (or the
        scenario's `repair_hours`). A failure of a node already down is skipped by the engines (only
        healthy nodes fail)."""
        from neocloud.health.domain.injector import FaultInjector, llama3_failure_kinds

        if self.scenario.failure_list is not None:
            for lf in self.scenario.failure_list:
                t = round(lf.at_hours * 3600)
                if t < self.horizon:
                    yield t, lf.node, max(1, round(lf.repair_hours * 3600))
            return
        f = self.scenario.failures
        kinds = llama3_failure_kinds()
        base = sum(k.per_gpu_day for k in kinds)
        if f.per_gpu_day <= 0 or base <= 0:
            return
        scale = f.per_gpu_day / base
        kinds = tuple(replace(k, per_gpu_day=k.per_gpu_day * scale) for k in kinds)
        injector = FaultInjector(kinds, seed=f"{self.seed}:failures")
        end = self.at(self.horizon)
        for failure in injector.failures(self._nodes, self.scenario.start, end):
            t = math.ceil((failure.at - self.scenario.start).total_seconds())
            if t >= self.horizon:
                continue
            repair = (
                self.repair_s if self.repair_s is not None else max(1, int(failure.repair.total_seconds()))
            )
            yield t, str(failure.node), repair

    def downtime(self, contract: int, start: float, end: float, gpus: int) -> None:
        """Reserved GPUs of `contract` not delivered over [start, end) (SLA downtime)."""
        self.downtimes.append((contract, start, end, gpus))

    def price(self, product: str, term_days: float | None = None) -> Decimal:
        term = None
        if product == "reserved":
            assert term_days is not None
            term = nearest_term(int(term_days * 86400), RESERVED_TERMS_MONTHS)
        key = PriceKey.of(self.scenario.model, product, term)
        return self.catalog.price_at(key, self.scenario.start)

    def money(self, value: Decimal) -> Decimal:
        return round_half_even(value, self.scenario.currency).decimal()

    def at(self, seconds: float) -> datetime:
        return self.scenario.start + timedelta(seconds=seconds)

    def months(self, start: float, end: float) -> list[tuple[str, float, float]]:
        """[start, end) (seconds from the start) cut at calendar month boundaries: (label, lo, hi)."""
        out = []
        lo = start
        while lo < end:
            period = Period.month_of(self.at(lo))
            hi = min(end, (period.end - self.scenario.start).total_seconds())
            out.append((period.label(), lo, hi))
            lo = hi
        return out
