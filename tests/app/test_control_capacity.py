"""Reservations, instances and spot over the in-memory store: admission, quotes, idempotency, spot
preemption, the calendar."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.errors import Conflict, IdempotencyConflict, InvalidInput, QuotaExceeded
from tests.builders import fleet, node
from tests.control_builders import T0, catalog_price, memory_world

H = timedelta(hours=1)
NOTICE = timedelta(minutes=2)


@pytest.fixture
def w():
    return memory_world(notice=NOTICE)


def test_quote_prices_reserved_gpu_hours_at_the_catalogs_one_month_term(w):
    acme = w.tenant("acme")
    q = w.control.reservations.quote(acme, ReservationRequest("H100", 16, 10))
    unit = Decimal(q.unit_price)
    assert unit == catalog_price(w, "H100", "reserved", 1) < catalog_price(w, "H100", "on-demand")
    assert Decimal(q.price_total) == unit * 16 * 10 and q.currency == "USD"


def test_quote_says_infeasible_with_reasons_when_the_shape_never_fits(w):
    acme = w.tenant("acme")
    q = w.control.reservations.quote(acme, ReservationRequest("H100", 24, 1, shape="one-fabric"))
    assert not q.feasible and q.start is None and q.reasons


def test_reserve_confirms_exactly_the_asked_window(w):
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 3, start=T0 + 5 * H))
    assert (r.start, r.end, r.state) == (T0 + 5 * H, T0 + 8 * H, "scheduled")


def test_a_start_in_the_past_is_refused(w):
    acme = w.tenant("acme")
    with pytest.raises(InvalidInput) as err:
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 - H))
    assert "past" in err.value.message


@pytest.mark.parametrize(
    ("model", "gpus", "hours", "shape"),
    [("H999", 8, 1, "any"), ("H100", 0, 1, "any"), ("H100", 8, 0, "any"), ("H100", 8, 1, "blob")],
)
def test_bad_reservation_requests_are_invalid_input(w, model, gpus, hours, shape):
    acme = w.tenant("acme")
    with pytest.raises(InvalidInput):
        w.control.reservations.reserve(acme, ReservationRequest(model, gpus, hours, shape=shape))


def test_a_model_without_a_list_price_is_refused_by_name():
    w = memory_world(fleet(node("t", model="T4", gpus=4)))
    acme = w.tenant("acme")
    with pytest.raises(InvalidInput) as err:
        w.control.reservations.quote(acme, ReservationRequest("T4", 1, 1))
    assert err.value.details["model"] == "T4"


def test_same_key_same_reservation_and_no_second_booking(w):
    acme = w.tenant("acme")
    a = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1), idempotency_key="order-1")
    b = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1), idempotency_key="order-1")
    assert a == b and w.control.reservations.list_reservations(acme).total == 1


def test_same_key_from_another_tenant_is_independent(w):
    acme, globex = w.tenant("acme"), w.tenant("globex")
    a = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1), idempotency_key="k")
    b = w.control.reservations.reserve(globex, ReservationRequest("H100", 8, 1), idempotency_key="k")
    assert a.id != b.id


def test_same_key_with_a_different_request_is_an_idempotency_conflict(w):
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1), idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1), idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        w.control.instances.create_instance(acme, InstanceRequest("H100", 1), idempotency_key="k")


def test_same_key_same_instance(w):
    acme = w.tenant("acme")
    a = w.control.instances.create_instance(acme, InstanceRequest("H100", 2), idempotency_key="i")
    assert (
        w.control.instances.create_instance(acme, InstanceRequest("H100", 2), idempotency_key="i").id == a.id
    )


def test_project_quota_is_enforced_at_admission(w):
    admin = w.tenant("acme")
    project = w.control.tenancy.create_project(admin, admin.tenant_id, "ml")
    w.control.tenancy.set_quota(admin, admin.tenant_id, "H100", 8, project.id)
    w.control.reservations.reserve(admin, ReservationRequest("H100", 8, 1, project="ml"))
    with pytest.raises(QuotaExceeded) as err:
        w.control.reservations.reserve(admin, ReservationRequest("H100", 1, 1, project="ml"))
    assert err.value.details["scope"] == "project"
    assert w.control.reservations.reserve(admin, ReservationRequest("H100", 8, 1)).project_id != project.id


def test_quota_counts_only_overlapping_windows(w):
    acme = w.tenant("acme")
    w.control.tenancy.set_quota(w.operator(), acme.tenant_id, "H100", 8)
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    assert w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + H)).gpus == 8


def test_on_demand_runs_on_gpus_reserved_for_later_until_the_reservation_starts(w):
    """Capacity free now is sold now; the reservation still gets its GPUs at its start (docs/capacity.md).
    (Until the hardening issue this was a Conflict: a reservation for later blocked the fleet now.)"""
    acme = w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("H100", 32, 1, start=T0 + 10 * H))
    ins = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    assert ins.notice_until == T0 + 10 * H
    assert ins.preempted_at == T0 + 10 * H - timedelta(minutes=2)  # told the notice period before
    w.control.reconcile()
    w.clock.advance(10 * H)
    w.control.reconcile()
    w.control.reconcile()
    assert w.control.instances.get_instance(acme, ins.id).state == "preempted"
    assert w.control.reservations.get_reservation(acme, rsv.id).state == "active"


def test_spot_fills_idle_capacity_at_the_spot_price(w):
    acme = w.tenant("acme")
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    unit = catalog_price(w, "H100", "spot")
    assert len(spot.nodes) == 4 and Decimal(spot.price_per_hour) == unit * 32


def test_spot_never_preempts_spot(w):
    acme = w.tenant("acme")
    w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    with pytest.raises(Conflict):
        w.control.instances.create_instance(acme, InstanceRequest("H100", 1, spot=True))


def test_a_future_reservation_takes_back_spot_with_notice(w):
    acme = w.tenant("acme")
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 2, start=T0 + H))
    victim = w.control.instances.get_instance(acme, spot.id)
    # Spot runs until the reservation needs its GPUs and is told the notice period before, not now
    # (until the hardening issue: notice at once, GPUs back after NOTICE, idle until the start).
    assert victim.preempted_at == T0 + H - NOTICE and victim.notice_until == T0 + H
    assert r.start == T0 + H


def test_a_reservation_starting_before_the_notice_ends_cannot_preempt(w):
    acme = w.tenant("acme")
    w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    with pytest.raises(Conflict):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    q = w.control.reservations.quote(acme, ReservationRequest("H100", 8, 1))
    assert q.feasible and q.start == T0 + NOTICE


def test_only_the_spot_instances_in_the_way_are_preempted(w):
    acme = w.tenant("acme")
    spots = [
        w.control.instances.create_instance(acme, InstanceRequest("H100", 1, spot=True)) for _ in range(4)
    ]
    od = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    noticed = [s.id for s in spots if w.control.instances.get_instance(acme, s.id).notice_until]
    assert len(noticed) == 1 and od.nodes == w.control.instances.get_instance(acme, noticed[0]).nodes


def test_on_demand_preempting_spot_starts_when_the_notice_ends(w):
    acme = w.tenant("acme")
    w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    od = w.control.instances.create_instance(acme, InstanceRequest("H100", 2))
    gpus = w.control.allocations.bookings(acme, od.id)
    assert {b.start for b in gpus} == {T0 + NOTICE} and len(gpus) == 16


def test_calendar_shows_when_capacity_frees_up(w):
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 24, 2, shape="whole-nodes"))
    cal = w.control.reservations.calendar(acme, "H100", "whole-nodes", T0, T0 + 4 * H, 1)
    assert [(s.free_gpus, s.max_request_gpus) for s in cal.slots] == [(8, 8), (8, 8), (32, 32), (32, 32)]


def test_calendar_defaults_to_a_week_from_now(w):
    acme = w.tenant("acme")
    cal = w.control.reservations.calendar(acme, "H100", step_hours=24)
    assert cal.slots[0].start == T0 and cal.slots[-1].end == T0 + timedelta(days=7)


def test_cancel_twice_is_a_conflict(w):
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + H))
    w.control.reservations.cancel_reservation(acme, r.id)
    with pytest.raises(Conflict):
        w.control.reservations.cancel_reservation(acme, r.id)


def test_a_cancelled_reservation_cannot_be_extended(w):
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + H))
    w.control.reservations.cancel_reservation(acme, r.id)
    with pytest.raises(Conflict):
        w.control.reservations.extend_reservation(acme, r.id, 1)


def test_reservation_states_filter_the_list(w):
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + H))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    w.control.reservations.cancel_reservation(acme, r.id)
    assert [x.id for x in w.control.reservations.list_reservations(acme, state="cancelled").items] == [r.id]
    with pytest.raises(InvalidInput):
        w.control.reservations.list_reservations(acme, state="sleeping")


def test_extension_counts_against_the_quota(w):
    acme = w.tenant("acme")
    w.control.tenancy.set_quota(w.operator(), acme.tenant_id, "H100", 8)
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + 2 * H))
    assert w.control.reservations.extend_reservation(acme, r.id, 1).end == T0 + 2 * H
    with pytest.raises(QuotaExceeded):
        w.control.reservations.extend_reservation(acme, r.id, 1)
