"""Provisioners. The Slurm one is `neocloud.control.adapters.slurm.SlurmProvisioner`. `FakeProvisioner` marks nodes ready a configurable delay after it is asked to
provision them (in-package, so tests, the demo and the simulator share it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from neocloud.control.app.ports import Convergence, Grant
from neocloud.kernel.clock import Clock
from neocloud.kernel.ids import AllocationId, NodeId


class FakeProvisioner:
    def __init__(self, clock: Clock, delay: timedelta = timedelta(0)) -> None:
        self._clock = clock
        self._delay = delay
        self._lock = threading.Lock()
        self.ready_at: dict[str, datetime] = {}
        self.nodes: dict[str, tuple[NodeId, ...]] = {}
        self.released: set[str] = set()
        self.calls: list[tuple[str, str]] = []

    def provision(self, grant: Grant) -> None:
        allocation_id = grant.allocation_id
        with self._lock:
            self.calls.append(("provision", allocation_id))
            if allocation_id not in self.ready_at:
                self.ready_at[allocation_id] = self._clock.now() + self._delay
                self.nodes[allocation_id] = tuple(grant.nodes)

    def is_ready(self, allocation_id: AllocationId) -> bool:
        with self._lock:
            at = self.ready_at.get(allocation_id)
            return at is not None and at <= self._clock.now()

    def release(self, allocation_id: AllocationId, nodes: Sequence[NodeId]) -> None:
        with self._lock:
            self.calls.append(("release", allocation_id))
            self.released.add(allocation_id)

    def horizon(self) -> timedelta | None:
        return None  # nothing behind the fake to drift

    def converge(self, grants: Callable[[], Sequence[Grant]], now: datetime) -> Convergence:
        return Convergence()
