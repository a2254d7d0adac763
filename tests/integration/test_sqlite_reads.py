"""On SQLite, reads do not take the write lock: a read-only unit of work begins DEFERRED and reads its
WAL snapshot while another connection holds the write lock; writers still begin IMMEDIATE."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from neocloud.billing.adapters.sql.feed import SqlEventFeed
from neocloud.billing.adapters.sql.store import SqlBillingStore
from neocloud.control.adapters.sql.sessions import SqlSessionRecords
from neocloud.control.adapters.sql.store import SqlStore
from neocloud.control.app.session_records import SessionRecord
from neocloud.control.app.views import ReservationRequest
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


def test_reads_complete_while_another_connection_holds_the_write_lock(
    sqlite: tuple[Engine, World, Path],
) -> None:
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


def test_a_read_only_unit_of_work_reads_through_the_store_beside_a_writer(
    sqlite: tuple[Engine, World, Path],
) -> None:
    engine, w, path = sqlite
    acme = w.tenant("acme")
    placed = w.control.reservations.reserve(acme, ReservationRequest(model="H100", gpus=8, hours=2))

    def read() -> tuple[str | None, int]:
        with SqlStore(engine)(read_only=True) as uow:
            alloc = uow.get_allocation(placed.id)
            return (alloc.state.value if alloc else None), len(uow.bookings("H100", w.clock.now(), None))

    finished, (state, booked) = _while_write_locked(path, read)
    assert finished and state == "scheduled" and booked == 8


def test_a_reconciler_pass_with_nothing_due_takes_no_write_lock(sqlite: tuple[Engine, World, Path]) -> None:
    _, w, path = sqlite
    acme = w.tenant("acme")
    later = w.clock.now() + timedelta(days=1)
    w.control.reservations.reserve(acme, ReservationRequest(model="H100", gpus=8, hours=1, start=later))
    finished, report = _while_write_locked(path, w.control.reconcile)
    assert finished and report.started == 0 and report.details == []


def test_an_allocation_due_but_not_ready_is_looked_at_without_the_write_lock(
    sqlite: tuple[Engine, World, Path],
) -> None:
    engine, _, path = sqlite
    w = world(engine, delay=timedelta(minutes=10))  # provisioning: due on each pass, not ready yet
    acme = w.tenant("acme")
    placed = w.control.reservations.reserve(acme, ReservationRequest(model="H100", gpus=8, hours=1))
    w.control.reconcile()
    with SqlStore(engine)(read_only=True) as uow:
        alloc = uow.get_allocation(placed.id)
        assert alloc is not None and alloc.state.value == "provisioning"
    finished, report = _while_write_locked(path, w.control.reconcile)
    assert finished and report.provisioned == 0


def test_billing_reads_take_no_write_lock(sqlite: tuple[Engine, World, Path]) -> None:
    engine, w, path = sqlite
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest(model="H100", gpus=8, hours=1))
    w.control.reconcile()
    store, feed = SqlBillingStore(engine), SqlEventFeed(engine)

    def reads() -> tuple[int, int, int, int, int, int]:
        return (
            len(store.usage()),
            len(store.credits()),
            len(store.invoices()),
            len(store.incidents()),
            len(store.covered([])),
            len(feed.lifecycle_events(w.clock.now() + timedelta(hours=2))),
        )

    finished, counts = _while_write_locked(path, reads)
    assert finished and counts is not None and counts[-1] >= 2  # requested→scheduled, →provisioning…


def test_a_console_session_is_looked_up_beside_a_writer(sqlite: tuple[Engine, World, Path]) -> None:
    """Every console request reads its session: the read must not queue behind SQLite's write lock."""
    engine, w, path = sqlite
    records = SqlSessionRecords(engine)
    now = w.clock.now()
    records.add(SessionRecord("k1", "tok_1", "viewer", None, "csrf", now, now, now + timedelta(hours=1)))
    finished, found = _while_write_locked(path, lambda: records.get("k1"))
    assert finished and found is not None and found.token_id == "tok_1"
