"""Engines: SQLite in WAL mode with immediate (write-locking) transactions for writers and deferred ones
for readers, or PostgreSQL with server-side time limits, reads outside any transaction (autocommit) and
a liveness check only for connections that sat idle in the pool. On both, a database that cannot be
reached raises `Unavailable` and one that gave up waiting raises `Busy` (domain errors: a 503 at the
edge)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from neocloud.kernel.errors import Busy, Unavailable

log = logging.getLogger("neocloud.db")

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "neocloud_read_only"
# A connection marked so runs each statement on its own on SQLite, without BEGIN (infra.counters: one
# SELECT, which is its own snapshot); SQLAlchemy's end of its implicit transaction is then a no-op.
NO_TRANSACTION = "neocloud_no_transaction"
# A pooled PostgreSQL connection idle longer than this is pinged before use (a dead one is replaced,
# invisibly to the caller); one used more recently is not: a connection that died meanwhile fails its
# first statement, which invalidates the pool (every older connection is replaced) and answers 503.
PING_IDLE_S = 1.0
_CHECKED_IN = "neocloud_checked_in"
# Connections kept open in the pool. A server answers up to 40 requests at once (the thread pool of its
# sync routes), each holding one connection at a time; with SQLAlchemy's default of 5 kept (+10 overflow)
# every connection past the fifth was closed when returned and opened again by the next request: a
# PostgreSQL backend started (and the session's time limits set) or, on SQLite, the PRAGMAs run again,
# several times a second under 16 clients. Connections are still opened only when needed.
POOL_SIZE = 20
MAX_OVERFLOW = 20

# SQLSTATEs after which nothing was applied and the same statement may simply be retried: lock_not_available,
# query_canceled (statement_timeout), idle_in_transaction_session_timeout, serialization_failure, deadlock.
_PG_BUSY = frozenset({"55P03", "57014", "25P03", "40001", "40P01"})
TIMEOUT_ENV = {
    "lock_ms": "NEOCLOUD_PG_LOCK_TIMEOUT_MS",
    "statement_ms": "NEOCLOUD_PG_STATEMENT_TIMEOUT_MS",
    "idle_in_transaction_ms": "NEOCLOUD_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
}


@dataclass(frozen=True, slots=True)
class PostgresTimeouts:
    """Limits PostgreSQL enforces on every session of an engine, so a stalled, frozen or partitioned process
    holds a lock for seconds at most: `lock_ms` is how long a statement waits for a lock, `statement_ms` how
    long one statement may run, `idle_in_transaction_ms` how long a session may sit idle inside a
    transaction before the server ends it and releases its locks. 0 disables a limit."""

    lock_ms: int = 3_000
    statement_ms: int = 15_000
    idle_in_transaction_ms: int = 5_000

    @staticmethod
    def from_env(env: Mapping[str, str]) -> PostgresTimeouts:
        """The defaults, overridden by NEOCLOUD_PG_LOCK_TIMEOUT_MS, NEOCLOUD_PG_STATEMENT_TIMEOUT_MS and
        NEOCLOUD_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS (milliseconds)."""
        given = {name: int(env[var]) for name, var in TIMEOUT_ENV.items() if env.get(var)}
        return PostgresTimeouts(**given)

    def options(self) -> str:
        """The libpq `options` that set the limits when a session starts."""
        return (
            f"-c lock_timeout={self.lock_ms} -c statement_timeout={self.statement_ms} "
            f"-c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


def make_engine(url: str, *, timeouts: PostgresTimeouts | None = None, **kw: Any) -> Engine:
    """An engine for `url`. SQLite files get WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so
    every writing transaction is a writer from its start: SQLite's single writer is then the capacity
    lock; a connection marked `read_only()` begins DEFERRED instead and reads beside the writer (WAL).
    PostgreSQL sessions get `timeouts` (default PostgresTimeouts()); a connection idle in the pool over
    PING_IDLE_S is pinged at checkout instead of every checkout (SQLAlchemy's pool_pre_ping: one more
    round trip per unit of work). The pool keeps up to `pool_size` connections (default POOL_SIZE) and
    opens `max_overflow` more when needed (default MAX_OVERFLOW)."""
    sqlite_path = url.split("///", 1)[1] if "///" in url else ""
    in_memory = url.startswith("sqlite") and sqlite_path in ("", ":memory:")
    if not in_memory and "poolclass" not in kw:  # an in-memory SQLite has a pool of its own kind
        kw.setdefault("pool_size", POOL_SIZE)
        kw.setdefault("max_overflow", MAX_OVERFLOW)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            _private_file(Path(path).expanduser())
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kw)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        connect_args = dict(kw.pop("connect_args", {}))
        parsed = make_url(url)
        # libpq `options` given in the URL (e.g. a search_path) and the time limits are one parameter: the
        # connect argument replaces the URL's, so it carries both (the URL keeps its own, for engine.url).
        given = [str(o) for o in (parsed.query.get("options"), connect_args.get("options")) if o]
        connect_args["options"] = " ".join([*given, (timeouts or PostgresTimeouts()).options()])
        engine = create_engine(url, connect_args=connect_args, **kw)
        if not kw.get("pool_pre_ping"):
            event.listen(engine, "checkin", _note_checkin)
            event.listen(engine, "checkout", _ping_if_idle)
    event.listen(engine, "handle_error", _translate_error)
    return engine


def _private_file(path: Path) -> None:
    """Create the database's directory (0700) and file (0600) if they do not exist yet, so tokens' hashes,
    bills and audit entries are readable by their owner only; SQLite gives its -wal and -shm files the
    database file's mode. Existing ones keep the mode their operator gave them."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)


