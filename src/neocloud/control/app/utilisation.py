"""Utilisation over time, per UTC day: GPU-hours committed (booked by any product), delivered (what the
ledger metered, passed in by the caller: billing's figure) and healthy (GPUs on nodes in service, from
each node's lifecycle history, not today's states).

Days that are over are history: their committed and healthy GPU-hours are kept per process once
computed (an allocation's past does not change, and a lifecycle event is never back-dated), so a page
computes only today afresh. Operators and fleet-wide viewers only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from neocloud.control.app.fleetmap import FleetMapQueries, require_fleet_view
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.products import State

if TYPE_CHECKING:
    from neocloud.control.app.deps import Deps

DAY = timedelta(days=1)
NOT_COMMITTED = (State.CANCELLED, State.REQUESTED, State.SCHEDULED)
HEALTHY_STATES = frozenset({"ready", "spare"})  # control-plane node states of a node in service
MAX_CACHED_DAYS = 400


@dataclass(frozen=True, slots=True)
class Transition:
    """One move of one node's lifecycle at `at`: whether the node was in service before it and is after."""

    node: str
    at: datetime
    was: bool
    healthy: bool


@dataclass(frozen=True, slots=True)
class DailyUtilisation:
    days: list[datetime]  # each day's start (UTC midnight)
    committed: list[Decimal]  # GPU-hours, 0.1 precision
    healthy: list[Decimal]
    total_gpus: int
    healthy_gpus_now: int


def healthy_gpu_seconds(
    start: datetime,
    days: int,
    gpus: dict[str, int],
    healthy_now: set[str],
    transitions: Iterable[Transition],
) -> list[int]:
    """GPU-seconds in service per day of [start, start + days): every node counts its GPUs while it is in
    service. A node is in its first transition's `was` state before it and, after each, in its `healthy`
    state; a node without transitions is as it is now throughout."""
    total = [0] * days
    end = start + days * DAY
    moves: dict[str, list[Transition]] = {}
    for t in sorted(transitions, key=lambda t: t.at):
        if t.node in gpus:
            moves.setdefault(t.node, []).append(t)
    steady = sum(g for n, g in gpus.items() if n in healthy_now and n not in moves)
    for d in range(days):
        total[d] = steady * 86_400
    for node, seq in moves.items():
        g = gpus[node]
        state, at = seq[0].was, start
        for move in [*seq, None]:
            upto = min(max(move.at, start), end) if move is not None else end
            if state and upto > at:
                _add(total, start, at, upto, g)
            at = max(at, upto)
            if move is not None:
                state = move.healthy
    return total


def _add(total: list[int], start: datetime, lo: datetime, hi: datetime, gpus: int) -> None:
    while lo < hi:
        d = int((lo - start) // DAY)
        nxt = min(hi, start + (d + 1) * DAY)
        total[d] += gpus * int((nxt - lo).total_seconds())
        lo = nxt


class UtilisationQueries:
    """Committed and healthy GPU-hours per day (see the module docstring)."""

    def __init__(self, deps: Deps, fleetmap: FleetMapQueries) -> None:
        self._deps = deps
        self._fleetmap = fleetmap
        self._lock = threading.Lock()
        # (node-set version, day, with history) → (committed, healthy) GPU-seconds of a finished day
        self._closed: dict[tuple[str, datetime, bool], tuple[int, int]] = {}

    def daily(
        self, principal: Principal, days: int, transitions: Sequence[Transition] | None = None
    ) -> DailyUtilisation:
        """The `days` UTC days up to and including today. `transitions`: the nodes' lifecycle moves (the
        health context's events) since at least the first day; None: no history known, every node as
        it is now (such figures are kept apart from those with history)."""
        require_fleet_view(principal)
        topo = self._fleetmap.topology(principal)
        now = self._deps.clock.now()
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + DAY
        start = end - days * DAY
        day_starts = [start + d * DAY for d in range(days)]
        with self._deps.uow(read_only=True) as uow:
            node_states = uow.node_states()
        gpus = dict(zip(topo.columns.id, (int(g) for g in topo.columns.gpus), strict=True))
        healthy_now = {n for n in gpus if node_states.get(n, "ready") in HEALTHY_STATES}
        keys = [(topo.version, d, transitions is not None) for d in day_starts]
        with self._lock:
            known = [self._closed.get(k) for k in keys]
        missing = [i for i, k in enumerate(known) if k is None]
        committed = [k[0] if k else 0 for k in known]
        healthy = [k[1] if k else 0 for k in known]
        if missing:
            lo, hi = day_starts[missing[0]], day_starts[missing[-1]] + DAY
            span = int((hi - lo) // DAY)
            fresh_committed = self._committed_seconds(lo, span, now)
            fresh_healthy = healthy_gpu_seconds(lo, span, gpus, healthy_now, transitions or ())
            first = missing[0]
            with self._lock:
                for i in missing:
                    committed[i] = fresh_committed[i - first]
                    healthy[i] = fresh_healthy[i - first]
                    if day_starts[i] + DAY <= now:  # over: history from now on
                        self._closed[keys[i]] = (committed[i], healthy[i])
                while len(self._closed) > MAX_CACHED_DAYS:
                    self._closed.pop(next(iter(self._closed)))
        hours = Decimal(3600)
        return DailyUtilisation(
            days=day_starts,
            committed=[(Decimal(c) / hours).quantize(Decimal("0.1")) for c in committed],
            healthy=[(Decimal(h) / hours).quantize(Decimal("0.1")) for h in healthy],
            total_gpus=int(np.sum(topo.tray_gpus)),
            healthy_gpus_now=sum(gpus[n] for n in healthy_now),
        )

    def _committed_seconds(self, start: datetime, days: int, now: datetime) -> list[int]:
        """GPU-seconds held per day by every allocation that started (up to now for the running ones)."""
        end = start + days * DAY
        out = [0] * days
        with self._deps.uow(read_only=True) as uow:
            allocs = uow.allocations_overlapping(start, end)
        for a in allocs:
            if a.start >= end or a.state in NOT_COMMITTED:
                continue
            a_end = min(a.ended_at or a.end or now, now)
            lo, hi = max(a.start, start), min(a_end, end)
            if lo < hi:
                _add(out, start, lo, hi, a.gpus)
        return out
