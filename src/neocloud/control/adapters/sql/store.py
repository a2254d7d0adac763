"""The SQL UnitOfWork (SQLite or PostgreSQL): the transaction of one unit of work, over the row groups
of tenancy.py, capacity.py and allocations.py (rows.py maps rows to domain objects and back).

Concurrency: a capacity decision locks the node rows it books (`claim_nodes`: FOR UPDATE, or FOR UPDATE
SKIP LOCKED so concurrent decisions spread over different nodes instead of queueing) on PostgreSQL, so
decisions on different nodes run in parallel across processes, and bookings read after the claim are
current for those nodes. On SQLite every writing transaction is BEGIN IMMEDIATE (one writer at a time;
a read-only unit of work begins DEFERRED and reads its WAL snapshot beside the writer), so every node
is claimed at once. PostgreSQL's exclusion constraint on allocation_gpus is a second guard. The
reconciler locks allocation rows with FOR UPDATE SKIP LOCKED. Two admissions with the same idempotency
key are told apart by the unique constraint on (tenant, key): the second insert waits for the first's
commit and fails with KeyTaken, and admission starts again (control/app/admit.py).

Round trips: a read-only unit of work runs in autocommit on PostgreSQL (infra.engine.read_only: no BEGIN
or ROLLBACK). Allocation events are sent in one INSERT when the unit of work commits (or before
`events()` reads them); on PostgreSQL the GPU bookings go with them in the same statement (or before
bookings are read). A read that admission always follows with another brings that one's rows along
(node states with the node version, a tenant's quotas with its project), kept only for the next read.
"""

from __future__ import annotations

import threading
from types import TracebackType

from sqlalchemy import Engine

from neocloud.control.adapters.sql.allocations import AllocationRows
from neocloud.control.adapters.sql.availability import AvailabilityRows
from neocloud.control.adapters.sql.booked import BookedRows
from neocloud.control.adapters.sql.capacity import CapacityRows
from neocloud.control.adapters.sql.tenancy import TenancyRows
from neocloud.infra.engine import SQLITE_BUSY_TIMEOUT_MS, read_only
from neocloud.kernel.errors import Busy


class SqlStore:
    """Makes units of work on one engine: `store()` is a new SqlUnitOfWork, `store(read_only=True)` one
    that only reads (on SQLite it never takes the write lock).

    On SQLite this process's writing units of work also take one in-process lock before BEGIN
    IMMEDIATE, so they queue on it and start the moment the previous one ends, instead of polling
    SQLite's busy handler (which sleeps up to 100 ms between tries) while the reconciler's and the
    requests' short transactions interleave. Other processes still wait in the busy handler."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only, writer=None if read_only else self._writer)


class SqlUnitOfWork(TenancyRows, CapacityRows, AllocationRows, AvailabilityRows, BookedRows):
    """One unit of work: a connection and its transaction (`with`), committed by `commit()`."""

    @property
    def claims_are_current(self) -> bool:
        """On SQLite a writing unit of work is the one writer from its BEGIN IMMEDIATE: what it read is
        current, so admission need not read bookings again after claiming nodes (control/app/admit.py).
        On PostgreSQL another decision may have booked a node between the read and the claim."""
        return not self._pg and not self._read_only

    def __enter__(self) -> SqlUnitOfWork:
        if self._writer is not None:
            if not self._writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise Busy("the database is busy; retry shortly")
            self._holds_writer = True
        try:
            self._conn = self._engine.connect()
            if self._read_only:
                read_only(self._conn)
            self._conn.begin()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, self._conn = self._conn, None
        self._events, self._bookings, self._states_read, self._quotas_read = [], [], None, None
        try:
            if conn is not None:
                conn.rollback()
                conn.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._holds_writer and self._writer is not None:
            self._holds_writer = False
            self._writer.release()

    def commit(self) -> None:
        self._flush_events()
        self.c.commit()
        self.c.begin()
