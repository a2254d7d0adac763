"""The pooled engine: the stated aggregation for campus scale.

What is aggregated, and why it is allowed (the issue's "contracts as blocks, a queue for many small
jobs"): the fleet is homogeneous (one GPU model, whole-node jobs), so a job needs *some* free nodes, not
particular ones. The engine keeps node counts instead of node-level bookings: reserved contracts are
blocks of nodes held from their start to their end; on-demand and spot jobs take free nodes from a pool,
on-demand waits in a FIFO queue (no backfill) up to `max_wait_hours` and may take back spot capacity
(the most recently started spot jobs first, after the spot notice); spot takes only free nodes. What it gives up:
topology (an N-node job never fails to fit for fragmentation) and the placement policy's choice of
victims. `neocloud bench sim` and tests/integration/test_sim_pooled_agrees.py compare it with the exact
engine on gb200-superpod (utilisation and revenue within 2 %).

Failures are the exact engine's: the same injector draws, each hitting the injector's node (a node already
down is skipped, as the exact engine skips it); what that node holds is read from its rank among the
healthy nodes in the layout the control plane's placement leaves (jobs packed on the first nodes, spares
on the last: `PooledFailures._what_it_hits`), and a job hit ends there, billed up to the failure and not
restarted, as the exact engine stops its instance. Only which job of a product is hit is drawn (by nodes,
from `{seed}:failures:victims`).

Everything else is the same model as the exact engine: the same demand streams (seeded per source), the same billing rules (prices from billing's catalog, reserved windows billed
whole at their nearest term, instances billed while they run), the same SLA credit rule and power model.
An event is a control-plane state change the control plane would have made: admission, start, stop
(end, preemption or failure of a job), preemption notice, failure, repair, spare swap.
"""

from __future__ import annotations

import random
import time
from collections import deque
from datetime import timedelta
from decimal import Decimal
from typing import Any

from neocloud.kernel.gpus import gpu_model
from neocloud.sim import sla
from neocloud.sim.accounting import ConservationError, Levels, Series, power_mw
from neocloud.sim.loop import Loop, make_loop
from neocloud.sim.model import Model, SimTotals
from neocloud.sim.pooled_failures import PooledFailures
from neocloud.sim.pooled_state import Contract, Pool, Run, Swap

RES, OD, SPOT = 0, 1, 2


