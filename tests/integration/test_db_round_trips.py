# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""What the store does to save statements and round trips, and that it changes no answer: the taken-GPU
summary agrees with the bookings it summarises, events kept until commit are read back and committed,
reads on PostgreSQL run outside a transaction, one idempotency key locks only itself, a pooled
connection that died while idle is replaced, and SQLite's in-process writer lock is released on
failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from neocloud.control.adapters.sql.store import SqlStore
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.allocations import Event
from neocloud.infra import engine as engine_module
from neocloud.infra.engine import make_engine
from neocloud.kernel.errors import Unavailable
from neocloud.kernel.products import State
from tests.control_builders import T0, database, database_url, migrated_engine, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)


def _by_node(bookings) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for b in bookings:
        out.setdefault(b.node_id, set()).add(b.slot)
    return out


def test_taken_is_the_bookings_of_the_window_by_node(database):
    w = world(database)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 12, 2))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 3, 1, start=T0 + timedelta(hours=3)))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 4, start=T0 + timedelta(hours=1)))
    w.control.instances.create_instance(acme, InstanceRequest("H100"))
    windows = [
        (T0, T0 + timedelta(hours=1)),
        (T0 + timedelta(hours=2), T0 + timedelta(hours=3)),
        (T0 + timedelta(hours=3), T0 + timedelta(hours=4)),
        (T0 + timedelta(days=9), T0 + timedelta(days=10)),
    ]
    with w.control.deps.uow(read_only=True) as uow:
        for start, end in windows:
            expected = _by_node(uow.bookings("H100", start, end))
            assert uow.taken("H100", start, end) == expected
        assert uow.taken("H100", T0, T0 + timedelta(hours=1))  # not vacuous
        assert uow.taken("B200", T0, T0 + timedelta(hours=1)) == {}


def test_events_kept_for_the_commit_are_read_back_before_it_and_committed_with_it(database):
    w = world(database)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    before = len(w.control.allocations.list_events(acme, r.id))
    with w.control.deps.uow() as uow:
        alloc = uow.get_allocation(r.id)
        assert alloc is not None
        event = Event(
            alloc.id,
            alloc.tenant_id,
            alloc.project_id,
            alloc.product,
            alloc.model,
            alloc.gpus,
            alloc.nodes,
            State.SCHEDULED,
            State.SCHEDULED,
            T0,
            "a note",
        )
        uow.add_event(event)
        assert [e.reason for e in uow.events(r.id)][-1] == "a note"  # read back inside the unit of work
        uow.add_event(event)
    assert len(w.control.allocations.list_events(acme, r.id)) == before  # not committed: neither is kept
    with w.control.deps.uow() as uow:
        uow.add_event(event)
        uow.add_event(event)
        uow.commit()
    assert [e.reason for e in w.control.allocations.list_events(acme, r.id)][before:] == ["a note", "a note"]


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine("postgres", tmp_path)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine("sqlite", tmp_path)


@pytest.mark.postgres
def test_reads_on_postgresql_run_outside_a_transaction_and_writes_inside_one(pg):
    store = SqlStore(pg)

    def instants(read_only: bool) -> tuple[object, object]:
        with store(read_only=read_only) as uow:
            first = uow.c.execute(text("SELECT now()")).scalar()
            time.sleep(0.01)
            return first, uow.c.execute(text("SELECT now()")).scalar()

    a, b = instants(read_only=True)
    assert a != b  # now() is the transaction's start: each read statement is its own
    a, b = instants(read_only=False)
    assert a == b  # one transaction, also on a connection a reader used before
    a, b = instants(read_only=True)
    assert a != b


@pytest.mark.postgres
def test_a_pooled_connection_that_died_while_idle_is_replaced_unseen(pg, monkeypatch):
    own = make_engine(database_url(pg), pool_size=1, max_overflow=0)
    store = SqlStore(own)

    def kill_pooled_connection() -> None:
        with store(read_only=True) as uow:
            pid = uow.c.execute(text("SELECT pg_backend_pid()")).scalar()
        with pg.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()

    try:
        monkeypatch.setattr(engine_module, "PING_IDLE_S", 0.0)  # every pooled connection counts as idle
        kill_pooled_connection()
        with store(read_only=True) as uow:
            assert uow.auth_epoch() >= 0
        monkeypatch.setattr(engine_module, "PING_IDLE_S", 3600.0)  # none does: no ping
        kill_pooled_connection()
        with pytest.raises(Unavailable), store(read_only=True) as uow:
            uow.auth_epoch()
        with store(read_only=True) as uow:  # the failure replaced the dead connection
            assert uow.auth_epoch() >= 0
    finally:
        own.dispose()


def test_a_failed_sqlite_writer_releases_the_in_process_writer_lock(sqlite):
    store = SqlStore(sqlite)
    with pytest.raises(RuntimeError), store():
        raise RuntimeError("a use case failed")
    done: list[int] = []

    def write_elsewhere() -> None:
        with store() as uow:
            uow.bump_auth_epoch()
            uow.commit()
            done.append(uow.auth_epoch())

    thread = threading.Thread(target=write_elsewhere, daemon=True)
    thread.start()
    thread.join(60)
    assert done == [1]
