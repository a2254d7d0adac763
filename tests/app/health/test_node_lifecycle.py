"""Node lifecycle use cases over the control plane: cordon, drain, repair, return, maintenance."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neocloud.control.app.views import ReservationRequest
from neocloud.health.domain.lifecycle import NodeState
from neocloud.kernel.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId
from tests.control_builders import T0, h100_fleet
from tests.health_builders import health_world


def test_every_node_starts_in_service_and_ready() -> None:
    w, health = health_world()
    op = w.operator()
    assert {h.state for h in health.nodes(op)} == {NodeState.IN_SERVICE}
    assert w.control.nodes.node_states() == {}


def test_a_cordoned_node_takes_no_new_work_but_keeps_its_running_work() -> None:
    w, health = health_world(fleet_=h100_fleet(2, per_su=2))
    op, acme = w.operator(), w.tenant("acme")
    first = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 24, shape="whole-nodes"))
    held = first.nodes[0]
    other = next(n for n in ("h00", "h01") if n != held)
    health.cordon(op, NodeId(other), "flaky fan")
    assert w.control.nodes.node_states() == {other: "cordoned"}
    with pytest.raises(Conflict):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 24, shape="whole-nodes"))
    health.cordon(op, NodeId(held), "also flaky")
    assert w.control.nodes.holders(NodeId(held), T0)  # running work stays
    health.uncordon(op, NodeId(other), "fan replaced")
    again = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 24, shape="whole-nodes"))
    assert list(again.nodes) == [other]


def test_drain_moves_work_to_a_free_node_and_leaves_the_node_out_of_service() -> None:
    w, health = health_world(fleet_=h100_fleet(2, per_su=2))
    op, acme = w.operator(), w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 24, shape="whole-nodes"))
    w.control.reconcile()
    failed = rsv.nodes[0]
    h = health.drain(op, NodeId(failed), "bad DIMM")
    assert h.state is NodeState.OUT_OF_SERVICE
    assert w.control.nodes.holders(NodeId(failed), w.clock.now()) == []
    moved = w.control.reservations.get_reservation(acme, rsv.id)
    assert moved.nodes != rsv.nodes and failed not in moved.nodes


def test_repair_return_burn_in_then_back_in_service() -> None:
    w, health = health_world(fleet_=h100_fleet(2, per_su=2))
    op = w.operator()
    health.drain(op, NodeId("h00"), "triage")
    health.repair(op, NodeId("h00"), RecommendedAction.REPLACE, "swap the GPU board")
    assert health.node(op, NodeId("h00")).state is NodeState.IN_REPAIR
    h = health.return_(op, NodeId("h00"), "board swapped")
    assert h.state is NodeState.BURN_IN and h.until == w.clock.now() + timedelta(hours=24)
    w.clock.advance(timedelta(hours=23))
    health.tick()
    assert health.node(op, NodeId("h00")).state is NodeState.BURN_IN
    w.clock.advance(timedelta(hours=1))
    health.tick()
    assert health.node(op, NodeId("h00")).state is NodeState.IN_SERVICE
    assert w.control.nodes.node_states() == {}
    states = [e.to_state for e in health.events(op, NodeId("h00"))]
    assert states == [
        NodeState.DRAINING,
        NodeState.OUT_OF_SERVICE,
        NodeState.IN_REPAIR,
        NodeState.BURN_IN,
        NodeState.IN_SERVICE,
    ]


def test_commands_need_an_operator_a_reason_and_a_legal_move() -> None:
    w, health = health_world(fleet_=h100_fleet(2, per_su=2))
    acme, op = w.tenant("acme"), w.operator()
    with pytest.raises(Forbidden):
        health.cordon(acme, NodeId("h00"), "mine")
    with pytest.raises(InvalidInput):
        health.cordon(op, NodeId("h00"), "   ")
    with pytest.raises(InvalidTransition):
        health.repair(op, NodeId("h00"), RecommendedAction.REBOOT, "not drained")


def test_maintenance_window_blocks_admission_like_a_booking() -> None:
    w, health = health_world(fleet_=h100_fleet(1, per_su=1))
    op, acme = w.operator(), w.tenant("acme")
    start = T0 + timedelta(days=1)
    health.plan_maintenance(op, NodeId("h00"), start, start + timedelta(hours=4), "firmware", "mnt_1")
    with pytest.raises(Conflict):
        w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 48, shape="whole-nodes"))
    ok = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 24, shape="whole-nodes"))
    assert list(ok.nodes) == ["h00"]
    after = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 8, 24, start=start + timedelta(hours=4), shape="whole-nodes")
    )
    assert list(after.nodes) == ["h00"]
    with pytest.raises(Conflict):  # booked now: a window over it is refused
        health.plan_maintenance(
            op, NodeId("h00"), T0 + timedelta(hours=1), T0 + timedelta(hours=2), "x", "mnt_2"
        )


def test_an_unknown_node_is_not_found_without_syncing_the_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    w, health = health_world()

    def no_sync() -> None:
        raise AssertionError("an unknown name must not sync every node")

    monkeypatch.setattr(health, "sync", no_sync)
    with pytest.raises(NotFound):
        health.cordon(w.operator(), NodeId("no-such-node"), "typo")
