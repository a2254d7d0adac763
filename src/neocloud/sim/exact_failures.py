"""Failures and repairs in the exact engine: which node fails, what the failure does to the work on
it, spares standing in for failed nodes of reserved contracts, and the repair.

A failure marks the node unhealthy for placement (through the control plane's node use case), stops
the instance it ran (through the control plane) and, for a reserved contract, counts its downtime (a
spare, when one stands by, takes the failed node's place after the swap time); the repair after
`repair_hours` makes the node ready again (or a spare, when a spare took its place).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from neocloud.sim.accounting import Levels
from neocloud.sim.exact_calls import Calls, SimJob, set_node_state
from neocloud.sim.loop import SimPyLoop
from neocloud.sim.model import Model, SimTotals

RES = 0
READY, UNHEALTHY, SPARE, SERVING = "ready", "unhealthy", "spare", "spare-serving"


class NodeFailures:
    """The failure half of ExactEngine (a mixin: the engine holds the state named below)."""

    m: Model
    cp: Any
    store: Any
    loop: SimPyLoop
    calls: Calls
    t: SimTotals
    lv: Levels
    jobs: dict[str, SimJob]
    contract_of: dict[str, int]
    state: dict[str, str]
    spares: list[str]
    down: dict[str, tuple[int, bool]]
    serving: dict[str, str]
    failed_was: dict[str, str]
    restore: dict[str, str]
    _failures: Iterator[tuple[int, str, int]]
    _vrng: random.Random

    if TYPE_CHECKING:  # the engine's

        def _stop(self, job: SimJob) -> None: ...
        def _drain_soon(self) -> None: ...

    def _set(self, node: str, state: str) -> None:
        self.state[node] = state
        set_node_state(self.cp, node, state)
        self.calls.add(self.loop.now, "set_node_state", node=node, state=state)

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
