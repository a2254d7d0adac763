# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""The store contract for `booked` (the bookings a decision reads, as columns): over the memory store,
SQLite and PostgreSQL, the rows that hold a GPU over a window are exactly the bookings `bookings()`
returns for it, maintenance windows included; and a decision that preempts spot reads them right."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.booked import BookedGpus, end_micros, micros
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.kernel.ids import NodeId
from tests.control_builders import T0, database, engine, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)


def held_rows(b: BookedGpus, start: int, end: int | None) -> Counter[tuple[str, int, int, int, str]]:
    held = b.holding(start, end)
    cols = (b.node[held], b.slot[held], b.start[held], b.end[held], b.owner[held])
    return Counter(
        (b.node_ids[n], s, t, e, b.owners[o])
        for n, s, t, e, o in zip(*(c.tolist() for c in cols), strict=True)
    )


def test_booked_holds_over_a_window_exactly_what_bookings_returns(database):
    w = world(database)
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 2))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 3, start=T0 + timedelta(hours=4)))
    ended = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.control.instances.create_instance(acme, InstanceRequest("H100", 1, spot=True))
    w.clock.advance(timedelta(minutes=30))
    w.control.instances.stop_instance(acme, ended.id)
    with w.control.deps.uow() as uow:
        uow.add_maintenance(
            NodeMaintenance("mnt_1", NodeId("h03"), T0 + timedelta(hours=1), T0 + timedelta(hours=5))
        )
        uow.commit()
    windows = [(T0, None), (T0, T0 + timedelta(hours=1)), (T0 + timedelta(hours=3), T0 + timedelta(hours=6))]
    with w.control.deps.uow(read_only=True) as uow:
        for start, end in windows:
            want = Counter(
                (b.node_id, b.slot, micros(b.start), end_micros(b.end), b.allocation_id)
                for b in uow.bookings("H100", start, end)
            )
            got = held_rows(
                uow.booked("H100", start, end), micros(start), None if end is None else micros(end)
            )
            assert got == want
            assert any(owner == "mnt_1" for *_, owner in got) == (
                end is None or end > T0 + timedelta(hours=1)
            )


def test_an_on_demand_instance_takes_back_the_spot_it_needs_and_only_that(database):
    w = world(database)
    acme = w.tenant("acme")
    spots = [
        w.control.instances.create_instance(acme, InstanceRequest("H100", 1, spot=True)) for _ in range(4)
    ]
    w.clock.advance(timedelta(minutes=5))
    placed = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    noticed = [s.id for s in spots if w.control.instances.get_instance(acme, s.id).notice_until is not None]
    assert len(noticed) == 1  # the fleet is full of spot: one node's worth comes back, no more
    assert (
        w.control.instances.get_instance(acme, placed.id).nodes
        == w.control.instances.get_instance(acme, noticed[0]).nodes
    )
