"""The base of the SQL unit of work's row groups (tenancy.py, capacity.py, allocations.py)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection, Engine, Select, func
from sqlalchemy.exc import IntegrityError

from neocloud.control.adapters.sql.statements import sql
from neocloud.kernel.errors import Conflict


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

    @property
    def c(self) -> Connection:
        assert self._conn is not None, "use the unit of work inside `with`"
        return self._conn

    def _flush_events(self) -> None:
        if self._events:
            rows, self._events = self._events, []
            self.c.execute(sql().insert_events, rows)

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
