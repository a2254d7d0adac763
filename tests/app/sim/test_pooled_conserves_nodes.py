"""The pooled engine never loses or invents a node: after every event, each node of the fleet is exactly
one of failed, a hot spare (or one on its way to a contract), reserved, running a job, idle or promised to
an on-demand job waiting out a spot notice, and the promised nodes are what the waiting jobs were promised
less what their noticed victims still hold. (Two leaks were found this way: a spot victim ending during its
notice returned its nodes to the pool instead of the waiting job, and a spare on its way to a contract
that had just ended was lost.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from neocloud.sim.model import Model
from neocloud.sim.pooled import PooledEngine
from neocloud.sim.scenarios import Scenario, preset


def counted(e: PooledEngine) -> dict[str, int]:
    noticed = sum(r.nodes for r in e.runs.values() if r.noticed and r.promised_to in e.waiting)
    return {
        "nodes": e.failed
        + e.spares
        + len(e.swapping)
        + sum(c.healthy for c in e.contracts)
        + e.pools[1].nodes
        + e.pools[2].nodes
        + e.free
        + e.pending,
        "failed": len(e._down),
        "promised": sum(e.waiting.values()) - noticed,
    }


def run_checked(s: Scenario, seed: int) -> tuple[PooledEngine, int]:
    e = PooledEngine(Model(s, seed), loop="heap")
    schedule = e.loop.at
    checked = [0]

    def at(time: float, fn: Any, arg: Any = None) -> None:
        def checked_fn(a: Any) -> None:
            fn(a)
            c = counted(e)
            assert c["nodes"] == e.N, (fn.__name__, e.loop.now, c)
            assert c["failed"] == e.failed and c["promised"] == e.pending, (fn.__name__, e.loop.now, c)
            assert e.free >= 0 and e.pending >= 0 and min(e.waiting.values(), default=0) >= 0
            checked[0] += 1

        schedule(time, checked_fn, arg)

    e.loop.at = at  # type: ignore[method-assign]
    e.run()
    return e, checked[0]


def busy_superpod() -> Scenario:
    """gb200-superpod on synthetic demand (spot preemptions) with 20x the failure rate (spare swaps)."""
    s = replace(preset("gb200-superpod"), source="synthetic").with_days(3)
    return replace(s, failures=replace(s.failures, per_gpu_day=0.01))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_node_is_counted_once_after_every_event(seed: int) -> None:
    preempted = failures = 0
    for s in (preset("tiny").with_days(10), busy_superpod()):
        e, events = run_checked(s, seed)
        assert events > 500
        preempted += e.t.preempted[2]
        failures += e.t.failures
    assert preempted > 0 and failures > 50  # the paths that leaked were taken
