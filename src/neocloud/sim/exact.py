"""The exact engine: neocloud's own control plane and billing, driven on virtual time.

Nothing is re-implemented here. The composition root builds the services on the memory store with the
engine's `SimClock` as their clock (`bootstrap.build_services`), deterministic ids, the fake provisioner
and the configured placement policy. The engine only *calls* the use cases, as a tenant or the operator
would, at the instants the scenario says:

- at start: import the fleet, create the tenants, reserve each contract (`reservations.reserve`);
- each arrival: `instances.create_instance` (on-demand or spot); a Conflict queues an on-demand (or a
  waiting spot) request for up to `max_wait_hours`, retried in FIFO order whenever capacity comes back;
- each departure: `instances.stop_instance`;
- whenever something is due (a start, the end of a spot notice, a reservation's end): one
  `control.reconcile()` pass, whose report says which allocations moved;
- every `metering_hours`: `billing.meter()`; at the horizon, the invoices (`billing.preview` per tenant
  and month) give the revenue, and SLA credits are issued with `billing.issue_credit`.

Failures pick a node (seeded), mark it unhealthy in the store so placement avoids it, stop the instance
it ran (through the control plane), and repair it after `repair_hours`. Until the health context's
remediation lands, node states are written with `set_node_state` below (the memory store's table; the
UnitOfWork port has no node-state write yet). Every call is appended to `calls`, so the same run can be
replayed on a ManualClock (tests/integration/test_sim_fidelity.py: same ledger).
"""

from __future__ import annotations

import itertools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from neocloud.sim import sla
from neocloud.sim.accounting import Levels, Series, power_mw
from neocloud.sim.demand import Job
from neocloud.sim.loop import SimClock, SimPyLoop
from neocloud.sim.model import PRODUCTS, Model, SimTotals

RES, OD, SPOT = 0, 1, 2
READY, UNHEALTHY, SPARE, SERVING = "ready", "unhealthy", "spare", "spare-serving"


class CountingIds:
    """Deterministic ids (`rsv_000001`…) so that a seed fixes every decision (admission seeds the
    placement's random choices with the allocation id)."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._n):08d}"

    def secret(self) -> str:
        return f"nc_sim{next(self._n):032d}"


def set_node_state(store: Any, node_id: str, state: str) -> None:
    """Write a node's state into the memory store (see the module docstring)."""
    with store() as uow:
        uow.set_node_state(node_id, state)
        uow.commit()


@dataclass(slots=True)
class _Job:
    product: int
    gpus: int
    alloc_id: str
    principal: Principal
    started: bool = False
    alive: bool = True
    noticed: bool = False


@dataclass
class Calls:
    """Every control-plane call the engine made, with the instant: (seconds, name, arguments)."""

    items: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, t: float, op: str, **args: Any) -> None:
        self.items.append((int(t), op, args))


def build(clock: Any) -> Any:
    """The services the simulator drives: the composition root's, on the memory store, with `clock`."""
    from neocloud.bootstrap import MEMORY, Settings, build_services

    settings = Settings(database_url=MEMORY, default_quota_gpus=None)
    return build_services(settings, clock=clock, ids=CountingIds())


