# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""The store contract: the same behaviours over the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from neocloud.control.app.views import InstanceRequest, PageRequest, ReservationRequest
from neocloud.kernel.errors import Conflict, NotFound, QuotaExceeded
from neocloud.kernel.money import round_half_even
from neocloud.kernel.products import Product
from tests.control_builders import T0, catalog_price, database, engine, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)


def test_reservation_round_trips_with_exact_nodes(database):
    w = world(database)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 4, shape="whole-nodes"))
    got = w.control.reservations.get_reservation(acme, r.id)
    assert got == r
    assert got.start == T0 and got.end == T0 + timedelta(hours=4)
    assert len(got.nodes) == 2 and got.state == "scheduled"
    booked = w.control.allocations.bookings(acme, r.id)
    assert sorted((b.node_id, b.slot) for b in booked) == sorted((n, s) for n in got.nodes for s in range(8))


def test_full_fleet_then_conflict_names_the_reasons(database):
    w = world(database)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 32, 2))
    with pytest.raises(Conflict) as err:
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    assert err.value.details["reasons"]


def test_back_to_back_reservations_share_gpus_without_overlap(database):
    w = world(database)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 32, 2))
    later = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 32, 2, start=T0 + timedelta(hours=2))
    )
    assert later.start == T0 + timedelta(hours=2)


def test_quote_finds_the_earliest_start_after_bookings_end(database):
    w = world(database)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 24, 3))
    q = w.control.reservations.quote(acme, ReservationRequest("H100", 16, 1))
    assert q.feasible and q.start == T0 + timedelta(hours=3)


def test_idempotency_key_returns_the_same_reservation(database):
    w = world(database)
    acme = w.tenant("acme")
    a = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1), idempotency_key="k1")
    b = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1), idempotency_key="k1")
    assert a.id == b.id
    assert w.control.reservations.list_reservations(acme).total == 1


def test_other_tenant_id_is_not_found(database):
    w = world(database)
    acme, globex = w.tenant("acme"), w.tenant("globex")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    with pytest.raises(NotFound):
        w.control.reservations.get_reservation(globex, r.id)
    assert w.control.reservations.list_reservations(globex).total == 0


def test_quota_exceeded_names_limit_in_use_and_asked(database):
    w = world(database)
    acme = w.tenant("acme")
    op = w.operator()
    w.control.tenancy.set_quota(op, acme.tenant_id, "H100", 16)
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    with pytest.raises(QuotaExceeded) as err:
        w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1))
    assert err.value.details == {"model": "H100", "limit": 16, "in_use": 8, "asked": 16, "scope": "tenant"}


def test_cancel_frees_the_gpus(database):
    w = world(database)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 32, 2, start=T0 + timedelta(hours=1)))
    assert w.control.reservations.cancel_reservation(acme, r.id).state == "cancelled"
    assert (
        w.control.reservations.reserve(
            acme, ReservationRequest("H100", 32, 2, start=T0 + timedelta(hours=1))
        ).state
        == "scheduled"
    )


def test_extend_keeps_the_same_gpus_and_reprices(database):
    """On SQLite too (hardening #2: extend priced inside its BEGIN IMMEDIATE transaction, the catalog
    price book then waited on that same write lock, and the request failed with 'database is locked')."""
    w = world(database)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 2))
    longer = w.control.reservations.extend_reservation(acme, r.id, 2)
    assert longer.end == r.end + timedelta(hours=2) and longer.nodes == r.nodes
    unit = catalog_price(w, "H100", "reserved", 1)
    assert (Decimal(r.price_total), Decimal(longer.price_total)) == (
        round_half_even(unit * 8 * 2, "USD").decimal(),
        round_half_even(unit * 8 * 4, "USD").decimal(),
    )


def test_extend_conflicts_when_a_later_booking_holds_the_gpus(database):
    w = world(database)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 32, 2))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 32, 2, start=r.end))
    with pytest.raises(Conflict):
        w.control.reservations.extend_reservation(acme, r.id, 1)


def test_reconciler_runs_a_reservation_through_its_lifecycle(database):
    w = world(database)
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    w.control.reconcile()
    w.clock.advance(timedelta(hours=1))
    w.control.reconcile()
    states = [e.to_state for e in w.control.allocations.list_events(acme, r.id)]
    assert states == ["requested", "scheduled", "provisioning", "active", "ending", "ended"]


def test_on_demand_preempts_spot_after_the_notice(database):
    w = world(database, notice=timedelta(minutes=2))
    acme = w.tenant("acme")
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    od = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    noticed = w.control.instances.get_instance(acme, spot.id)
    assert noticed.notice_until == T0 + timedelta(minutes=2) and noticed.preempted_at == T0
    w.clock.advance(timedelta(minutes=2))
    w.control.reconcile()
    assert w.control.instances.get_instance(acme, spot.id).state == "preempted"
    assert w.control.instances.get_instance(acme, od.id).state == "active"


def test_pages_follow_the_cursor(database):
    w = world(database)
    acme = w.tenant("acme")
    ids = {w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1)).id for _ in range(5)}
    first = w.control.reservations.list_reservations(acme, PageRequest(limit=2))
    second = w.control.reservations.list_reservations(acme, PageRequest(limit=2, cursor=first.next_cursor))
    third = w.control.reservations.list_reservations(acme, PageRequest(limit=2, cursor=second.next_cursor))
    assert first.total == 5 and third.next_cursor is None
    assert {r.id for p in (first, second, third) for r in p.items} == ids


