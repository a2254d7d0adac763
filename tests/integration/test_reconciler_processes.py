# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Two reconcilers in two processes at once make each lifecycle transition exactly once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from neocloud.control.adapters.ids import SecretIds
from neocloud.control.adapters.list_prices import ListPriceBook
from neocloud.control.adapters.provisioners import FakeProvisioner
from neocloud.control.adapters.sql.store import SqlStore
from neocloud.control.app.control import ControlPlane, Deps
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.infra.clock import ManualClock
from neocloud.infra.engine import make_engine
from neocloud.placement.engine import placer
from tests.control_builders import T0, engine, h100_fleet, world  # noqa: F401

pytestmark = pytest.mark.timeout(180)
PROCESSES = 2


def _reconciler(url: str, options: str | None, times: list, barrier, out) -> None:
    engine = make_engine(url, **({"connect_args": {"options": options}} if options else {}))
    clock = ManualClock(times[0])
    control = ControlPlane(Deps(SqlStore(engine), clock, FakeProvisioner(clock), ListPriceBook(), placer("default"), SecretIds()))
    done = []
    for at in times:
        clock.set(at)
        barrier.wait()
        for _ in range(3):
            done.append(control.reconcile(max_items=50).total)
    out.put(done)
    engine.dispose()


def test_two_reconciler_processes_make_each_transition_once(engine):
    w = world(SqlStore(engine), h100_fleet(16))
    acme = w.tenant("acme")
    for i in range(12):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1 + i % 3, start=T0 + timedelta(minutes=i)))
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 1, spot=True))
    w.control.instances.create_instance(acme, InstanceRequest("H100", 2))
    options = None
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            options = f"-csearch_path={conn.execute(text('SHOW search_path')).scalar_one()}"
    times = [T0 + timedelta(minutes=20), T0 + timedelta(hours=5)]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_reconciler, args=(url, options, times, barrier, out)) for _ in range(PROCESSES)]
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
