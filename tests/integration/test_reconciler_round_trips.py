"""What the reconciler sends to PostgreSQL to take a reservation that starts now from scheduled to
active: each step is one locked transition, looked at beforehand from what the pass has in hand (the
due list, its own last transition), not from a read-only unit of work of its own (control/app/reconciler.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from neocloud.control.app.views import ReservationRequest
from neocloud.kernel.products import State
from tests.control_builders import h100_fleet, migrated_engine, world

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine("postgres", tmp_path)


def test_scheduled_to_active_is_two_locked_transitions_and_no_other_allocation_read(pg):
    w = world(pg, h100_fleet(2), default_quota_gpus=None)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    assert w.services.engine is not None
    seen: list[str] = []

    @event.listens_for(w.services.engine, "before_cursor_execute")
    def note(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    w.control.reconcile()
    reads = [s for s in seen if s.startswith("SELECT") and "FROM allocations" in s]
    locked = [s for s in reads if "FOR UPDATE SKIP LOCKED" in s]
    updates = [s for s in seen if s.startswith("UPDATE allocations")]
    assert len(locked) == 2 and len(updates) == 2  # scheduled → provisioning → active
    assert len(reads) == 3  # and the due list: no look of their own before the transitions
    with w.control.deps.uow(read_only=True) as uow:
        done = uow.get_allocation(r.id)
    assert done is not None and done.state is State.ACTIVE
