"""The control plane's events as billing reads them: the generic feed (through the UnitOfWork) and the
one-query SQL feed agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neocloud.billing.adapters.control_events import ControlEventFeed
from neocloud.billing.adapters.sql.feed import SqlEventFeed
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.products import Product, State
from tests.control_builders import engine, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(120)


def busy(db):  # type: ignore[no-untyped-def]
    w = world(db)
    acme, globex = w.tenant("acme"), w.tenant("globex")
    instance = w.control.instances.create_instance(acme, InstanceRequest(model="H100", nodes=1))
    w.control.reservations.reserve(globex, ReservationRequest("H100", 8, 3))
    w.control.reconcile()
    w.clock.advance(timedelta(hours=2))
    w.control.instances.stop_instance(acme, instance.id)
    w.control.reconcile()
    return w, acme


def key(event):  # type: ignore[no-untyped-def]
    return (event.at, event.allocation_id, event.to_state.value)


def test_both_feeds_read_the_same_events(engine) -> None:  # noqa: F811
    w, _ = busy(engine)
    until = w.clock.now()
    generic = ControlEventFeed(w.control.deps.uow).lifecycle_events(until)
    direct = SqlEventFeed(engine).lifecycle_events(until)
    assert sorted(generic, key=key) == sorted(direct, key=key) and len(direct) > 4


def test_reserved_events_carry_the_window_and_whole_seconds(engine) -> None:  # noqa: F811
    w, _ = busy(engine)
    reserved = [
        e for e in SqlEventFeed(engine).lifecycle_events(w.clock.now()) if e.product is Product.RESERVED
    ]
    assert reserved and all(e.window_end - e.window_start == timedelta(hours=3) for e in reserved)
    assert all(e.at.microsecond == 0 for e in reserved)


def test_tenant_filter_keeps_one_tenants_events(engine) -> None:  # noqa: F811
    w, acme = busy(engine)
    events = SqlEventFeed(engine).lifecycle_events(w.clock.now(), acme.tenant_id)
    assert {e.tenant_id for e in events} == {acme.tenant_id}
    assert [e.to_state for e in events][-1] is State.ENDED