def test_stop_instance_ends_it_and_frees_its_nodes(database):
    w = world(database)
    acme = w.tenant("acme")
    i = w.control.instances.create_instance(acme, InstanceRequest("H100", 4))
    w.control.reconcile()
    w.clock.advance(timedelta(minutes=5))
    w.control.instances.stop_instance(acme, i.id)
    w.control.reconcile()
    assert w.control.instances.get_instance(acme, i.id).state == "ended"
    assert w.control.instances.create_instance(acme, InstanceRequest("H100", 4)).nodes


def test_tokens_authenticate_by_secret_only(database):
    w = world(database)
    w.control.tenancy.create_tenant("acme")
    view, secret = w.control.tenancy.create_token("acme", "viewer")
    assert secret.startswith("nc_") and view.prefix == secret[: len(view.prefix)]
    assert w.control.tenancy.authenticate(secret).role.value == "viewer"


def test_a_duplicate_name_is_a_conflict_even_past_the_check(database):
    from neocloud.control.domain.tenancy import Tenant

    w = world(database)
    w.control.tenancy.create_tenant("acme")
    with w.control.deps.uow() as uow, pytest.raises(Conflict):
        uow.add_tenant(Tenant("ten_other", "acme", T0))


def test_nodes_imported_later_are_used_by_the_next_admission(database):
    from tests.control_builders import h100_fleet

    w = world(database, h100_fleet(1))
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    with pytest.raises(Conflict):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    w.control.fleet.import_fleet(h100_fleet(2))  # h00 is known and skipped, h01 is new
    assert w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1)).nodes == ["h01"]


def test_allocations_overlapping_a_span_are_exactly_those_whose_window_meets_it(database):
    """The report query (SLA, /metrics, utilisation) against the same predicate over every allocation."""
    w = world(database)
    acme, beta = w.tenant("acme"), w.tenant("beta")
    early = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 8, 2, start=T0 + timedelta(hours=1))
    )
    late = w.control.reservations.reserve(
        beta, ReservationRequest("H100", 8, 2, start=T0 + timedelta(hours=10))
    )
    gone = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 8, 2, start=T0 + timedelta(hours=20))
    )
    w.control.reservations.cancel_reservation(acme, gone.id)
    running = w.control.instances.create_instance(beta, InstanceRequest("H100", 1))
    w.clock.advance(timedelta(hours=4))
    w.control.reconcile()
    w.control.instances.stop_instance(beta, running.id)  # ended at T0+4h, before its open end
    spans = [
        (T0, T0 + timedelta(hours=2)),
        (T0 + timedelta(hours=3), T0 + timedelta(hours=9)),
        (T0 + timedelta(hours=11), T0 + timedelta(hours=30)),
        (T0 + timedelta(hours=5), T0 + timedelta(hours=6)),
    ]
    with w.control.deps.uow(read_only=True) as uow:
        every, _ = uow.list_allocations(None, list(Product), None, None, 10_000)
        for lo, hi in spans:
            want = sorted(
                a.id for a in every if a.start < hi and ((u := a.ended_at or a.end) is None or u > lo)
            )
            assert [a.id for a in uow.allocations_overlapping(lo, hi)] == want, (lo, hi)
            assert [a.id for a in uow.allocations_overlapping(lo, hi, beta.tenant_id)] == [
                i for i in want if i in {late.id, running.id}
            ]
        assert {a.id for a in uow.allocations_overlapping(T0, T0 + timedelta(hours=2))} == {
            early.id,
            running.id,
        }
        assert [
            a.id for a in uow.allocations_overlapping(T0 + timedelta(hours=5), T0 + timedelta(hours=6))
        ] == []


def test_ending_or_extending_an_allocation_leaves_a_booking_cut_by_a_node_replacement_as_it_was(database):
    """A node swap ends the failed node's bookings at the swap; a later stop, notice or extension moves
    only the bookings that run to the allocation's end (the failed node stays free after its repair)."""
    from tests.control_builders import h100_fleet

    w = world(database, h100_fleet(4))
    acme = w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 10, shape="whole-nodes"))
    failed, kept = rsv.nodes
    swap, stop = rsv.start + timedelta(hours=1), rsv.start + timedelta(hours=5)
    with w.control.deps.uow() as uow:
        uow.end_node_bookings(rsv.id, failed, swap)
        uow.end_bookings(rsv.id, stop)
        uow.commit()
    with w.control.deps.uow(read_only=True) as uow:
        ends = {b.node_id: b.end for b in uow.bookings_of(rsv.id)}
    assert ends[failed] == swap and ends[kept] == stop
    later = rsv.start + timedelta(hours=12)
    with w.control.deps.uow() as uow:
        uow.end_bookings(rsv.id, later)  # an extension moves the running ones only
        uow.commit()
    with w.control.deps.uow(read_only=True) as uow:
        ends = {b.node_id: b.end for b in uow.bookings_of(rsv.id)}
    assert ends[failed] == swap and ends[kept] == later
