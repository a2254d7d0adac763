"""On SQLite, reads do not take the write lock: a read-only unit of work begins DEFERRED and reads its
WAL snapshot while another connection holds the write lock; writers still begin IMMEDIATE."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from neocloud.control.adapters.sql.store import SqlStore
from neocloud.infra.engine import make_engine
from neocloud.infra.schema import upgrade
from tests.control_builders import World, world

BOUND_S = 3.0  # far below the busy timeout (30 s) a read behind the writer would wait


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[Engine, World, Path]]:
    path = tmp_path / "neocloud.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine, world(engine), path
    engine.dispose()


def _while_write_locked(path: Path, read: Callable[[], Any]) -> tuple[bool, Any]:
    """Run `read` on a thread while another connection holds the write lock; (finished within BOUND_S, result)."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE nodes SET state = state")
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(read()), daemon=True)
    try:
        thread.start()
        thread.join(BOUND_S)
        finished = not thread.is_alive()
    finally:
        holder.rollback()
        holder.close()
    thread.join(60)
    return finished, out[0] if out else None


def test_reads_complete_while_another_connection_holds_the_write_lock(sqlite: tuple[Engine, World, Path]) -> None:
    _, w, path = sqlite
    acme, operator = w.tenant("acme"), w.operator()
    finished, page = _while_write_locked(path, lambda: w.control.reservations.list_reservations(acme))
    assert finished and page.total == 0
    finished, nodes = _while_write_locked(path, lambda: w.control.fleet.list_nodes(operator))
    assert finished and nodes.total == 4


def test_a_writing_unit_of_work_still_begins_immediate(sqlite: tuple[Engine, World, Path]) -> None:
    engine, _, path = sqlite
    with SqlStore(engine)():
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with SqlStore(engine)(read_only=True):
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # a reader does not hold the write lock
        other.rollback()
        other.close()
