# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""What one admission sends to the database, and that the reads folded into another statement answer
as their own statement would: node states read with the node version, a tenant's quotas read with its
project, GPU bookings sent with the events at commit (and read back before it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from neocloud.control.adapters.sql.store import SqlStore
from neocloud.control.app.views import ReservationRequest
from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.quotas import Quota
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId, NodeId, TenantId
from tests.control_builders import T0, engine, h100_fleet, migrated_engine, world  # noqa: F401

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine("postgres", tmp_path)


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    return seen


@pytest.mark.postgres
def test_one_reservation_on_postgresql_sends_these_statements_and_no_more(pg):
    w = world(pg, h100_fleet(4), default_quota_gpus=None)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1), idempotency_key="warm")
    assert w.services.engine is not None
    seen = _statements(w.services.engine)
    w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1), idempotency_key="k")
    admission = [s for s in seen if "billing" not in s]  # the price book's read is billing's
    kinds = [
        "FROM projects LEFT OUTER JOIN quotas",  # the project and its tenant's quotas
        "WHERE allocations.tenant_id = ",  # the idempotency key (no advisory lock: the unique constraint)
        "max(nodes.ordinal)",  # the node set's version and the node states
        "string_agg",  # the GPUs taken over the window
        "FOR UPDATE SKIP LOCKED",  # the claim
        "AS owner",  # the bookings of the claimed nodes, read again after the claim
        "INSERT INTO allocations",
        "INSERT INTO allocation_gpus",  # the bookings and the events, at commit
    ]
    assert len(admission) == len(kinds), admission
    for statement, kind in zip(admission, kinds, strict=True):
        assert kind in statement, (kind, statement)


def test_node_states_read_with_the_version_are_what_a_read_of_their_own_sees(engine):
    w = world(engine, h100_fleet(4))
    with w.control.deps.uow() as uow:
        uow.node_version("H100")
        assert uow.node_states() == {}
        uow.set_node_state("h01", "draining")
        uow.node_version("H100")
        assert uow.node_states() == {"h01": "draining"}
        uow.node_version("H100")
        uow.set_node_state("h02", "draining")  # a statement in between: the states read ahead are dropped
        assert uow.node_states() == {"h01": "draining", "h02": "draining"}


def test_quotas_read_with_the_project_are_the_tenants_and_a_write_between_drops_them(engine):
    w = world(engine, h100_fleet(4), default_quota_gpus=None)
    acme, other = w.tenant("acme"), w.tenant("other")
    assert acme.tenant_id is not None and other.tenant_id is not None
    with w.control.deps.uow() as uow:
        uow.put_quota(Quota(TenantId(other.tenant_id), None, "H100", 3))
        project = uow.project_by_name(acme.tenant_id, "default")
        assert project is not None
        assert uow.quotas(acme.tenant_id) == []  # not the other tenant's
        uow.project_by_name(acme.tenant_id, "default")
        uow.put_quota(Quota(TenantId(acme.tenant_id), None, "H100", 16))
        assert [q.gpus for q in uow.quotas(acme.tenant_id)] == [16]
        uow.project_by_name(acme.tenant_id, "default")
        assert uow.quotas(other.tenant_id) == [Quota(TenantId(other.tenant_id), None, "H100", 3)]


def test_bookings_kept_for_the_commit_are_read_back_before_it_and_a_double_booking_is_a_conflict(engine):
    w = world(engine, h100_fleet(4), default_quota_gpus=None)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + timedelta(hours=1)))
    node = w.control.reservations.get_reservation(acme, r.id).nodes[0]
    store = SqlStore(engine)
    with store() as uow:
        uow.add_bookings([GpuBooking(AllocationId(r.id), NodeId("h03"), 0, T0 + timedelta(hours=5), None)])
        assert {b.node_id for b in uow.bookings_of(r.id)} == {node, "h03"}
        assert 0 in uow.taken("H100", T0 + timedelta(hours=5), T0 + timedelta(hours=6))["h03"]
    with store() as uow:  # rolled back: never committed
        assert {b.node_id for b in uow.bookings_of(r.id)} == {node}
    if engine.dialect.name != "postgresql":
        return  # the exclusion constraint is PostgreSQL's
    later = T0 + timedelta(hours=1, minutes=30)
    with pytest.raises(Conflict, match="already booked"), store() as uow:
        uow.add_bookings([GpuBooking(AllocationId(r.id), NodeId(node), 0, later, None)])
        uow.commit()


@pytest.mark.postgres
def test_one_quote_on_postgresql_sends_these_statements_and_no_more(pg):
    """A quote's reads: the tenant's quotas, the node set's version with the node states (one
    statement: the states are read right after it), and the bookings with their live spot owners."""
    w = world(pg, h100_fleet(4), default_quota_gpus=None)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1), idempotency_key="warm")
    w.control.reservations.quote(acme, ReservationRequest("H100", 1, 1))
    assert w.services.engine is not None
    seen = _statements(w.services.engine)
    quoted = w.control.reservations.quote(acme, ReservationRequest("H100", 1, 1))
    assert quoted.feasible
    reads = [s for s in seen if "billing" not in s]  # the price book's read is billing's
    kinds = ["FROM quotas", "max(nodes.ordinal)", "AS owner"]
    assert len(reads) == len(kinds), reads
    for statement, kind in zip(reads, kinds, strict=True):
        assert kind in statement, (kind, statement)
    assert len([s for s in seen if "billing" in s]) == 1  # the catalog's version: the catalog is cached