class ExactEngine:
    def __init__(self, model: Model, progress: Callable[[float], None] | None = None) -> None:
        self.m = model
        self.progress = progress
        self.loop = SimPyLoop()
        self.clock = SimClock(self.loop, model.scenario.start)
        self.services = build(self.clock)
        self.cp = self.services.control
        self.billing = self.services.billing
        self.store = self.cp.deps.uow
        self.calls = Calls()
        self.t: SimTotals = model.totals
        self.lv = Levels(model.gpus)
        self.series = Series(model.scenario.sample_hours * 3600)
        self.jobs: dict[str, _Job] = {}  # allocation id -> job
        self.contract_of: dict[str, int] = {}  # reservation id -> contract index
        self.contract_tenant: list[TenantId] = []
        self.queues: tuple[deque[tuple[Job, float]], deque[tuple[Job, float]]] = (deque(), deque())
        self.state: dict[str, str] = {}
        self.spares: list[str] = []
        self.down: dict[str, tuple[int, bool]] = {}  # failed node -> (contract, covered by a spare)
        self.serving: dict[str, str] = {}  # failed node -> spare node serving its reservation
        self.contract_nodes: dict[int, set[str]] = {}
        self._due: set[int] = set()
        self._drain_at: float | None = None
        self._vrng = random.Random(f"{model.seed}:failures:victims")
        self.failed_was: dict[str, str] = {}
        self.restore: dict[str, str] = {}  # failed serving spare -> the failed node it served
        self.principals: dict[str, Principal] = {}
        self.tenants: dict[str, TenantId] = {}

    # set-up ----------------------------------------------------------------------------------------

    def _tenant(self, name: str) -> Principal:
        if name not in self.principals:
            view = self.cp.tenancy.create_tenant(name)
            self.calls.add(self.loop.now, "create_tenant", name=name)
            tid = TenantId(view.id)
            self.tenants[name] = tid
            self.principals[name] = Principal(f"sim-{name}", Role.TENANT_MEMBER, tid)
        return self.principals[name]

    def _setup(self) -> None:
        m = self.m
        fleet = m.scenario.fleet()
        self.cp.fleet.import_fleet(fleet)
        self.calls.add(0, "import_fleet")
        self.node_ids = list(m.node_ids)
        self.state = dict.fromkeys(self.node_ids, READY)
        if m.spare_nodes:
            for n in self.node_ids[-m.spare_nodes :]:
                self._set(n, SPARE)
            self.spares = list(self.node_ids[-m.spare_nodes :])
        for i, c in enumerate(m.scenario.reserved):
            who = self._tenant(c.tenant)
            self.contract_tenant.append(self.tenants[c.tenant])
            start = m.at(c.start_day * 86400) if c.start_day > 0 else None
            req = ReservationRequest(m.scenario.model, c.gpus, round(c.term_days * 24), start, c.shape)
            self.calls.add(0, "reserve", tenant=c.tenant, request=req)
            try:
                view = self.cp.reservations.reserve(who, req)
            except Conflict as err:
                self.t.notes.append(f"contract {i} ({c.tenant}, {c.gpus} GPUs) refused: {err.message}")
                self.t.refused[RES] += 1
                continue
            self.t.events += 1
            self.t.admissions += 1
            self.contract_of[view.id] = i
            with self.store(read_only=True) as uow:
                self.contract_nodes[i] = {b.node_id for b in uow.bookings_of(view.id)}
            self._reconcile_at(c.start_day * 86400)
            self._reconcile_at((c.start_day + c.term_days) * 86400)

    def _set(self, node: str, state: str) -> None:
        self.state[node] = state
        set_node_state(self.store, node, state)
        self.calls.add(self.loop.now, "set_node_state", node=node, state=state)

    # reconciling -----------------------------------------------------------------------------------

    def _reconcile_at(self, t: float) -> None:
        t = int(t)
        if t < self.m.horizon and t not in self._due:
            self._due.add(t)
            self.loop.at(t, self._reconcile, t)

    def _reconcile(self, t: int | None = None) -> None:
        if t is not None:
            self._due.discard(t)
        report = self.cp.reconcile(max_items=100_000)
        self.calls.add(self.loop.now, "reconcile")
        freed = False
        moves = [line.partition(": ")[::2] for line in report.details]
        for alloc_id, state in moves:  # ends first: a start in the same pass may use what they free
            if state == "preempted":
                freed |= self._preempted(alloc_id)
            elif state == "ending" and alloc_id in self.contract_of:
                self._contract_end(alloc_id)
                freed = True
        for alloc_id, state in moves:
            if state == "provisioning":
                self._started(alloc_id)
        if freed:
            self._drain_soon()

    def _started(self, alloc_id: str) -> None:
        now = self.loop.now
        self.t.events += 1
        if alloc_id in self.contract_of:
            i = self.contract_of[alloc_id]
            gpus = self.m.scenario.reserved[i].gpus
            self.lv.commit(now, gpus)
            failed = [n for n in self.contract_nodes.get(i, ()) if self.state[n] == UNHEALTHY]
            for n in failed:
                self.down[n] = (i, False)
            self.lv.add(now, RES, gpus - len(failed) * self.m.gpn)
            self.lv.held_down += len(failed) * self.m.gpn
            return
        job = self.jobs.get(alloc_id)
        if job is not None and job.alive:
            job.started = True
            self.lv.add(now, job.product, job.gpus)

    def _preempted(self, alloc_id: str) -> bool:
        job = self.jobs.get(alloc_id)
        if job is None or not job.alive:
            return False
        job.alive = False
        self.t.events += 1
        if job.started:
            self.lv.add(self.loop.now, job.product, -job.gpus)
        return True

    def _contract_end(self, alloc_id: str) -> None:
        now = self.loop.now
        i = self.contract_of[alloc_id]
        c = self.m.scenario.reserved[i]
        self.t.events += 1
        self.lv.commit(now, -c.gpus)
        down = [n for n, (k, covered) in self.down.items() if k == i and not covered]
        self.lv.add(now, RES, -(c.gpus - len(down) * self.m.gpn))
        self.lv.held_down -= len(down) * self.m.gpn
        for n in [n for n, (k, _) in self.down.items() if k == i]:
            del self.down[n]
            spare = self.serving.pop(n, None)
            if spare is not None:
                self._set(spare, READY)  # the spare that served the contract is sold again

    # demand ----------------------------------------------------------------------------------------

    def _arrive(self, arg: tuple[int, list[Any]]) -> None:
        product, stream = arg
        job: Job = stream[1]
        nxt = next(stream[0], None)
        stream[1] = nxt
        if nxt is not None:
            self.loop.at(nxt.arrival, self._arrive, arg)
        if not self._try(product, job):
            if self.m.max_wait[product] > 0:
                self.queues[product - 1].append((job, self.loop.now))
            else:
                self.t.refused[product] += 1

    def _try(self, product: int, job: Job, since: float | None = None) -> bool:
        stream = self.m.scenario.on_demand if product == OD else self.m.scenario.spot
        tenant = f"{PRODUCTS[product]}-{job.tenant % stream.tenants + 1}"
        who = self._tenant(tenant)
        req = InstanceRequest(self.m.scenario.model, job.nodes, spot=product == SPOT)
        now = self.loop.now
        self.calls.add(now, "create_instance", tenant=tenant, request=req)  # refused ones too: ids advance
        try:
            view = self.cp.instances.create_instance(who, req)
        except Conflict:
            return False
        self.t.events += 1
        self.t.admissions += 1
        self.jobs[view.id] = _Job(product, view.gpus, view.id, who)
        if since is not None:
            self.t.queued[product] += 1
            self.t.queue_delay_s[product] += now - since
        with self.store(read_only=True) as uow:
            alloc = uow.get_allocation(view.id)
        assert alloc is not None
        start = (alloc.start - self.m.scenario.start).total_seconds()
        self._reconcile_at(max(now, start))
        if alloc.notice_until is not None:  # placed on GPUs committed later: ends at the commitment
            self._reconcile_at((alloc.notice_until - self.m.scenario.start).total_seconds())
        if start > now:
            self._notice_victims()
        self.loop.at(start + job.duration, self._depart, view.id)
        return True

    def _notice_victims(self) -> None:
        """Spot allocations the last admission took back: counted, and reconciled when the notice ends."""
        with self.store(read_only=True) as uow:
            for alloc_id, job in self.jobs.items():
                if job.product != SPOT or not job.alive or job.noticed:
                    continue
                alloc = uow.get_allocation(alloc_id)
                if alloc is not None and alloc.notice_until is not None:
                    job.noticed = True
                    self.t.events += 1
                    self.t.preempted[SPOT] += 1
                    self._reconcile_at((alloc.notice_until - self.m.scenario.start).total_seconds())

    def _depart(self, alloc_id: str) -> None:
        job = self.jobs.get(alloc_id)
        if job is None or not job.alive:
            return
        self._stop(job)
        self.t.completed[job.product] += 1

    def _stop(self, job: _Job) -> None:
        self.calls.add(
            self.loop.now,
            "stop_instance",
            tenant=job.principal.token_id.removeprefix("sim-"),
            id=job.alloc_id,
        )
        try:
            self.cp.instances.stop_instance(job.principal, job.alloc_id)
        except Conflict:
            return  # already ended (preempted in the same instant)
        job.alive = False
        self.t.events += 1
        if job.started:
            self.lv.add(self.loop.now, job.product, -job.gpus)
        self._reconcile_at(self.loop.now)
        self._drain_soon()

    def _drain_soon(self) -> None:
        now = self.loop.now
        if self._drain_at != now:
            self._drain_at = now
            self.loop.at(now, self._drain)

    def _drain(self, _: Any = None) -> None:
        now = self.loop.now
        for product, q in ((OD, self.queues[0]), (SPOT, self.queues[1])):
            while q and now - q[0][1] > self.m.max_wait[product]:
                q.popleft()
                self.t.refused[product] += 1
            while q:
                job, since = q[0]
                if not self._try(product, job, since):
                    break
                q.popleft()
            if q and product == OD:
                return

    def _expire_queues(self, _: Any = None) -> None:
        now = self.loop.now
        for product, q in ((OD, self.queues[0]), (SPOT, self.queues[1])):
            while q and now - q[0][1] > self.m.max_wait[product]:
                q.popleft()
                self.t.refused[product] += 1
        if now + 600 < self.m.horizon:
            self.loop.at(now + 600, self._expire_queues)

    # failures --------------------------------------------------------------------------------------

    def _failure(self, arg: tuple[int, str, int]) -> None:
        nxt = next(self._failures, None)
        if nxt is not None:
            self.loop.at(nxt[0], self._failure, nxt)
        now = self.loop.now
        _, failed_node, repair_s = arg
        node = failed_node
        was = self.state[node]
        if was == UNHEALTHY:
            return  # thinning: only healthy nodes fail
        self.t.events += 1
        self.t.failures += 1
        gpn = self.m.gpn
        self._set(node, UNHEALTHY)
        self.failed_was[node] = was
        repair_at = now + repair_s
        self.loop.at(repair_at, self._repair, node)
        self._fail_node(node, was, now, repair_at)
        self.lv.fail(now, gpn)  # after the allocation it hit has let go of it

    def _fail_node(self, node: str, was: str, now: float, repair_at: float) -> None:
        gpn = self.m.gpn
        if was == SPARE:
            self.spares.remove(node)
            return
        if was == SERVING:  # a spare serving a reservation failed: the reservation is down again
            failed = next(n for n, s in self.serving.items() if s == node)
            del self.serving[failed]
            i, _ = self.down[failed]
            self.down[failed] = (i, True)
            self.down[node] = (i, False)
            self.restore[node] = failed
            self.lv.add(now, RES, -gpn)
            self.lv.held_down += gpn
            self.m.downtime(i, now, repair_at, gpn)
            return
        with self.store(read_only=True) as uow:
            held = {
                b.allocation_id
                for b in uow.bookings(
                    self.m.scenario.model, self.m.at(now), self.m.at(now + self.m.notice_s + 1), nodes=[node]
                )
            }
        for alloc_id in sorted(held):
            if alloc_id in self.contract_of:
                i = self.contract_of[alloc_id]
                if (self.m.scenario.reserved[i].start_day * 86400) > now:
                    continue
                self.lv.add(now, RES, -gpn)
                self.lv.held_down += gpn
                if self.spares:
                    spare = self.spares.pop(0)
                    self._set(spare, SERVING)
                    self.serving[node] = spare
                    self.down[node] = (i, False)
                    self.m.downtime(i, now, now + self.m.swap_s, gpn)
                    self.loop.at(now + self.m.swap_s, self._swap, node)
                else:
                    self.down[node] = (i, False)
                    self.m.downtime(i, now, repair_at, gpn)
            elif alloc_id in self.jobs and self.jobs[alloc_id].alive:
                job = self.jobs[alloc_id]
                self.t.interrupted[job.product] += 1
                self._stop(job)

    def _swap(self, node: str) -> None:
        entry = self.down.get(node)
        if entry is None or entry[1] or node not in self.serving:
            return
        self.t.events += 1
        self.down[node] = (entry[0], True)
        self.lv.add(self.loop.now, RES, self.m.gpn)
        self.lv.held_down -= self.m.gpn

    def _repair(self, node: str) -> None:
        now = self.loop.now
        self.t.events += 1
        self.t.repairs += 1
        self.lv.fail(now, -self.m.gpn)
        was = self.failed_was.pop(node, READY)
        entry = self.down.pop(node, None)
        if node in self.restore:  # a serving spare repaired: it serves its reservation again
            failed = self.restore.pop(node)
            self._set(node, SERVING)
            if failed in self.down:
                self.serving[failed] = node
            if entry is not None:
                self.lv.add(now, RES, self.m.gpn)
                self.lv.held_down -= self.m.gpn
            return
        if entry is not None and node in self.serving:
            self._set(node, SPARE)  # the spare took its place; the repaired node becomes a spare
            self.spares.append(node)
            del self.serving[node]
            if not entry[1]:  # repaired before the swap completed
                self.lv.add(now, RES, self.m.gpn)
                self.lv.held_down -= self.m.gpn
            return
        if entry is not None:
            self.lv.add(now, RES, self.m.gpn)
            self.lv.held_down -= self.m.gpn
            self._set(node, READY)
            return
        if was == SPARE:
            self._set(node, SPARE)
            self.spares.append(node)
            return
        self._set(node, READY)
        self._drain_soon()

    # metering and sampling -------------------------------------------------------------------------

    def _meter(self, _: Any) -> None:
        self.billing.meter()
        self.calls.add(self.loop.now, "meter")
        self.t.events += 1
        self.t.metering_passes += 1
        step = self.m.scenario.metering_hours * 3600
        if self.loop.now + step < self.m.horizon:
            self.loop.at(self.loop.now + step, self._meter)

    def _sample(self, _: Any) -> None:
        now = self.loop.now
        self.lv.advance(now)
        p = self.m.power
        mw = power_mw(self.lv.allocated, self.lv.gpus, p.idle_w_per_gpu, p.active_w_per_gpu, p.pue)
        self.series.sample(now, self.lv, mw, len(self.queues[0]) + len(self.queues[1]), {})
        if self.progress is not None:
            self.progress(now / self.m.horizon)
        if now + self.series.step < self.m.horizon:
            self.loop.at(now + self.series.step, self._sample)

    # run -------------------------------------------------------------------------------------------

    def run(self) -> SimTotals:
        m, loop = self.m, self.loop
        wall = time.perf_counter()
        self._setup()
        for product in (OD, SPOT):
            jobs = m.jobs(product)
            first = next(jobs, None)
            if first is not None:
                loop.at(first.arrival, self._arrive, (product, [jobs, first]))
        self._failures = m.failures()
        first_failure = next(self._failures, None)
        if first_failure is not None:
            loop.at(first_failure[0], self._failure, first_failure)
        loop.at(0, self._sample)
        loop.at(m.scenario.metering_hours * 3600, self._meter)
        loop.at(600, self._expire_queues)
        loop.run(m.horizon)
        self.lv.advance(m.horizon)
        self.billing.meter(until=m.at(m.horizon))
        self.calls.add(m.horizon, "meter_until_horizon")
        self.t.revenue, by_contract = self._invoiced()
        self.t.revenue_by_contract_month = by_contract
        self._credit()
        self.t.wall_seconds = time.perf_counter() - wall
        self.t.levels = self.lv
        self.t.series = self.series.rows
        return self.t

    def _invoiced(self) -> tuple[dict[str, Decimal], dict[tuple[int, str], Decimal]]:
        """Revenue by product from the invoices of every tenant and month of the horizon (billing's
        drafts up to the horizon), and each contract's reserved revenue per month (a tenant's reserved
        lines split between its contracts by GPUs)."""
        m = self.m
        by_product = {p: Decimal(0) for p in PRODUCTS}
        by_contract: dict[tuple[int, str], Decimal] = {}
        months = [Period.month_of(m.at(lo)) for _, lo, _ in m.months(0, m.horizon)]
        contracts_of: dict[TenantId, list[int]] = {}
        for i, tenant in enumerate(self.contract_tenant):
            contracts_of.setdefault(tenant, []).append(i)
        for tid in sorted(self.tenants.values()):
            for period in months:
                invoice = self.billing.preview(tid, period)
                for line in invoice.lines:
                    amount = line.amount.decimal()
                    by_product[line.product] = by_product.get(line.product, Decimal(0)) + amount
                    if line.product == "reserved" and tid in contracts_of:
                        ids = contracts_of[tid]
                        total = sum(m.scenario.reserved[i].gpus for i in ids)
                        for i in ids:
                            share = amount * m.scenario.reserved[i].gpus / total
                            key = (i, period.label())
                            by_contract[key] = by_contract.get(key, Decimal(0)) + share
        return by_product, by_contract

    def _credit(self) -> None:
        total = Decimal(0)
        for i, month, availability, amount in sla.credit_lines(self.m, self.t.revenue_by_contract_month):
            tenant = self.contract_tenant[i]
            reason = f"SLA {month}: availability {availability:.5f} of contract {i}"
            self.calls.add(
                self.m.horizon,
                "issue_credit",
                tenant=self.m.scenario.reserved[i].tenant,
                amount=str(amount),
                reason=reason,
            )
            self.billing.issue_credit(tenant, str(amount), reason)
            total += amount
        self.t.credits = total
