"""The pooled engine's failures: what a failure hits, hot-spare swaps and repairs (a mixin of
`PooledEngine`, which owns the state it reads)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from neocloud.sim.accounting import Levels
from neocloud.sim.loop import Loop
from neocloud.sim.model import Model, SimTotals
from neocloud.sim.pooled_state import Contract, Pool, Run

RES, OD, SPOT = 0, 1, 2


class PooledFailures:
    """Failures of `PooledEngine` (see its docstring)."""

    m: Model
    loop: Loop
    t: SimTotals
    lv: Levels
    gpn: int
    N: int
    free: int
    failed: int
    spares: int
    pending: int
    waiting: dict[int, int]
    contracts: list[Contract]
    pools: tuple[Pool, Pool, Pool]
    runs: dict[int, Run]
    _frng: random.Random
    _failures: Iterator[tuple[int, str, int]]
    if TYPE_CHECKING:
        _stop: Callable[..., None]
        _drain: Callable[[], None]
        _alloc: Callable[[int, int], None]
        _unhealthy: Callable[[int], None]

    # failures --------------------------------------------------------------------------------------

    def _failure(self, arg: tuple[int, str, int]) -> None:
        nxt = next(self._failures, None)
        if nxt is not None:
            self.loop.at(nxt[0], self._failure, nxt)
        now = self.loop.now
        repair_s = arg[2]  # which node the injector hit does not matter here: only the pool it is in
        i = self._frng.randrange(self.N)
        res_healthy = sum(c.healthy for c in self.contracts)
        bounds = [self.failed, self.spares, res_healthy, self.pools[OD].nodes, self.pools[SPOT].nodes]
        kind = 0
        for b in bounds:
            if i < b:
                break
            i -= b
            kind += 1
        if kind == 0:
            return  # an already failed node: the per-node clock only runs for healthy nodes
        self.t.events += 1
        self.t.failures += 1
        self.failed += 1
        repair_at = now + repair_s
        if kind == 1:
            self.spares -= 1
            self.loop.at(repair_at, self._repair, ("spare", None))
        elif kind == 2:
            c = self._pick_contract(i)
            c.healthy -= 1
            c.down += 1
            self._alloc(RES, -1)
            self.lv.held_down += self.gpn
            if self.spares > 0:
                self.spares -= 1
                self.m.downtime(c.index, now, now + self.m.swap_s, self.gpn)
                self.loop.at(now + self.m.swap_s, self._swap, c)
                self.loop.at(repair_at, self._repair, ("spare", None))
            else:
                self.m.downtime(c.index, now, repair_at, self.gpn)
                self.loop.at(repair_at, self._repair, ("contract", c))
        elif kind in (3, 4):
            product = OD if kind == 3 else SPOT
            jid = self._pick_job(product)
            r = self.runs[jid]
            self._stop(jid, free=False)
            if r.noticed and r.promised_to in self.waiting:  # the rest stay promised to the waiting job
                self._promise_lost(r.promised_to, r.nodes)
            else:
                self.free += r.nodes - 1
            self.t.interrupted[product] += 1
            self.loop.at(repair_at, self._repair, ("free", None))
        elif i < self.free:
            self.free -= 1  # an idle node
            self.loop.at(repair_at, self._repair, ("free", None))
        else:  # a node promised to an on-demand job waiting out a spot notice
            j = next(j for j, promised in self.waiting.items() if promised > 0)
            self.waiting[j] -= 1
            self.pending -= 1
            self.loop.at(repair_at, self._repair, ("free", None))
        self._unhealthy(1)  # after the allocation it hit has let go of the node
        if kind in (3, 4):
            self._drain()

    def _promise_lost(self, job: int, nodes: int) -> None:
        """A noticed victim of `nodes` nodes failed: all but the failed node still go to `job`."""
        self.pending += nodes - 1
        self.waiting[job] -= 1

    def _pick_contract(self, i: int) -> Contract:
        for c in self.contracts:
            if i < c.healthy:
                return c
            i -= c.healthy
        return next(c for c in self.contracts if c.healthy > 0)

    def _pick_job(self, product: int) -> int:
        """A running job of `product`, chosen with probability proportional to its nodes."""
        ids, rng = self.pools[product].ids, self._frng
        biggest = 1
        for _ in range(64):
            jid = ids[rng.randrange(len(ids))]
            n = self.runs[jid].nodes
            biggest = max(biggest, n)
            if rng.random() * biggest < n:
                return jid
        return jid

    def _swap(self, c: Contract) -> None:
        self.t.events += 1
        if c.active and c.down > 0:
            c.down -= 1
            c.healthy += 1
            self.lv.held_down -= self.gpn
            self._alloc(RES, 1)

    def _repair(self, arg: tuple[str, Contract | None]) -> None:
        kind, c = arg
        self.t.events += 1
        self.t.repairs += 1
        self.failed -= 1
        self._unhealthy(-1)
        if kind == "spare":
            self.spares += 1
        elif kind == "contract" and c is not None and c.active and c.down > 0:
            c.down -= 1
            c.healthy += 1
            self.lv.held_down -= self.gpn
            self._alloc(RES, 1)
        else:
            self.free += 1
            self._drain()
