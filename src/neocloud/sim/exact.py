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

Failures and repairs are in `exact_failures` (node states go through the control plane's node use
case, `control.nodes.set_node_states`, as the health context pushes them); the revenue and SLA
credits at the horizon in `exact_invoices`; ids, the services and the call record in `exact_calls`.
Every call is appended to `calls`, so the same run can be replayed on a ManualClock
(tests/integration/test_sim_fidelity.py: same ledger).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import TenantId
from neocloud.sim.accounting import Levels, Series, power_mw
from neocloud.sim.demand import Job
from neocloud.sim.exact_calls import Calls, CountingIds, SimJob, build, set_node_state
from neocloud.sim.exact_failures import READY, RES, SPARE, UNHEALTHY, NodeFailures
from neocloud.sim.exact_invoices import invoiced, issue_credits
from neocloud.sim.loop import SimClock, SimPyLoop, long_lived_objects
from neocloud.sim.model import PRODUCTS, Model, SimTotals

OD, SPOT = 1, 2
__all__ = ["Calls", "CountingIds", "ExactEngine", "build", "set_node_state"]


class ExactEngine(NodeFailures):
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
        self.jobs: dict[str, SimJob] = {}  # allocation id -> job
        self.spot_unnoticed: dict[str, SimJob] = {}  # live spot jobs not yet noticed, in start order
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
        self.jobs[view.id] = job_ = SimJob(product, view.gpus, view.id, who)
        if product == SPOT:
            self.spot_unnoticed[view.id] = job_
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
        """Spot allocations the last admission took back: counted, and reconciled when the notice ends.
        Only live spot jobs not noticed yet are read (in the order they started, as a scan of every job
        would meet them)."""
        watch = self.spot_unnoticed
        with self.store(read_only=True) as uow:
            for alloc_id, job in list(watch.items()):
                if not job.alive or job.noticed:
                    del watch[alloc_id]
                    continue
                alloc = uow.get_allocation(alloc_id)
                if alloc is not None and alloc.notice_until is not None:
                    job.noticed = True
                    del watch[alloc_id]
                    self.t.events += 1
                    self.t.preempted[SPOT] += 1
                    self._reconcile_at((alloc.notice_until - self.m.scenario.start).total_seconds())

    def _depart(self, alloc_id: str) -> None:
        job = self.jobs.get(alloc_id)
        if job is None or not job.alive:
            return
        self._stop(job)
        self.t.completed[job.product] += 1

    def _stop(self, job: SimJob) -> None:
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
        loop_wall, loop_cpu = time.perf_counter(), time.process_time()
        with long_lived_objects():
            loop.run(m.horizon)
        self.t.loop_seconds = time.perf_counter() - loop_wall
        self.t.loop_cpu_seconds = time.process_time() - loop_cpu
        self.lv.advance(m.horizon)
        self.billing.meter(until=m.at(m.horizon))
        self.calls.add(m.horizon, "meter_until_horizon")
        self.t.revenue, by_contract = invoiced(self)
        self.t.revenue_by_contract_month = by_contract
        self.t.credits = issue_credits(self)
        self.t.wall_seconds = time.perf_counter() - wall
        self.t.levels = self.lv
        self.t.series = self.series.rows
        return self.t
