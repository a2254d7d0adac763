"""Health sources behind the `HealthSource` port (`observe(now) -> list[HealthObservation]`).

- `InjectorSource`: the seeded fault injector as a live source: each call returns the failures that
  happened since the previous one (the demo, soak tests and the simulator).
- `QueueSource`: observations pushed in by code (e.g. a monitor's webhook adapter) and drained by
  `observe`.
Slurm's DOWN/DRAIN node states are a source of the same shape (the Slurm integration's module).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime

from neocloud.health.app.ports import HealthSource
from neocloud.health.domain.injector import FaultInjector, Hardware
from neocloud.kernel.health import HealthObservation


class InjectorSource:
    def __init__(self, injector: FaultInjector, nodes: Sequence[Hardware], start: datetime) -> None:
        self._injector = injector
        self._nodes = list(nodes)
        self._start = start
        self._seen = start

    def observe(self, now: datetime) -> list[HealthObservation]:
        if now <= self._seen:
            return []
        # the failures of [start, now) minus those already reported: stable because the streams are seeded
        found = [f for f in self._injector.failures(self._nodes, self._start, now) if f.at >= self._seen]
        self._seen = now
        return [f.observation() for f in found]


class QueueSource:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[HealthObservation] = []

    def push(self, observations: Iterable[HealthObservation]) -> None:
        with self._lock:
            self._items.extend(observations)

    def observe(self, now: datetime) -> list[HealthObservation]:
        with self._lock:
            due = [o for o in self._items if o.at <= now]
            self._items = [o for o in self._items if o.at > now]
        return due


class StateSource:
    """A source that reports what is wrong *now* (Slurm's DOWN/DRAIN list, a monitor's current alarms),
    turned into the port's "each observation once": a condition is reported when it first appears, and
    again only after it has cleared and come back. `inner.observe(now)` answers every unhealthy node
    each time; a node's condition is keyed by (component, code, action)."""

    def __init__(self, inner: HealthSource) -> None:
        self._inner = inner
        self._open: dict[str, tuple[object, ...]] = {}  # as last acknowledged
        self._seen: dict[str, tuple[object, ...]] | None = None  # as last observed, not yet acknowledged

    def observe(self, now: datetime) -> list[HealthObservation]:
        """The conditions new since the last acknowledged poll: a poll that failed before acting on them
        (and so never acknowledged) gets them again."""
        current = {o.node: o for o in self._inner.observe(now)}
        new = [
            o
            for node, o in sorted(current.items())
            if self._open.get(node) != (o.component, o.code, o.action)
        ]
        self._seen = {node: (o.component, o.code, o.action) for node, o in current.items()}
        return new

    def acknowledge(self) -> None:
        if self._seen is not None:
            self._open, self._seen = self._seen, None
