"""First come, first served admission within one server process.

Neither a database lock queue nor Python's `threading.Lock` promises arrival order: under a burst some
requests were overtaken again and again (p99 ≈ 1.2 s for a median of 0.1 s at 16 clients). A ticket
gate per model in front of the capacity-deciding calls lets this process's requests start in arrival
order, `slots` at a time: one on SQLite (its single writer serialises decisions anyway), several on
PostgreSQL, where decisions on different nodes run in parallel (control/app/admit.py).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool

from neocloud.kernel.gpus import CATALOG

T = TypeVar("T")


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


class ReadPool:
    """Reads run their work in worker threads `slots` at a time; the others wait on the event loop,
    holding neither a thread nor the GIL (None: no bound beyond the server's thread pool).

    Why: a server process is one interpreter. On SQLite the one writer of the moment holds the database's
    write lock while it runs, and every statement it makes releases the GIL and must win it back
    against every runnable reader thread (the convoy effect), so with sixteen clients the writer held the
    lock several times longer than its own work takes, and mixed writes fell to a quarter of what they
    were when reads queued behind the lock. With reads admitted a few at a time, the writer competes
    with at most `slots` reader threads, and reads still never wait for the write lock."""

    def __init__(self, slots: int | None = None) -> None:
        if slots is not None and slots < 1:
            raise ValueError("a read pool has at least one slot")
        self.slots = slots
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, work: Callable[[], T]) -> T:
        if self.slots is None:
            return await run_in_threadpool(work)
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:  # one per event loop: an anyio limiter belongs to the loop it was made on
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.slots)
        return await anyio.to_thread.run_sync(work, limiter=limiter)
