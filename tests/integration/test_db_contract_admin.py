# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""The store contract for tenancy administration, over the memory store, SQLite and PostgreSQL: tokens
(list, revoke, expiry), tenant suspension, the auth epoch and the append-only audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from neocloud.control.app.views import PageRequest, ReservationRequest
from neocloud.kernel.audit import Actor, AuditEntry
from neocloud.kernel.errors import Forbidden, Unauthenticated
from tests.control_builders import T0, database, engine, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)


def test_tokens_list_by_tenant_and_page(database):
    w = world(database)
    acme, globex = w.tenant("acme"), w.tenant("globex")
    for _ in range(3):
        w.token("acme", "viewer")
    mine = w.control.tenancy.list_tokens(acme, PageRequest(2))
    rest = w.control.tenancy.list_tokens(acme, PageRequest(2, mine.next_cursor))
    assert mine.total == 4 and len(mine.items + rest.items) == 4 and rest.next_cursor is None
    assert {t.tenant_id for t in mine.items + rest.items} == {acme.tenant_id}
    assert w.control.tenancy.list_tokens(globex).total == 1


def test_revoke_and_expiry_round_trip(database):
    w = world(database)
    acme = w.tenant("acme")
    short, secret = w.control.tenancy.create_token("acme", "viewer", expires_at=T0 + timedelta(hours=1))
    other, other_secret = w.control.tenancy.create_token("acme", "viewer")
    epoch = w.control.tenancy.auth_epoch()
    w.control.tenancy.revoke_token(acme, other.id)
    assert w.control.tenancy.auth_epoch() > epoch
    listed = {t.id: t for t in w.control.tenancy.list_tokens(acme).items}
    assert listed[short.id].expires_at == T0 + timedelta(hours=1) and listed[short.id].revoked_at is None
    assert listed[other.id].revoked_at == T0
    with pytest.raises(Unauthenticated):
        w.control.tenancy.authenticate(other_secret)
    assert w.control.tenancy.authenticate(secret).token_id == short.id
    w.clock.advance(timedelta(hours=1))
    with pytest.raises(Unauthenticated):
        w.control.tenancy.authenticate(secret)


def test_suspension_round_trips_and_bumps_the_epoch(database):
    w = world(database)
    acme = w.tenant("acme")
    epoch = w.control.tenancy.auth_epoch()
    suspended = w.control.tenancy.suspend_tenant("acme")
    assert suspended.suspended_at == T0 and w.control.tenancy.auth_epoch() > epoch
    again = w.control.tenancy.authenticate(w.control.tenancy.create_token("acme", "tenant-admin")[1])
    with pytest.raises(Forbidden):
        w.control.reservations.reserve(again, ReservationRequest("H100", 8, 1))
    assert w.control.tenancy.get_tenant(acme, acme.tenant_id).suspended_at == T0
    assert w.control.tenancy.resume_tenant(acme.tenant_id).suspended_at is None
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))


def test_audit_entries_round_trip_filtered_and_in_order(database):
    w = world(database)
    acme = w.tenant("acme")
    w.clock.advance(timedelta(minutes=5))
    w.tenant("globex")
    op = w.operator()
    w.control.tenancy.set_quota(op, acme.tenant_id, "H100", 8)
    every = w.control.audit.list_entries(op, PageRequest(500)).items
    assert [e.action for e in every] == [
        "tenant.create",
        "token.create",
        "tenant.create",
        "token.create",
        "token.create",
        "quota.set",
    ]
    assert [int(e.id) for e in every] == sorted(int(e.id) for e in every)
    quota = every[-1]
    assert (quota.actor, quota.tenant_id, quota.target) == (
        op.token_id,
        acme.tenant_id,
        f"{acme.tenant_id}/H100",
    )
    assert quota.details == {"model": "H100", "project_id": None, "gpus": 8, "previous_gpus": 512}
    assert every[0].at == T0 and every[2].at == T0 + timedelta(minutes=5)
    assert [e.action for e in w.control.audit.list_entries(acme, PageRequest(500)).items] == [
        "tenant.create",
        "token.create",
        "quota.set",
    ]
    late = w.control.audit.list_entries(op, since=T0 + timedelta(minutes=5), action="tenant.create")
    assert late.total == 1 and late.items[0].details["name"] == "globex"


def test_the_store_appends_an_entry_only_with_its_commit(database):
    w = world(database)
    op = w.operator()
    entry = AuditEntry(T0, Actor("tok_x"), "tenant.suspend", "ten_x", None, {"name": "x"})
    with w.control.deps.uow() as uow:
        uow.add_audit(entry)  # no commit: rolled back
    assert w.control.audit.list_entries(op, action="tenant.suspend").total == 0
    with w.control.deps.uow() as uow:
        uow.add_audit(entry)
        uow.commit()
    (got,) = w.control.audit.list_entries(op, action="tenant.suspend").items
    assert (got.actor, got.target, got.details, got.at) == ("tok_x", "ten_x", {"name": "x"}, T0)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_rewrite_the_audit_log(engine, statement):
    w = world(engine)
    w.tenant("acme")
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(statement))
    assert w.control.audit.list_entries(w.operator()).total >= 2
