"""The base of the SQL unit of work's row groups (tenancy.py, capacity.py, allocations.py)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, func
from sqlalchemy.exc import IntegrityError

from neocloud.control.adapters.sql.statements import sql
from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.quotas import Quota
from neocloud.kernel.errors import Conflict

# PostgreSQL: the bookings and the events a unit of work kept for its commit, in one statement. Each
# column travels as one array (unnest zips them into rows), so the text never changes and psycopg
# prepares it once; an empty array inserts nothing.
PG_FLUSH = """WITH booked AS (
  INSERT INTO allocation_gpus (allocation_id, node_id, slot, start_at, end_at)
  SELECT * FROM unnest(%(g_allocation)s::varchar[], %(g_node)s::varchar[], %(g_slot)s::int[],
                       %(g_start)s::timestamptz[], %(g_end)s::timestamptz[])
)
INSERT INTO allocation_events
  (allocation_id, tenant_id, project_id, product, model, gpus, nodes, from_state, to_state, at, reason)
SELECT * FROM unnest(%(e_allocation)s::varchar[], %(e_tenant)s::varchar[], %(e_project)s::varchar[],
                     %(e_product)s::varchar[], %(e_model)s::varchar[], %(e_gpus)s::int[],
                     %(e_nodes)s::text[], %(e_from)s::varchar[], %(e_to)s::varchar[],
                     %(e_at)s::timestamptz[], %(e_reason)s::text[])"""


def flush_params(bookings: list[GpuBooking], events: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """PG_FLUSH's arrays: one per column."""
    for value in [*(b.start for b in bookings), *(b.end for b in bookings), *(e["at"] for e in events)]:
        utc(value)
    return {
        "g_allocation": [b.allocation_id for b in bookings],
        "g_node": [b.node_id for b in bookings],
        "g_slot": [b.slot for b in bookings],
        "g_start": [b.start for b in bookings],
        "g_end": [b.end for b in bookings],
        "e_allocation": [e["allocation_id"] for e in events],
        "e_tenant": [e["tenant_id"] for e in events],
        "e_project": [e["project_id"] for e in events],
        "e_product": [e["product"] for e in events],
        "e_model": [e["model"] for e in events],
        "e_gpus": [e["gpus"] for e in events],
        "e_nodes": [e["nodes"] for e in events],
        "e_from": [e["from_state"] for e in events],
        "e_to": [e["to_state"] for e in events],
        "e_at": [e["at"] for e in events],
        "e_reason": [e["reason"] for e in events],
    }


def utc(value: datetime | None) -> None:
    """What UtcDateTime checks of a value it binds (PG_FLUSH binds without it): tz-aware or None."""
    if value is not None and value.tzinfo is None:
        raise ValueError(f"expected a tz-aware datetime, got {value!r}")


def booked_twice() -> Conflict:
    return Conflict(
        "a GPU of this placement is already booked for part of the window",
        details={"reasons": {"gpu-already-booked": 1}},
    )


class Connected:
    """What the row groups share: the engine, the connection of the open unit of work, paging and
    inserts that may lose a uniqueness race. `SqlUnitOfWork` (store.py) opens and ends the transaction."""

    def __init__(
        self, engine: Engine, *, read_only: bool = False, writer: threading.RLock | None = None
    ) -> None:
        self._engine = engine
        self._read_only = read_only
        self._writer = writer
        self._holds_writer = False
        self._conn: Connection | None = None
        self._events: list[dict[str, Any]] = []
        self._bookings: list[GpuBooking] = []  # PostgreSQL: sent with the events (_flush_events)
        self._states_read: dict[str, str] | None = None  # see CapacityRows.node_version
        self._quotas_read: tuple[str, list[Quota]] | None = None  # see TenancyRows.project_by_name

    @property
    def c(self) -> Connection:
        """The open connection; every statement goes through here, so it also drops what a statement read
        ahead for the next read (node states, quotas): that answers only the read that follows it."""
        assert self._conn is not None, "use the unit of work inside `with`"
        self._states_read = self._quotas_read = None
        return self._conn

    def _flush_events(self) -> None:
        """Send the events kept for the commit and, on PostgreSQL, the GPU bookings kept with them, in
        one INSERT statement (PG_FLUSH: one round trip, one prepared statement whatever the row counts).
        A booking that overlaps another (the exclusion constraint) is a Conflict, as when added."""
        if not self._events and not self._bookings:
            return
        events, self._events = self._events, []
        bookings, self._bookings = self._bookings, []
        if not bookings:
            self.c.execute(sql().insert_events, events)
            return
        try:
            self.c.exec_driver_sql(PG_FLUSH, flush_params(bookings, events))
        except IntegrityError as err:  # the exclusion constraint: a GPU already booked at some instant
            raise booked_twice() from err

    @property
    def _pg(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def _page(self, query: Select[Any], id_col: Any, after: str | None, limit: int) -> tuple[list[Any], int]:
        if after is not None:
            query = query.where(id_col > after)
        rows = list(
            self.c.execute(
                query.add_columns(func.count().over().label("_total")).order_by(id_col).limit(limit)
            )
        )
        return rows, int(rows[0]._total) if rows else 0

    def _insert(self, what: str, stmt: Any) -> None:
        """Insert; a unique-constraint race lost to another process becomes a Conflict, not a 500."""
        try:
            with self.c.begin_nested():
                self.c.execute(stmt)
        except IntegrityError as err:
            raise Conflict(f"{what} already exists") from err
