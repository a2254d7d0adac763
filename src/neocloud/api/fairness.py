"""First come, first served admission within one server process.

Neither a database lock queue nor Python's `threading.Lock` promises arrival order: under a burst some
requests were overtaken again and again (p99 ≈ 1.2 s for a median of 0.1 s at 16 clients). A ticket
gate per model in front of the capacity-deciding calls lets this process's requests start in arrival
order, `slots` at a time: one on SQLite (its single writer serialises decisions anyway), several on
PostgreSQL, where decisions on different nodes run in parallel (control/app/admit.py).
"""

from __future__ import annotations

import threading
from types import TracebackType

from neocloud.kernel.gpus import CATALOG


class FifoGate:
    """A ticket semaphore: `with gate:` blocks until every thread that arrived earlier has entered and
    fewer than `slots` are inside."""

    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError("a gate has at least one slot")
        self._slots = slots
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> FifoGate:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket >= self._serving + self._slots:
                self._cond.wait()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()

    def queued(self) -> int:
        """Threads holding or waiting for the gate."""
        with self._cond:
            return self._next_ticket - self._serving


class AdmissionGates:
    """One FifoGate per catalog GPU model (case-insensitive), created on first use; names outside the
    catalog share one gate (the control plane rejects them), so callers cannot make gates without bound."""

    def __init__(self, slots: int = 1) -> None:
        self._slots = slots
        self._lock = threading.Lock()
        self._gates: dict[str, FifoGate] = {}
        self._known = {name.lower() for name in CATALOG}

    def for_model(self, model: str) -> FifoGate:
        key = model.lower() if model.lower() in self._known else ""
        with self._lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = FifoGate(self._slots)
            return gate
