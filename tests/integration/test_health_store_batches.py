# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""The health store's batch reads and writes on every database (memory, SQLite, PostgreSQL): a fleet's
records are created in one write, read by name in one read, and counted; the spares of a fleet are
chosen from one read of the nodes held, skipping nodes booked later as well as now."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from neocloud.control.app.views import ReservationRequest
from neocloud.health.app.deps import SpareSettings
from neocloud.health.app.spares import designate
from neocloud.health.domain.lifecycle import NodeHealth, NodeState
from neocloud.kernel.ids import NodeId
from tests.control_builders import T0, database  # noqa: F401  (fixture)
from tests.health_builders import health_world


def test_add_new_get_many_and_count_over_a_whole_fleet(database: str) -> None:
    w, health = health_world(database)
    store = health._d.store
    nodes = [n.id for n in w.control.nodes.nodes()]
    assert store.count() == len(nodes) > 0  # sync created every record
    assert store.add_new(NodeHealth.new(n, T0) for n in nodes) == 0  # existing records are kept
    extra = [NodeHealth.new(NodeId(f"zz{i:04d}"), T0) for i in range(1_200)]  # more than one chunk
    assert store.add_new(extra) == 1_200
    assert store.count() == len(nodes) + 1_200
    got = store.get_many([*nodes[:3], NodeId("zz0007"), NodeId("zz1199"), NodeId("nope")])
    assert sorted(got) == sorted([*nodes[:3], "zz0007", "zz1199"])
    assert got[NodeId("zz0007")] == extra[7] and got[NodeId("zz0007")].state is NodeState.IN_SERVICE
    assert store.get_many([]) == {}


def test_spares_skip_nodes_booked_later_and_come_from_the_free_ones(database: str) -> None:
    w, health = health_world(database)  # no spares yet
    acme = w.tenant("acme")
    later = T0 + timedelta(days=2)
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 72, 24, later, "whole-nvl72"))
    held = set(rsv.nodes)
    assert health._d.control.held_nodes(T0) == held
    assert health._d.control.held_nodes(later + timedelta(days=2)) == set()
    deps = replace(health._d, settings=replace(health._d.settings, spares=SpareSettings(nvl72_trays=2)))
    designate(deps, w.control.nodes.nodes(), T0)
    spares = {h.node for h in deps.store.all() if h.spare}
    assert len(spares) == 2 and not spares & held  # the booked rack keeps its trays for its tenant
