"""Tenancy administration over the memory store: the audit trail, token listing, revocation and
expiry, tenant suspension, and the default quota of a new tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neocloud.control.app.views import InstanceRequest, PageRequest, ReservationRequest
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound, QuotaExceeded, Unauthenticated
from neocloud.kernel.gpus import CATALOG
from tests.control_builders import T0, memory_world


@pytest.fixture
def w():
    return memory_world()


def actions(w, who, **filters):
    return [e.action for e in w.control.audit.list_entries(who, PageRequest(500), **filters).items]


# ---- the audit trail -------------------------------------------------------------------------------


def test_every_administrative_change_leaves_one_entry_naming_who_did_it(w):
    op = w.operator()
    acme = w.tenant("acme")
    w.control.tenancy.create_project(acme, acme.tenant_id, "research")
    w.control.tenancy.set_quota(op, acme.tenant_id, "H100", 24)
    rsv = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 2))
    w.control.reservations.extend_reservation(acme, rsv.id, 1)
    w.control.reservations.cancel_reservation(acme, rsv.id)
    ins = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.control.instances.stop_instance(acme, ins.id)
    view, _ = w.control.tenancy.create_token("acme", "viewer", principal=acme)
    w.control.tenancy.revoke_token(acme, view.id)
    w.control.tenancy.suspend_tenant("acme", principal=op)
    w.control.tenancy.resume_tenant("acme", principal=op)
    assert actions(w, op) == [
        "token.create",  # the operator's own token (no tenant)
        "tenant.create",
        "token.create",  # acme and its admin token
        "project.create",
        "quota.set",
        "reservation.extend",
        "reservation.cancel",
        "instance.stop",
        "token.create",
        "token.revoke",
        "tenant.suspend",
        "tenant.resume",
    ]
    entries = w.control.audit.list_entries(op, PageRequest(500)).items
    stop = next(e for e in entries if e.action == "instance.stop")
    assert (stop.actor, stop.actor_tenant_id, stop.target, stop.tenant_id) == (
        acme.token_id,
        acme.tenant_id,
        ins.id,
        acme.tenant_id,
    )
    quota = next(e for e in entries if e.action == "quota.set")
    assert (
        quota.actor == op.token_id and quota.details["gpus"] == 24 and quota.details["previous_gpus"] == 512
    )
    assert next(e for e in entries if e.action == "tenant.create").actor == "server-side"


def test_a_refused_change_leaves_no_entry(w):
    op, acme = w.operator(), w.tenant("acme")
    before = actions(w, op)
    with pytest.raises(Forbidden):
        w.control.tenancy.set_quota(acme, acme.tenant_id, "H100", 8)
    with pytest.raises(NotFound):
        w.control.reservations.cancel_reservation(acme, "rsv_missing")
    assert actions(w, op) == before


def test_a_tenant_admin_reads_only_its_tenants_entries_and_never_another_tenants_id(w):
    op = w.operator()
    acme, globex = w.tenant("acme"), w.tenant("globex")
    w.control.tenancy.set_quota(op, globex.tenant_id, "H100", 8)
    w.control.tenancy.set_quota(op, acme.tenant_id, "H100", 16)
    seen = w.control.audit.list_entries(acme, PageRequest(500)).items
    assert seen and {e.tenant_id for e in seen} == {acme.tenant_id}
    text = repr(seen)
    assert globex.tenant_id not in text and "globex" not in text
    by_operator = next(e for e in seen if e.action == "quota.set")
    assert (by_operator.actor, by_operator.actor_tenant_id) == ("operator", None)


@pytest.mark.parametrize("role", ["tenant-member", "viewer"])
def test_members_and_tenant_viewers_may_not_read_the_audit_log(w, role):
    w.tenant("acme")
    with pytest.raises(Forbidden):
        w.control.audit.list_entries(w.token("acme", role))


def test_audit_filters_by_action_and_since_and_pages_in_order(w):
    op = w.operator()
    for name in ("a1", "a2", "a3"):
        w.control.tenancy.create_tenant(name)
    w.clock.advance(timedelta(hours=1))
    w.control.tenancy.create_tenant("late")
    assert actions(w, op, action="tenant.create") == ["tenant.create"] * 4
    late = w.control.audit.list_entries(op, since=T0 + timedelta(minutes=30)).items
    assert [e.details["name"] for e in late] == ["late"]
    first = w.control.audit.list_entries(op, PageRequest(2), action="tenant.create")
    second = w.control.audit.list_entries(op, PageRequest(2, first.next_cursor), action="tenant.create")
    assert [e.details["name"] for e in first.items + second.items] == ["a1", "a2", "a3", "late"]
    assert first.total == 4 and second.next_cursor is None
    with pytest.raises(InvalidInput):
        w.control.audit.list_entries(op, PageRequest(2, "not-a-position"))


def test_a_price_change_is_recorded_through_the_port_after_billing_commits(w):
    billing = w.services.billing
    assert billing is not None
    billing.set_price(model="H100", product="spot", price="1.99", currency="USD")
    (entry,) = w.control.audit.list_entries(w.operator(), action="price.set").items
    assert entry.target == "H100/spot" and entry.tenant_id is None and entry.details["price"] == "1.99"
    acme = w.tenant("acme")
    assert "price.set" not in actions(w, acme)


# ---- tokens ---------------------------------------------------------------------------------------


def test_operators_list_every_token_and_tenant_admins_their_tenants_without_secrets(w):
    acme, globex = w.tenant("acme"), w.tenant("globex")
    w.token("acme", "tenant-member")
    every = w.control.tenancy.list_tokens(w.operator(), PageRequest(500))
    mine = w.control.tenancy.list_tokens(acme, PageRequest(500))
    assert every.total == 4 and {t.tenant_id for t in every.items} == {None, acme.tenant_id, globex.tenant_id}
    assert mine.total == 2 and {t.tenant_id for t in mine.items} == {acme.tenant_id}
    assert all(t.prefix.startswith("nc_") and len(t.prefix) == 9 for t in every.items)
    with pytest.raises(Forbidden):
        w.control.tenancy.list_tokens(w.token("acme", "tenant-member"))


def test_a_revoked_token_no_longer_authenticates(w):
    acme = w.tenant("acme")
    view, secret = w.control.tenancy.create_token("acme", "tenant-member")
    revoked = w.control.tenancy.revoke_token(acme, view.id)
    assert revoked.revoked_at == T0
    with pytest.raises(Unauthenticated):
        w.control.tenancy.authenticate(secret)
    assert w.control.tenancy.revoke_token(acme, view.id) == revoked  # again: nothing changes
    assert actions(w, acme, action="token.revoke") == ["token.revoke"]


def test_a_tenant_admin_revokes_only_its_own_tenants_tokens(w):
    acme, _globex = w.tenant("acme"), w.tenant("globex")
    theirs, _ = w.control.tenancy.create_token("globex", "tenant-member")
    with pytest.raises(NotFound) as err:
        w.control.tenancy.revoke_token(acme, theirs.id)
    assert err.value.message == f"token {theirs.id!r} not found"
    with pytest.raises(Forbidden):
        w.control.tenancy.revoke_token(w.token("acme", "tenant-member"), theirs.id)


def test_revoking_bumps_the_auth_epoch(w):
    acme = w.tenant("acme")
    view, _ = w.control.tenancy.create_token("acme", "viewer")
    before = w.control.tenancy.auth_epoch()
    w.control.tenancy.revoke_token(acme, view.id)
    assert w.control.tenancy.auth_epoch() > before


def test_a_token_expires_at_its_expiry_like_an_unknown_one(w):
    w.tenant("acme")
    view, secret = w.control.tenancy.create_token("acme", "viewer", expires_at=T0 + timedelta(days=30))
    assert view.expires_at == T0 + timedelta(days=30)
    assert w.control.tenancy.authenticate(secret).expires_at == view.expires_at
    w.clock.advance(timedelta(days=30))
    with pytest.raises(Unauthenticated):
        w.control.tenancy.authenticate(secret)


def test_an_expiry_in_the_past_is_refused(w):
    w.tenant("acme")
    with pytest.raises(InvalidInput):
        w.control.tenancy.create_token("acme", "viewer", expires_at=T0)


# ---- suspension -----------------------------------------------------------------------------------


def test_a_suspended_tenant_reads_but_never_writes_and_its_allocations_keep_running(w):
    op = w.operator()
    acme = w.tenant("acme")
    ins = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.control.tenancy.suspend_tenant("acme", principal=op)
    acme = w.control.tenancy.authenticate(w.control.tenancy.create_token("acme", "tenant-admin")[1])
    assert acme.suspended
    for write in (
        lambda: w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1)),
        lambda: w.control.instances.stop_instance(acme, ins.id),
        lambda: w.control.tenancy.create_project(acme, acme.tenant_id, "more"),
        lambda: w.control.tenancy.create_token(None, "viewer", principal=acme),
    ):
        with pytest.raises(Forbidden) as err:
            write()
        assert "suspended" in err.value.message
    assert w.control.instances.get_instance(acme, ins.id).state == "scheduled"
    w.control.reconcile()
    assert w.control.instances.get_instance(acme, ins.id).state == "active"
    assert w.control.tenancy.get_tenant(acme, acme.tenant_id).suspended_at == T0
    w.control.tenancy.resume_tenant("acme", principal=op)
    resumed = w.control.tenancy.authenticate(w.control.tenancy.create_token("acme", "tenant-admin")[1])
    assert not resumed.suspended
    w.control.instances.stop_instance(resumed, ins.id)


def test_only_operators_suspend(w):
    acme = w.tenant("acme")
    with pytest.raises(Forbidden):
        w.control.tenancy.suspend_tenant(acme.tenant_id, principal=acme)
    with pytest.raises(NotFound):
        w.control.tenancy.suspend_tenant("nobody", principal=w.operator())


# ---- default quota --------------------------------------------------------------------------------


def test_a_new_tenant_gets_the_default_quota_of_every_model(w):
    acme = w.tenant("acme")
    quotas = w.control.tenancy.list_quotas(acme)
    assert {(q.model, q.gpus, q.project_id) for q in quotas} == {(m, 512, None) for m in CATALOG}


def test_the_default_quota_limits_admission():
    w = memory_world(default_quota_gpus=16)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1))
    with pytest.raises(QuotaExceeded):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))


def test_a_default_quota_per_model_and_none_for_no_quota():
    w = memory_world(default_quota_gpus={"h100": 64})
    assert [(q.model, q.gpus) for q in w.control.tenancy.list_quotas(w.tenant("acme"))] == [("H100", 64)]
    assert w.control.tenancy.list_quotas(memory_world(default_quota_gpus=None).tenant("acme")) == []
