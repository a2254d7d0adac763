# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Planned maintenance holds its node against admission on every database, on both of admission's read
paths: a bounded reservation's taken-GPU summary and an open-ended instance's bookings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import NodeId
from tests.control_builders import T0, database, h100_fleet  # noqa: F401  (fixture)
from tests.health_builders import health_world


def test_a_maintenance_window_blocks_a_bounded_reservation_over_it(database: str) -> None:
    w, health = health_world(database, fleet_=h100_fleet(2, per_su=2))
    op, acme = w.operator(), w.tenant("acme")
    start = T0 + timedelta(days=1)
    health.plan_maintenance(op, NodeId("h00"), start, start + timedelta(hours=4), "firmware", "mnt_1")
    over = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 48, shape="whole-nodes"))
    assert list(over.nodes) == ["h01"]  # the node under maintenance is not chosen
    with pytest.raises(Conflict):  # the other node is taken now, and h00 is held by the window
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 48, shape="whole-nodes"))
    before = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 24, shape="whole-nodes"))
    assert list(before.nodes) == ["h00"]  # ends when the window starts


def test_a_maintenance_window_under_way_blocks_an_open_ended_instance(database: str) -> None:
    w, health = health_world(database, fleet_=h100_fleet(1, per_su=1))
    op, acme = w.operator(), w.tenant("acme")
    start = T0
    health.plan_maintenance(op, NodeId("h00"), start, start + timedelta(hours=4), "firmware", "mnt_1")
    with pytest.raises(Conflict):
        w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