def read_only(conn: Connection) -> Connection:
    """Mark `conn` (before its transaction begins) as one that will only read. On SQLite it then begins
    DEFERRED (it reads its WAL snapshot beside the writer). On PostgreSQL it runs in autocommit: under
    READ COMMITTED every statement reads its own snapshot inside a transaction too, so a reader loses
    nothing, and saves the BEGIN and ROLLBACK round trips (and psycopg keeps its prepared statements,
    which a ROLLBACK deallocates)."""
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn.execution_options(**{READ_ONLY: True})


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pessimistic liveness check for connections that sat in the pool over PING_IDLE_S (a fresh one
    has no check-in time and needs none); a dead one raises DisconnectionError, so the pool replaces it
    and retries."""
    idle_since = record.info.get(_CHECKED_IN)
    if idle_since is None or time.monotonic() - idle_since < PING_IDLE_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        if not getattr(dbapi_connection, "autocommit", True):
            dbapi_connection.rollback()  # end the transaction the ping began
    except Exception as exc:
        raise DisconnectionError(f"a pooled connection is dead: {exc}") from exc


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives any process crash (a SIGKILL loses nothing committed); only an OS
    # crash or power loss may roll back the last transactions. It saves an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get(NO_TRANSACTION):
        return
    conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")


def _translate_error(ctx: ExceptionContext) -> None:
    """Raise Unavailable or Busy in place of a driver error that says the database is out of reach or gave
    up waiting; anything else (a bug, a constraint) passes through unchanged. Pre-ping failures are left
    to the pool, which reconnects."""
    if ctx.is_pre_ping:
        return
    err = ctx.sqlalchemy_exception
    if not isinstance(err, DBAPIError):
        return
    orig = ctx.original_exception
    if ctx.dialect.name == "sqlite":
        text = str(orig).lower()
        if "locked" in text or "busy" in text:
            log.warning("database busy: %s", orig)
            raise Busy("the database is busy; retry shortly") from err
        if ctx.is_disconnect or "unable to open" in text or "disk i/o" in text:
            log.warning("database unavailable: %s", orig)
            raise Unavailable("the database is unavailable; retry shortly") from err
        return
    if getattr(orig, "sqlstate", None) in _PG_BUSY and not ctx.is_disconnect:
        log.warning("database busy: %s", str(orig).strip())
        raise Busy("the database is busy; retry shortly") from err
    if ctx.is_disconnect or isinstance(err, OperationalError):
        log.warning("database unavailable: %s", str(orig).strip())
        raise Unavailable("the database is unavailable; retry shortly") from err
