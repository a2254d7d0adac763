"""First come, first served admission within one server process.

Neither a database lock queue nor Python's `threading.Lock` promises arrival order: under a burst some
requests were overtaken again and again (p99 ≈ 1.2 s for a median of 0.1 s at 16 clients). A ticket
gate per model in front of the capacity-deciding calls lets this process's requests start in arrival
order, `slots` at a time: one on SQLite (its single writer serialises decisions anyway), several on
PostgreSQL, where decisions on different nodes run in parallel (control/app/admit.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

from neocloud.kernel.gpus import CATALOG

T = TypeVar("T")
DEFAULT_READ_THREADS = 40  # anyio's default thread limit, which FastAPI's sync routes run under


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
    """Reads run their work in a pool of worker threads of their own, `slots` at a time; the others wait
    their turn in the pool's queue, holding neither a thread nor the GIL (None: up to DEFAULT_READ_THREADS
    at once, as many as the server's default thread pool).

    Why bounded: a server process is one interpreter. On SQLite the one writer of the moment holds the
    database's write lock while it runs, and every statement it makes releases the GIL and must win it
    back against every runnable reader thread (the convoy effect), so with sixteen clients the writer
    held the lock several times longer than its own work takes, and mixed writes fell to a quarter of
    what they were when reads queued behind the lock. With reads admitted a few at a time, the writer
    competes with at most `slots` reader threads, and reads still never wait for the write lock.

    Why a pool of its own: asyncio's executor hand-off (`run_in_executor`) costs a fraction of anyio's
    worker-thread hand-off (a capacity limiter, a cancel scope and task-local lookups on every call),
    which was a sixth of a quote's CPU time. The work runs in a copy of the caller's context, as
    anyio's does."""

    def __init__(self, slots: int | None = None) -> None:
        if slots is not None and slots < 1:
            raise ValueError("a read pool has at least one slot")
        self.slots = slots
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:  # threads start on first use, not when the app is built
                self._executor = ThreadPoolExecutor(
                    self.slots or DEFAULT_READ_THREADS, thread_name_prefix="neocloud-read"
                )
            return self._executor

    async def run(self, work: Callable[[], T]) -> T:
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool(), context.run, work)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
