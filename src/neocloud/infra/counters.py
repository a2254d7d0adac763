"""Counters read on every request (the auth epoch of control's tenancy, the price catalog's version of
billing), each cheap, together in one statement.

A counter is a name and a few scalar subqueries (`Counters.read(name, part)`, `part` building them on
first use). The statement runs outside any transaction: on PostgreSQL in autocommit (no BEGIN, no
ROLLBACK), on SQLite without BEGIN (one SELECT is its own snapshot), as driver SQL compiled once (no
statement cache lookup per call). A database that cannot be reached is `Unavailable`, one that gave up
waiting `Busy`, as for every statement of the engine (infra.engine).

Outside a request scope each read is one statement of its own. Inside `Counters.scope()` (the API opens
one around the work of a read-only request, api/deps.Authenticated.read) the first read fetches every
counter registered so far in one statement, and the request's later reads take their values from it:
one round trip and one connection checkout where there was one of each per counter. So a quote reads
its caller's auth epoch and the catalog's version together. Every value is then the one of the request's
first read: a change that commits after it is seen by the next request, as if this one had arrived a
moment earlier (the same bound as before, where each was read at its own moment of the request). A scope
never outlives its request, and a write (which may change a counter) never runs inside one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import ColumnElement, Engine, select

from neocloud.infra.engine import NO_TRANSACTION

Part = Sequence[ColumnElement[Any]]
_SCOPE: ContextVar[dict[tuple[int, str], tuple[Any, ...]] | None] = ContextVar(
    "neocloud_counters", default=None
)


class Counters:
    """The counters of one engine (bootstrap makes one and hands it to the adapters that read them)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._parts: dict[str, Part] = {}
        self._sql: dict[tuple[str, ...], str] = {}

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Within the block (one request's work, in its thread), counters are read once, all together."""
        token = _SCOPE.set({})
        try:
            yield
        finally:
            _SCOPE.reset(token)

    def read(self, name: str, part: Callable[[], Part]) -> tuple[Any, ...]:
        """The current values of counter `name` (its subqueries' results, in order)."""
        with self._lock:
            if name not in self._parts:
                self._parts[name] = tuple(part())
            registered = tuple(self._parts)
        scope = _SCOPE.get()
        if scope is None:
            return self._fetch((name,))[name]
        key = (id(self), name)
        if key not in scope:
            wanted = tuple(n for n in registered if (id(self), n) not in scope)
            for found, values in self._fetch(wanted).items():
                scope[(id(self), found)] = values
        return scope[key]

    def _fetch(self, names: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
        sql, widths = self._statement(names)
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execution_options(**{NO_TRANSACTION: True})
            row = conn.exec_driver_sql(sql).one()
        out: dict[str, tuple[Any, ...]] = {}
        at = 0
        for name, width in zip(names, widths, strict=True):
            out[name] = tuple(row[at : at + width])
            at += width
        return out

    def _statement(self, names: tuple[str, ...]) -> tuple[str, list[int]]:
        with self._lock:
            parts = [self._parts[n] for n in names]
            sql = self._sql.get(names)
            if sql is None:
                columns = [c.label(f"c{i}") for i, c in enumerate(c for p in parts for c in p)]
                compiled = select(*columns).compile(
                    dialect=self._engine.dialect, compile_kwargs={"literal_binds": True}
                )
                sql = self._sql[names] = str(compiled)
        return sql, [len(p) for p in parts]
