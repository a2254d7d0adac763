"""Tenancy is enforced in the app layer: for every use case, another tenant's object answers NotFound
exactly like a missing one, and lists never show or count it."""

from __future__ import annotations

import pytest

from neocloud.control.app.views import InstanceRequest, PageRequest, ReservationRequest
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from tests.control_builders import memory_world


@pytest.fixture
def w():
    return memory_world()


@pytest.fixture
def two(w):
    """acme holds a reservation and an instance; globex is a second tenant."""
    acme, globex = w.tenant("acme"), w.tenant("globex")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 2))
    ins = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    return acme, globex, rsv, ins


OTHER_TENANT_CALLS = {
    "get_reservation": lambda c, p, r, i: c.reservations.get_reservation(p, r.id),
    "cancel_reservation": lambda c, p, r, i: c.reservations.cancel_reservation(p, r.id),
    "extend_reservation": lambda c, p, r, i: c.reservations.extend_reservation(p, r.id, 1),
    "get_instance": lambda c, p, r, i: c.instances.get_instance(p, i.id),
    "stop_instance": lambda c, p, r, i: c.instances.stop_instance(p, i.id),
    "list_events": lambda c, p, r, i: c.allocations.list_events(p, r.id),
    "bookings": lambda c, p, r, i: c.allocations.bookings(p, i.id),
    "get_tenant": lambda c, p, r, i: c.tenancy.get_tenant(p, r.tenant_id),
    "create_project": lambda c, p, r, i: c.tenancy.create_project(p, r.tenant_id, "sneaky"),
    "set_quota": lambda c, p, r, i: c.tenancy.set_quota(p, r.tenant_id, "H100", 0, r.project_id),
    "reserve_into_their_project": lambda c, p, r, i: c.reservations.reserve(
        p, ReservationRequest("H100", 1, 1, project=r.project_id)
    ),
}


@pytest.mark.parametrize("call", sorted(OTHER_TENANT_CALLS))
def test_another_tenants_object_is_not_found(w, two, call):
    _acme, globex, rsv, ins = two
    with pytest.raises(NotFound) as theirs:
        OTHER_TENANT_CALLS[call](w.control, globex, rsv, ins)
    assert "not found" in theirs.value.message


@pytest.mark.parametrize("what", ["reservation", "instance"])
def test_not_found_for_another_tenant_reads_exactly_like_a_missing_id(w, two, what):
    _acme, globex, rsv, ins = two
    get = (
        w.control.reservations.get_reservation if what == "reservation" else w.control.instances.get_instance
    )
    target = rsv.id if what == "reservation" else ins.id
    missing = target[:-1] + ("0" if target[-1] != "0" else "1")
    with pytest.raises(NotFound) as theirs:
        get(globex, target)
    with pytest.raises(NotFound) as absent:
        get(globex, missing)
    assert theirs.value.message == f"{what} {target!r} not found"
    assert absent.value.message == f"{what} {missing!r} not found"
    assert theirs.value.code == absent.value.code and theirs.value.details == absent.value.details == {}


def test_lists_neither_show_nor_count_other_tenants(w, two):
    _acme, globex, _, _ = two
    c = w.control
    assert (
        c.reservations.list_reservations(globex).total == 0 and c.instances.list_instances(globex).total == 0
    )
    assert [t.name for t in c.tenancy.list_tenants(globex).items] == ["globex"] and c.tenancy.list_tenants(
        globex
    ).total == 1
    assert {p.tenant_id for p in c.tenancy.list_projects(globex).items} == {globex.tenant_id}
    assert {q.tenant_id for q in c.tenancy.list_quotas(globex)} == {
        globex.tenant_id
    }  # its default quotas only


def test_nodes_a_tenant_sees_are_its_own_without_other_tenants_ids(w, two):
    acme, globex, rsv, ins = two
    w.control.instances.create_instance(globex, InstanceRequest("H100", 1))
    mine = w.control.fleet.list_nodes(acme)
    held = {a for n in mine.items for a in n.gpu_allocations if a}
    assert held <= {rsv.id, ins.id} and held
    assert all(n.id in set(rsv.nodes) | set(ins.nodes) for n in mine.items)


def test_operators_see_every_tenant_and_node(w, two):
    op = w.operator()
    assert w.control.tenancy.list_tenants(op).total == 2
    assert w.control.fleet.list_nodes(op).total == 4
    assert w.control.reservations.list_reservations(op).total == 1


def test_viewer_reads_but_cannot_reserve_or_stop(w, two):
    _acme, _, rsv, ins = two
    viewer = w.token("acme", "viewer")
    assert w.control.reservations.get_reservation(viewer, rsv.id).id == rsv.id
    with pytest.raises(Forbidden):
        w.control.reservations.reserve(viewer, ReservationRequest("H100", 1, 1))
    with pytest.raises(Forbidden):
        w.control.instances.stop_instance(viewer, ins.id)


def test_members_cannot_create_projects_admins_can(w):
    admin = w.tenant("acme")
    member = w.token("acme", "tenant-member")
    with pytest.raises(Forbidden):
        w.control.tenancy.create_project(member, admin.tenant_id, "ml")
    assert w.control.tenancy.create_project(admin, admin.tenant_id, "ml").name == "ml"


