# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Two reconcilers in two processes at once make each lifecycle transition exactly once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from neocloud.bootstrap import Settings, build_services
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.infra.clock import ManualClock
from tests.control_builders import T0, database_url, engine, h100_fleet, world  # noqa: F401

pytestmark = pytest.mark.timeout(180)
PROCESSES = 2


def _reconciler(url: str, times: list, barrier, out) -> None:
    clock = ManualClock(times[0])
    services = build_services(Settings(database_url=url), clock=clock)
    done = []
    for at in times:
        clock.set(at)
        barrier.wait()
        for _ in range(3):
            done.append(services.control.reconcile(max_items=50).total)
    out.put(done)
    services.close()


def test_two_reconciler_processes_make_each_transition_once(engine):
    w = world(engine, h100_fleet(16))
    acme = w.tenant("acme")
    for i in range(12):
        w.control.reservations.reserve(
            acme, ReservationRequest("H100", 8, 1 + i % 3, start=T0 + timedelta(minutes=i))
        )
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 1, spot=True))
    w.control.instances.create_instance(acme, InstanceRequest("H100", 2))
    url = database_url(engine)
    times = [T0 + timedelta(minutes=20), T0 + timedelta(hours=5)]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_reconciler, args=(url, times, barrier, out)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT allocation_id, to_state FROM allocation_events")).all()
        states = dict(conn.execute(text("SELECT id, state FROM allocations")).all())
    twice = [key for key, n in Counter((a, s) for a, s in rows).items() if n > 1]
    assert twice == []
    assert sum(sum(r) for r in results) == len(rows) - 2 * len(states)  # every move after requested/scheduled
    assert Counter(states.values()) == Counter({"ended": 12, "active": 2}), states
    assert states[spot.id] == "active"
