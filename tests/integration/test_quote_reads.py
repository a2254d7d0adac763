# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""A quote reads everything in one unit of work and answers as before: `bookings_yielding` is exactly
`bookings(model, start, None)` plus the live spot allocations among their owners, on every database,
and a quote's fit is the one `admission.earliest` finds after the same quota check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neocloud.control.app import admission
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.shapes import Shape
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import NodeId
from neocloud.kernel.products import Product
from tests.control_builders import T0, database, h100_fleet  # noqa: F401  (fixture)
from tests.health_builders import health_world

pytestmark = pytest.mark.timeout(120)


def _busy_world(database: str):
    """Reservations now and later, a spot and an on-demand instance, an ended spot instance, and a
    maintenance window: every kind of row the statement joins."""
    w, health = health_world(database, fleet_=h100_fleet(6, per_su=2))
    op, acme = w.operator(), w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 12, 2))
    w.control.reservations.reserve(acme, ReservationRequest("H100", 3, 1, start=T0 + timedelta(hours=3)))
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", spot=True))
    ended = w.control.instances.create_instance(acme, InstanceRequest("H100", spot=True))
    w.control.instances.stop_instance(acme, ended.id)
    w.control.instances.create_instance(acme, InstanceRequest("H100"))
    start = T0 + timedelta(days=1)
    health.plan_maintenance(op, NodeId("h05"), start, start + timedelta(hours=4), "firmware", "mnt_1")
    return w, acme, spot.id


def test_bookings_yielding_is_the_bookings_and_their_live_spot_owners(database: str) -> None:
    w, _, spot_id = _busy_world(database)
    for start, now in [(T0, T0), (T0 + timedelta(hours=2), T0), (T0 + timedelta(days=2), T0)]:
        with w.control.deps.uow(read_only=True) as uow:
            found, spot = uow.bookings_yielding("H100", start, now)
            expected = uow.bookings("H100", start, None)
            live_spot = {a.id for a in uow.live_allocations(None, "H100", now, None, product=Product.SPOT)}
        assert sorted(found, key=repr) == sorted(expected, key=repr)
        assert [b.allocation_id for b in found] == [b.allocation_id for b in expected]  # same order
        assert spot == {b.allocation_id for b in expected} & live_spot
    with w.control.deps.uow(read_only=True) as uow:
        found, spot = uow.bookings_yielding("H100", T0, T0)
    assert spot == {spot_id}  # not vacuous: the live spot instance is there, the stopped one is not
    assert any(b.allocation_id == "mnt_1" for b in found)  # and the maintenance window
    with w.control.deps.uow(read_only=True) as uow:
        assert uow.bookings_yielding("B200", T0, T0) == ([], set())


def test_a_quote_reads_in_one_unit_of_work_and_fits_where_admission_would(database: str) -> None:
    w, acme, _ = _busy_world(database)
    deps = w.control.deps
    opened: list[bool] = []
    real = deps.uow

    def counting(*, read_only: bool = False):
        opened.append(read_only)
        return real(read_only=read_only)

    object.__setattr__(deps, "uow", counting)
    try:
        for gpus, hours, shape in [(8, 4, "whole-nodes"), (20, 2, "any"), (48, 1, "any"), (1, 1, "any")]:
            opened.clear()
            quote = w.control.reservations.quote(acme, ReservationRequest("H100", gpus, hours, shape=shape))
            assert opened == [True]  # one read-only unit of work: quotas, fleet, bookings, node states
            fit = admission.earliest(
                deps, gpu_model("H100"), Shape.parse(shape), gpus, T0, timedelta(hours=hours), T0
            )
            assert (quote.start, quote.feasible, quote.reasons) == (
                fit.start,
                fit.start is not None,
                fit.reasons,
            )
    finally:
        object.__setattr__(deps, "uow", real)
