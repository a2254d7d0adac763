"""Invariant: whatever tenants ask, in whatever order, no GPU is ever held by two allocations at one
instant (checked on the bookings the store records)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.errors import Conflict, QuotaExceeded
from tests.control_builders import T0, h100_fleet, memory_world

H = timedelta(hours=1)

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("reserve"),
            st.integers(1, 24),
            st.integers(0, 6),
            st.integers(1, 4),
            st.sampled_from(["any", "whole-nodes", "one-fabric"]),
        ),
        st.tuples(st.just("instance"), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("extend"), st.integers(0, 20), st.integers(1, 3)),
        st.tuples(st.just("stop"), st.integers(0, 20)),
        st.tuples(st.just("tick"), st.integers(1, 90)),
    ),
    max_size=25,
)


def held_overlaps(w) -> list:
    with w.control.deps.uow() as uow:
        bookings = [b for n in {x.model for x in uow.nodes()} for b in uow.bookings(n, T0 - H, None)]
    by_gpu = defaultdict(list)
    for b in bookings:
        by_gpu[(b.node_id, b.slot)].append(b)
    clashes = []
    for gpu, items in by_gpu.items():
        for a, b in itertools.combinations(items, 2):
            if a.overlaps(b.start, b.end) and b.overlaps(a.start, a.end):
                clashes.append((gpu, a.allocation_id, b.allocation_id))
    return clashes


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_no_gpu_is_ever_held_twice_at_one_instant(script):
    w = memory_world(h100_fleet(4), notice=timedelta(minutes=5))
    acme = w.tenant("acme")
    made: list[tuple[str, str]] = []
    for op in script:
        try:
            match op:
                case ("reserve", gpus, start_h, hours, shape):
                    gpus = gpus if shape == "any" else 8 * max(1, gpus // 8)
                    start = w.clock.now() + start_h * H
                    made.append(
                        (
                            "r",
                            w.control.reservations.reserve(
                                acme, ReservationRequest("H100", gpus, hours, start=start, shape=shape)
                            ).id,
                        )
                    )
                case ("instance", nodes, spot):
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
                    (
                        w.control.reservations.cancel_reservation
                        if kind == "r"
                        else w.control.instances.stop_instance
                    )(acme, ident)
                case ("extend", k, hours) if made and made[k % len(made)][0] == "r":
                    w.control.reservations.extend_reservation(acme, made[k % len(made)][1], hours)
                case ("stop", k) if made and made[k % len(made)][0] == "i":
                    w.control.instances.stop_instance(acme, made[k % len(made)][1])
                case ("tick", minutes):
                    w.clock.advance(timedelta(minutes=minutes))
                    w.control.reconcile()
                case _:
                    pass
        except (Conflict, QuotaExceeded):
            pass
        assert held_overlaps(w) == []