class PooledEngine(PooledFailures):
    def __init__(self, model: Model, loop: str = "heap", progress: Any = None) -> None:
        self.m = model
        self.progress = progress
        self.loop: Loop = make_loop(loop)
        gpu = gpu_model(model.scenario.model)
        self.gpn = gpu.gpus_per_node
        self.N = model.nodes
        self.spares = model.spare_nodes
        self.free = self.N - self.spares
        self.failed = 0
        self.noticed_nodes = 0  # nodes of spot jobs under a preemption notice
        self.waiting: dict[int, int] = {}  # on-demand job waiting out a spot notice -> nodes promised
        self.pending = 0  # nodes held for on-demand jobs waiting out a spot notice
        self.lv = Levels(self.N * self.gpn)
        self.series = Series(model.scenario.sample_hours * 3600)
        self.runs: dict[int, Run] = {}
        self.pools = (Pool(), Pool(), Pool())
        self.queues: tuple[deque[tuple[int, int, int]], deque[tuple[int, int, int]]] = (deque(), deque())
        self.queued_since: dict[int, float] = {}
        self.contracts = [Contract(i, c.gpus // self.gpn) for i, c in enumerate(model.scenario.reserved)]
        self.t = model.totals
        self._ids = 0
        self._frng = random.Random(f"{model.seed}:failures:victims")
        self._index = {node: i for i, node in enumerate(model.node_ids)}  # fleet order
        self._down: list[int] = []  # failed nodes' indices, sorted
        self.swapping: list[Swap] = []  # hot spares on their way to a contract
        self.job_gpu_s = [0.0, 0.0, 0.0]  # GPU-seconds of ended jobs, by product (see `_stop`)

    # accounting ------------------------------------------------------------------------------------

    def _alloc(self, product: int, nodes: int) -> None:
        self.lv.add(self.loop.now, product, nodes * self.gpn)

    def _unhealthy(self, nodes: int) -> None:
        self.lv.fail(self.loop.now, nodes * self.gpn)

    # contracts -------------------------------------------------------------------------------------

    def _contract_start(self, c: Contract) -> None:
        short = c.nodes - self.free
        if short > 0:
            self._take_back(short, OD, notice=False)
            self._take_back(c.nodes - self.free, SPOT, notice=False)
        take = min(c.nodes, self.free)
        self.free -= take
        c.healthy, c.active = take, True
        self._alloc(RES, take)
        self.lv.commit(self.loop.now, c.nodes * self.gpn)
        self.t.events += 2  # admission and start
        self.t.admissions += 1

    def _contract_end(self, c: Contract) -> None:
        c.active = False
        self._alloc(RES, -c.healthy)
        self.lv.commit(self.loop.now, -c.nodes * self.gpn)
        self.lv.held_down -= c.down * self.gpn
        self.free += c.healthy
        c.healthy = c.down = 0
        self.t.events += 1
        self._drain()

    # jobs ------------------------------------------------------------------------------------------

    def _arrive(self, cursor: list[Any]) -> None:
        """`cursor` = [product, chunk iterator, arrivals, nodes, durations, position] of one stream."""
        product, pos = cursor[0], cursor[5]
        nodes, duration = cursor[3][pos], cursor[4][pos]
        pos += 1
        if pos == len(cursor[2]):
            chunk = next(cursor[1], None)
            if chunk is not None:
                cursor[2], cursor[3], cursor[4] = chunk[0], chunk[1], chunk[2]
                pos = 0
        cursor[5] = pos
        if pos < len(cursor[2]):
            self.loop.at(cursor[2][pos], self._arrive, cursor)
        self._ids += 1
        jid = self._ids
        if not self._try(jid, product, nodes, duration):
            wait = self.m.max_wait[product]
            if wait > 0:
                self.queues[product - 1].append((jid, nodes, duration))
                self.queued_since[jid] = self.loop.now
                self.loop.at(self.loop.now + wait, self._give_up, jid)
            else:
                self.t.refused[product] += 1

    def _try(self, jid: int, product: int, n: int, duration: int) -> bool:
        if self.free >= n:
            self.free -= n
            self._start(jid, product, n, duration)
            return True
        if product == OD and self.free + self._spot_unnoticed() >= n:
            take = self.free
            self.free = 0
            self.pending += take
            self.waiting[jid] = take + self._take_back(n - take, SPOT, notice=True, for_job=jid)
            self.t.events += 1  # the admission (its start comes after the notice)
            self.t.admissions += 1
            self.loop.at(self.loop.now + self.m.notice_s, self._start_after_notice, (jid, n, duration))
            return True
        return False

    def _spot_unnoticed(self) -> int:
        return self.pools[SPOT].nodes - self.noticed_nodes

    def _take_back(self, nodes: int, product: int, *, notice: bool, for_job: int = 0) -> int:
        """Preempt the newest `product` jobs until `nodes` nodes come back; returns the nodes taken. With
        `notice` they end after the spot notice (their nodes go to the waiting job), else now (freed)."""
        got = 0
        pool = self.pools[product]
        for jid in list(reversed(pool.ids)):  # the most recently started first (near enough: swap-removal)
            if got >= nodes:
                break
            r = self.runs[jid]
            if r.noticed:
                continue
            got += r.nodes
            self.t.preempted[product] += 1
            if notice:
                r.noticed = True
                r.promised_to = for_job
                self.noticed_nodes += r.nodes
                self.t.events += 1  # preemption notice
                self.loop.at(self.loop.now + self.m.notice_s, self._preempt, jid)
            else:
                self._stop(jid, free=True)
        return got

    def _preempt(self, jid: int) -> None:
        r = self.runs.get(jid)
        if r is not None and r.alive:
            self._stop(jid, free=False, to_pending=True)  # its nodes are promised to the waiting job

    def _start_after_notice(self, arg: tuple[int, int, int]) -> None:
        """The waiting job starts on the nodes promised to it; extra victim nodes go back to the pool, and
        nodes lost to a failure during the notice are made up from free nodes (or spot, without notice)."""
        jid, n, duration = arg
        got = self.waiting.pop(jid)
        self.pending -= got
        if got < n:
            if self.free < n - got:
                self._take_back(n - got - self.free, SPOT, notice=False)
            extra = min(n - got, self.free)
            self.free -= extra
            n = got + extra
        elif got > n:
            self.free += got - n
        self._start(jid, OD, n, duration, admitted=True)
        if got > n:
            self._drain()

    def _start(self, jid: int, product: int, nodes: int, duration: int, *, admitted: bool = False) -> None:
        now = self.loop.now
        self.runs[jid] = Run(product, nodes, now)
        self.pools[product].add(jid, nodes)
        self.lv.alloc[product] += nodes * self.gpn  # a level only: the job's GPU-seconds count at its end
        t = self.t
        if admitted:
            t.events += 1  # start
        else:
            t.events += 2  # admission and start
            t.admissions += 1
        if self.queued_since:
            since = self.queued_since.pop(jid, None)
            if since is not None:
                t.queue_delay_s[product] += now - since
                t.queued[product] += 1
        self.loop.at(now + duration, self._depart, jid)

    def _depart(self, jid: int) -> None:
        """A job's end. A spot job under notice that ends first leaves its nodes to the on-demand job
        they are promised to (the control plane booked them for it from the end of the notice)."""
        r = self.runs.get(jid)
        if r is not None and r.alive:
            promised = r.noticed and r.promised_to in self.waiting
            self._stop(jid, free=not promised, to_pending=promised)
            self.t.completed[r.product] += 1

    def _stop(self, jid: int, *, free: bool, to_pending: bool = False) -> None:
        """End a running job: its nodes go back to the free pool (`free`), to the on-demand job waiting
        for them (`to_pending`), or nowhere (the caller places them). Its usage is metered here, once:
        nodes × GPUs per node × seconds run (jobs' levels are not integrated event by event: at campus
        scale that was a tenth of the run; `run` puts the sums into the levels at the horizon)."""
        r = self.runs.pop(jid)
        r.alive = False
        if r.noticed:
            self.noticed_nodes -= r.nodes
        self.pools[r.product].remove(jid, r.nodes)
        gpus = r.nodes * self.gpn
        self.lv.alloc[r.product] -= gpus
        self.job_gpu_s[r.product] += gpus * (self.loop.now - r.start)
        self.t.events += 1
        if to_pending:
            self.pending += r.nodes
        elif free:
            self.free += r.nodes
            self._drain()

    def _give_up(self, jid: int) -> None:
        if jid in self.queued_since:
            for product, q in ((OD, self.queues[0]), (SPOT, self.queues[1])):
                for i, (qid, _, _) in enumerate(q):
                    if qid == jid:
                        del q[i]
                        del self.queued_since[jid]
                        self.t.refused[product] += 1
                        return

    def _drain(self) -> None:
        for product, q in ((OD, self.queues[0]), (SPOT, self.queues[1])):
            while q:
                jid, nodes, duration = q[0]
                if not self._try(jid, product, nodes, duration):
                    break
                q.popleft()
            if q and product == OD:
                return  # spot never jumps an on-demand queue

    # sampling --------------------------------------------------------------------------------------

    def _sample(self, _: Any) -> None:
        now = self.loop.now
        self.lv.advance(now)
        p = self.m.power
        mw = power_mw(self.lv.allocated, self.lv.gpus, p.idle_w_per_gpu, p.active_w_per_gpu, p.pue)
        queued = len(self.queues[0]) + len(self.queues[1])
        self.series.sample(now, self.lv, mw, queued, {})
        if self.progress is not None:
            self.progress(now / self.m.horizon)
        if now + self.series.step < self.m.horizon:
            self.loop.at(now + self.series.step, self._sample)

    # run -------------------------------------------------------------------------------------------

    def run(self) -> SimTotals:
        m, loop = self.m, self.loop
        wall = time.perf_counter()
        for c in self.contracts:
            spec = m.scenario.reserved[c.index]
            loop.at(spec.start_day * 86400, self._contract_start, c)
            end = (spec.start_day + spec.term_days) * 86400
            if end < m.horizon:
                loop.at(end, self._contract_end, c)
        for product in (OD, SPOT):
            chunks = m.job_chunks(product)
            first = next(chunks, None)
            if first is not None and first[0]:
                loop.at(first[0][0], self._arrive, [product, chunks, first[0], first[1], first[2], 0])
        self._failures = m.failures()
        first_failure = next(self._failures, None)
        if first_failure is not None:
            loop.at(first_failure[0], self._failure, first_failure)
        loop.at(0, self._sample)
        loop.run(m.horizon)
        self._meter_jobs(m.horizon)
        self.t.wall_seconds = time.perf_counter() - wall
        self.t.levels = self.lv
        self.t.series = self.series.rows
        self.t.revenue = self._revenue()
        self.t.credits = sla.credits(m, self.t.revenue_by_contract_month)
        return self.t

    def _meter_jobs(self, horizon: float) -> None:
        """Jobs' GPU-seconds into the levels at the horizon (running ones up to it); idle is the rest."""
        lv, gpn = self.lv, self.gpn
        for r in self.runs.values():
            self.job_gpu_s[r.product] += r.nodes * gpn * (horizon - r.start)
        lv.advance(horizon)
        lv.alloc_s[OD], lv.alloc_s[SPOT] = self.job_gpu_s[OD], self.job_gpu_s[SPOT]
        lv.idle_s = lv.gpus * horizon - sum(lv.alloc_s) - lv.unhealthy_s
        if min(lv.alloc_s) < 0 or lv.idle_s < 0:
            raise ConservationError(f"GPU-seconds allocated {lv.alloc_s}, idle {lv.idle_s} at the horizon")

    def _revenue(self) -> dict[str, Decimal]:
        """Billing's rules on the pooled usage: prices from billing's catalog, reserved at its term."""
        m, lv = self.m, self.lv
        out = {
            "on-demand": m.price("on-demand") * Decimal(repr(lv.alloc_s[OD])) / 3600,
            "spot": m.price("spot") * Decimal(repr(lv.alloc_s[SPOT])) / 3600,
        }
        reserved = Decimal(0)
        for i, c in enumerate(m.scenario.reserved):
            price = m.price("reserved", term_days=c.term_days)
            start = c.start_day * 86400
            end = min(m.horizon, (c.start_day + c.term_days) * 86400)
            for month, lo, hi in m.months(start, end):
                amount = price * c.gpus * Decimal(int(hi - lo)) / 3600
                self.t.revenue_by_contract_month[(i, month)] = amount
                reserved += amount
        out["reserved"] = reserved
        return {k: m.money(v) for k, v in out.items()}


def _days(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
