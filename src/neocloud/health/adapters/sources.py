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
