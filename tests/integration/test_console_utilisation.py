"""Utilisation per day (control.utilisation, as the console's page reads it): committed GPU-hours from
allocations, healthy GPU-hours from each node's lifecycle history (the health context's events), and
finished days kept once computed. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from neocloud.bootstrap import MEMORY
from neocloud.control.app.views import InstanceRequest
from neocloud.kernel.errors import NotFound
from neocloud.kernel.ids import NodeId
from neocloud.web.reports import transitions_of
from tests.control_builders import SQL_KINDS, database_url, h100_fleet, migrated_engine
from tests.health_builders import health_world


@pytest.fixture(params=[MEMORY, *SQL_KINDS])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == MEMORY:
        yield MEMORY
        return
    for engine in migrated_engine(request.param, tmp_path):
        yield database_url(engine)


def test_healthy_follows_each_days_node_history_and_committed_the_allocations(db: str) -> None:
    w, health = health_world(db, h100_fleet(2))  # 2 nodes x 8 GPUs; T0 is 09:00 UTC
    op = w.operator()
    acme = w.tenant("acme")
    day0 = w.clock.now().replace(hour=0)
    w.clock.set(day0 + timedelta(hours=12))
    made = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.control.reconcile()
    w.control.reconcile()
    w.clock.set(day0 + timedelta(hours=18))
    w.control.instances.stop_instance(acme, made.id)
    w.control.reconcile()
    health.cordon(op, NodeId("h00"), "bad fan")  # at 18:00 on day 0, out of service from then on
    w.clock.set(day0 + timedelta(days=2, hours=6))
    moves = transitions_of(health.events(op, None, 1000))
    assert any(m.node == "h00" and m.was and not m.healthy for m in moves)

    got = w.control.utilisation.daily(op, 3, moves)  # day 0, day 1, day 2 (today)
    assert got.days[0] == day0
    assert got.healthy == [Decimal("16") * 24 - 8 * 6, Decimal(8 * 24), Decimal(8 * 24)]
    assert got.committed[0] == Decimal(8 * 6) and got.committed[1:] == [Decimal(0), Decimal(0)]
    assert got.healthy_gpus_now == 8 and got.total_gpus == 16

    again = w.control.utilisation.daily(op, 3, [])  # finished days are history: kept once computed
    assert again.healthy[:2] == got.healthy[:2]
    assert again.healthy[2] == Decimal(8 * 24)  # today is computed afresh: without history, as now

    without = w.control.utilisation.daily(op, 3)  # no history known: kept apart, every node as now
    assert without.healthy == [Decimal(8 * 24)] * 3

    with pytest.raises(NotFound):
        w.control.utilisation.daily(acme, 3, moves)
