"""The capacity rule (docs/capacity.md), both halves, over random sequences of requests:

1. capacity free now is sellable now: whenever some whole nodes have no booking for the next hour, an
   on-demand instance of that many nodes is admitted (a reservation for later never blocks it);
2. a reservation gets what it was promised at its start: its GPU bookings never change after admission
   (other than by its own extend), and once its start has passed it is provisioning or active on them.

And spot is told of a reservation only when that reservation's start is within the notice period.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.errors import Conflict, InvalidInput, QuotaExceeded
from tests.app.test_control_properties import held_overlaps
from tests.control_builders import T0, h100_fleet, memory_world

H = timedelta(hours=1)
NOTICE = timedelta(minutes=5)
NODES = 4

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("reserve"),
            st.integers(1, 32),
            st.integers(0, 400),
            st.integers(1, 48),
            st.sampled_from(["any", "whole-nodes", "one-fabric"]),
        ),
        st.tuples(st.just("instance"), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("extend"), st.integers(0, 30), st.integers(1, 24)),
        st.tuples(st.just("tick"), st.integers(1, 600)),
        st.tuples(st.just("sell-free-now")),
    ),
    max_size=30,
)


def _bookings(w, allocation_id: str) -> frozenset:
    with w.control.deps.uow() as uow:
        return frozenset((b.node_id, b.slot, b.start, b.end) for b in uow.bookings_of(allocation_id))


def free_whole_nodes_for_an_hour(w) -> int:
    """Nodes none of whose GPUs is booked at any instant of [now, now + 1 h)."""
    now = w.clock.now()
    with w.control.deps.uow() as uow:
        held = {b.node_id for b in uow.bookings("H100", now, now + H) if b.overlaps(now, now + H)}
        return sum(1 for n in uow.nodes("H100") if n.id not in held)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_free_capacity_is_sold_now_and_reservations_get_what_they_were_promised(script):
    w = memory_world(h100_fleet(NODES), notice=NOTICE)
    acme = w.tenant("acme")
    promised: dict[str, frozenset] = {}  # reservation id -> its bookings at admission (or last extend)
    made: list[tuple[str, str]] = []
    for op in script:
        match op:
            case ("reserve", gpus, start_h, hours, shape):
                gpus = gpus if shape == "any" else 8 * max(1, gpus // 8)
                try:
                    r = w.control.reservations.reserve(
                        acme,
                        ReservationRequest(
                            "H100", gpus, hours, start=w.clock.now() + start_h * H, shape=shape
                        ),
                    )
                except (Conflict, QuotaExceeded, InvalidInput):
                    continue
                promised[r.id] = _bookings(w, r.id)
                made.append(("r", r.id))
            case ("instance", nodes, spot):
                with contextlib.suppress(Conflict, QuotaExceeded):
                    made.append(
                        (
                            "i",
                            w.control.instances.create_instance(
                                acme, InstanceRequest("H100", nodes, spot=spot)
                            ).id,
                        )
                    )
            case ("cancel", k) if made:
                kind, ident = made[k % len(made)]
                try:
                    if kind == "r":
                        w.control.reservations.cancel_reservation(acme, ident)
                        promised.pop(ident, None)
                    else:
                        w.control.instances.stop_instance(acme, ident)
                except Conflict:
                    pass
            case ("extend", k, hours) if made and made[k % len(made)][0] == "r":
                ident = made[k % len(made)][1]
                try:
                    w.control.reservations.extend_reservation(acme, ident, hours)
                except (Conflict, QuotaExceeded, InvalidInput):
                    continue
                if ident in promised:
                    promised[ident] = _bookings(w, ident)
            case ("tick", minutes):
                w.clock.advance(timedelta(minutes=minutes))
                w.control.reconcile()
                w.control.reconcile()
            case ("sell-free-now",):
                free = free_whole_nodes_for_an_hour(w)
                if free:
                    # half 1: never a Conflict here, whatever is reserved for later
                    ins = w.control.instances.create_instance(acme, InstanceRequest("H100", free))
                    made.append(("i", ins.id))
            case _:
                pass
        assert held_overlaps(w) == []
        now = w.clock.now()
        for rid, bookings in promised.items():
            view = w.control.reservations.get_reservation(acme, rid)
            if view.state in ("cancelled", "ended", "ending"):
                continue
            assert _bookings(w, rid) == bookings, f"reservation {rid} lost GPUs it was promised"  # half 2
            if view.start <= now - timedelta(seconds=1) and op[0] == "tick":
                assert view.state in ("provisioning", "active"), (rid, view.state)
        # spot hears of a reservation only within the notice period of its start
        for kind, ident in made:
            if kind == "i":
                ins = w.control.instances.get_instance(acme, ident)
                if ins.notice_until is not None and ins.state not in ("preempted", "ended", "cancelled"):
                    assert ins.notice_until - ins.preempted_at <= NOTICE


def test_a_reservation_far_ahead_does_not_touch_spot_or_block_on_demand_now():
    """The reported attack: the whole fleet reserved for one hour far ahead."""
    w = memory_world(h100_fleet(NODES), notice=NOTICE)
    acme, mallory = w.tenant("acme"), w.tenant("mallory")
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 2, spot=True))
    far = w.clock.now() + timedelta(days=300)
    w.control.reservations.reserve(
        mallory, ReservationRequest("H100", NODES * 8, 1, start=far, shape="whole-nodes")
    )
    noticed = w.control.instances.get_instance(acme, spot.id)
    assert noticed.notice_until == far and noticed.preempted_at == far - NOTICE  # no notice now
    od = w.control.instances.create_instance(acme, InstanceRequest("H100", 2))  # the idle half sells now
    assert od.notice_until == far


def test_reservations_start_within_the_booking_horizon():
    w = memory_world(h100_fleet(NODES), notice=NOTICE)
    acme = w.tenant("acme")
    with pytest.raises(InvalidInput) as err:
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + timedelta(days=367)))
    assert "booking horizon" in err.value.message
    assert err.value.details["field"] == "start"


def test_a_reservation_that_does_not_fit_now_says_when_it_would():
    w = memory_world(h100_fleet(NODES), notice=NOTICE)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", NODES * 8, 2))
    with pytest.raises(Conflict) as err:
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    assert err.value.details["earliest_start"] == (T0 + 2 * H).isoformat()
    assert (T0 + 2 * H).isoformat() in err.value.message and err.value.details["reasons"]


def test_an_instance_that_does_not_fit_now_says_when_it_would():
    w = memory_world(h100_fleet(NODES), notice=NOTICE)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", NODES * 8, 3, shape="whole-nodes"))
    with pytest.raises(Conflict) as err:
        w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    assert err.value.details["earliest_start"] == (T0 + 3 * H).isoformat()


def test_a_request_that_never_fits_says_so():
    w = memory_world(h100_fleet(NODES), notice=NOTICE)
    acme = w.tenant("acme")
    with pytest.raises(Conflict) as err:
        w.control.reservations.reserve(
            acme, ReservationRequest("H100", NODES * 8 + 8, 1, shape="whole-nodes")
        )
    assert err.value.details["earliest_start"] is None
    assert "does not fit within the booking horizon" in err.value.message
