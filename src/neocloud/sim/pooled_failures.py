"""The pooled engine's failures: what a failure hits, hot-spare swaps and repairs (a mixin of
`PooledEngine`, which owns the state it reads)."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from neocloud.sim.accounting import Levels
from neocloud.sim.loop import Loop
from neocloud.sim.model import Model, SimTotals
from neocloud.sim.pooled_state import Contract, Pool, Run, Swap

RES, OD, SPOT = 0, 1, 2
_RESERVED, _IDLE, _PROMISED, _SPARE, _SWAPPING = 10, 11, 12, 13, 14  # what a failure hits, besides a job


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
    _index: dict[str, int]
    _down: list[int]
    swapping: list[Swap]
    _failures: Iterator[tuple[int, str, int]]
    if TYPE_CHECKING:
        _stop: Callable[..., None]
        _drain: Callable[[], None]
        _alloc: Callable[[int, int], None]
        _unhealthy: Callable[[int], None]

    # failures --------------------------------------------------------------------------------------

    def _failure(self, arg: tuple[int, str, int]) -> None:
        """The injector's failure of node `arg[1]`, as the exact engine takes it: a node already down is
        skipped (only healthy nodes fail), else the node's rank among the healthy nodes says what it
        hits, in the layout the control plane's placement leaves (see `_what_it_hits`)."""
        nxt = next(self._failures, None)
        if nxt is not None:
            self.loop.at(nxt[0], self._failure, nxt)
        now = self.loop.now
        node, repair_s = self._index[arg[1]], arg[2]
        k = bisect.bisect_left(self._down, node)
        if k < len(self._down) and self._down[k] == node:
            return  # the node is down: the per-node clock only runs for healthy nodes
        self._down.insert(k, node)
        kind, i = self._what_it_hits(node - k)
        self.t.events += 1
        self.t.failures += 1
        self.failed += 1
        repair_at = now + repair_s
        if kind == _SPARE:
            self.spares -= 1
            self.loop.at(repair_at, self._repair, ("spare", None, node))
        elif kind == _RESERVED:
            c = self._pick_contract(i)
            c.healthy -= 1
            c.down += 1
            self._alloc(RES, -1)
            self.lv.held_down += self.gpn
            if self.spares > 0:
                self.spares -= 1
                self.m.downtime(c.index, now, now + self.m.swap_s, self.gpn)
                swap = Swap(c, now + self.m.swap_s)
                self.swapping.append(swap)
                self.loop.at(swap.until, self._swap, swap)
                self.loop.at(repair_at, self._repair, ("spare", None, node))
            else:
                self.m.downtime(c.index, now, repair_at, self.gpn)
                self.loop.at(repair_at, self._repair, ("contract", c, node))
        elif kind in (OD, SPOT):
            product = kind
            jid = self._pick_job(product)
            r = self.runs[jid]
            self._stop(jid, free=False)
            if r.noticed and r.promised_to in self.waiting:  # the rest stay promised to the waiting job
                self._promise_lost(r.promised_to, r.nodes)
            else:
                self.free += r.nodes - 1
            self.t.interrupted[product] += 1
            self.loop.at(repair_at, self._repair, ("free", None, node))
        elif kind == _SWAPPING:  # the spare on its way to a contract: the contract stays down
            swap = self.swapping.pop(i)
            swap.failed = True
            c = swap.contract
            if c.active:
                self.m.downtime(c.index, swap.until, repair_at, self.gpn)
            self.loop.at(repair_at, self._repair, ("contract", c, node))
        elif kind == _IDLE:
            self.free -= 1
            self.loop.at(repair_at, self._repair, ("free", None, node))
        else:  # a node promised to an on-demand job waiting out a spot notice
            j = next(j for j, promised in self.waiting.items() if promised > 0)
            self.waiting[j] -= 1
            self.pending -= 1
            self.loop.at(repair_at, self._repair, ("free", None, node))
        self._unhealthy(1)  # after the allocation it hit has let go of the node
        if kind in (OD, SPOT):
            self._drain()

    def _what_it_hits(self, rank: int) -> tuple[int, int]:
        """(what, position within it) of the healthy node of `rank` (0-based, in fleet order). The
        layout is the one the exact engine's placement leaves on a homogeneous fleet: jobs packed on the
        first nodes (on-demand, then spot), then the reserved blocks, idle nodes, nodes promised to an
        on-demand job waiting out a spot notice, and the hot spares on the last nodes (the exact engine
        holds out the last `spare_share` of the nodes), those on their way to a contract last."""
        res_healthy = sum(c.healthy for c in self.contracts)
        bounds = (
            (OD, self.pools[OD].nodes),
            (SPOT, self.pools[SPOT].nodes),
            (_RESERVED, res_healthy),
            (_IDLE, self.free),
            (_PROMISED, self.pending),
            (_SPARE, self.spares),
            (_SWAPPING, len(self.swapping)),
        )
        for kind, size in bounds:
            if rank < size:
                return kind, rank
            rank -= size
        raise AssertionError(f"healthy node rank past the healthy nodes by {rank}")

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
        """A running job of `product`, chosen with probability proportional to its nodes: a uniform
        pick kept with probability nodes / (a bound on every job's nodes), the rejection draw. The bound
        must hold before the first draw (a bound learnt from the draws would keep the first pick
        always: uniform, not by nodes)."""
        pool, rng = self.pools[product], self._frng
        while True:
            jid = pool.ids[rng.randrange(len(pool.ids))]
            if rng.random() * pool.biggest < self.runs[jid].nodes:
                return jid

    def _swap(self, swap: Swap) -> None:
        """A hot spare takes a failed reserved node's place (or goes back to the spares if the contract
        ended meanwhile); a spare that failed on its way does nothing."""
        if swap.failed:
            return
        self.swapping.remove(swap)
        self.t.events += 1
        c = swap.contract
        if c.active and c.down > 0:
            c.down -= 1
            c.healthy += 1
            self.lv.held_down -= self.gpn
            self._alloc(RES, 1)
        else:
            self.spares += 1

    def _repair(self, arg: tuple[str, Contract | None, int]) -> None:
        kind, c, node = arg
        self._down.remove(node)
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