def test_tenant_quota_needs_an_operator(w):
    admin = w.tenant("acme")
    with pytest.raises(Forbidden):
        w.control.tenancy.set_quota(admin, admin.tenant_id, "H100", 8)


def test_tenant_admin_mints_member_tokens_of_its_own_tenant_only(w):
    admin = w.tenant("acme")
    w.tenant("globex")
    view, _ = w.control.tenancy.create_token("acme", "tenant-member", principal=admin)
    assert view.tenant_id == admin.tenant_id
    with pytest.raises(NotFound):
        w.control.tenancy.create_token("globex", "tenant-member", principal=admin)
    with pytest.raises(Forbidden):
        w.control.tenancy.create_token("acme", "tenant-admin", principal=admin)


def test_project_token_is_confined_to_its_project(w):
    admin = w.tenant("acme")
    w.control.tenancy.create_project(admin, admin.tenant_id, "ml")
    _, secret = w.control.tenancy.create_token("acme", "tenant-member", project="ml")
    scoped = w.control.tenancy.authenticate(secret)
    r = w.control.reservations.reserve(scoped, ReservationRequest("H100", 1, 1))
    assert r.project_id == scoped.project_id
    with pytest.raises(Forbidden):
        w.control.reservations.reserve(scoped, ReservationRequest("H100", 1, 1, project="default"))


def test_unknown_or_malformed_tokens_are_unauthenticated(w):
    with pytest.raises(Unauthenticated):
        w.control.tenancy.authenticate("nc_" + "x" * 43)
    with pytest.raises(Unauthenticated):
        w.control.tenancy.authenticate("Bearer something")


def test_operator_tokens_belong_to_no_tenant(w):
    w.control.tenancy.create_tenant("acme")
    with pytest.raises(InvalidInput):
        w.control.tenancy.create_token("acme", "operator")
    with pytest.raises(InvalidInput):
        w.control.tenancy.create_token(None, "tenant-member")


def test_duplicate_tenant_names_conflict(w):
    from neocloud.kernel.errors import Conflict

    w.control.tenancy.create_tenant("acme")
    with pytest.raises(Conflict):
        w.control.tenancy.create_tenant("acme")


def test_operator_reserving_must_name_the_project(w):
    acme = w.tenant("acme")
    op = w.operator()
    with pytest.raises(InvalidInput):
        w.control.reservations.reserve(op, ReservationRequest("H100", 1, 1))
    project = w.control.tenancy.list_projects(acme).items[0].id
    assert (
        w.control.reservations.reserve(op, ReservationRequest("H100", 1, 1, project=project)).tenant_id
        == acme.tenant_id
    )


def test_page_limit_and_cursor_are_validated(w):
    acme = w.tenant("acme")
    with pytest.raises(InvalidInput):
        w.control.reservations.list_reservations(acme, PageRequest(limit=501))
    with pytest.raises(InvalidInput):
        w.control.instances.list_instances(acme, PageRequest(cursor="x" * 201))


def test_the_owner_sees_the_events_of_its_allocation(w, two):
    acme, _, rsv, _ = two
    assert [e.to_state for e in w.control.allocations.list_events(acme, rsv.id)] == ["requested", "scheduled"]


def test_a_tenant_admin_token_without_a_tenant_is_its_own_tenants(w):
    admin = w.tenant("acme")
    w.tenant("globex")
    view, secret = w.control.tenancy.create_token(None, "viewer", principal=admin)
    minted = w.control.tenancy.authenticate(secret)
    assert view.tenant_id == minted.tenant_id == admin.tenant_id
    assert not minted.sees_everything
    assert [t.name for t in w.control.tenancy.list_tenants(minted).items] == ["acme"]


def test_a_project_limited_admin_mints_tokens_of_its_project_only(w):
    w.tenant("acme")
    op = w.operator()
    acme_id = w.control.tenancy.list_tenants(op).items[0].id
    ml = w.control.tenancy.create_project(op, acme_id, "ml")
    _, secret = w.control.tenancy.create_token("acme", "tenant-admin", project="ml")
    ml_admin = w.control.tenancy.authenticate(secret)
    view, _ = w.control.tenancy.create_token(None, "tenant-member", principal=ml_admin)
    assert (view.tenant_id, view.project_id) == (acme_id, ml.id)
    with pytest.raises(Forbidden):
        w.control.tenancy.create_token("acme", "tenant-member", project="default", principal=ml_admin)


def test_every_list_counts_total_from_its_page_on(w):
    """Hardening: nodes counted the whole list while every other list counted from the cursor on."""
    op = w.operator()
    first = w.control.fleet.list_nodes(op, PageRequest(limit=3))
    second = w.control.fleet.list_nodes(op, PageRequest(limit=3, cursor=first.next_cursor))
    assert (first.total, second.total) == (4, 1)
    for name in ("a", "b", "c", "d"):
        w.control.tenancy.create_tenant(name)
    tenants = w.control.tenancy.list_tenants(op, PageRequest(limit=3))
    rest = w.control.tenancy.list_tenants(op, PageRequest(limit=3, cursor=tenants.next_cursor))
    assert tenants.total == len(tenants.items) + rest.total
