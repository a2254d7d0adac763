"""Remediation through the service: the circuit breaker trips on a mass failure, automatic repairs,
health sources."""

from __future__ import annotations

from datetime import timedelta

from neocloud.health.adapters.sources import InjectorSource, QueueSource
from neocloud.health.domain.injector import FailureKind, FaultInjector
from neocloud.health.domain.lifecycle import NodeState
from neocloud.kernel.health import Component, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId
from tests.health_builders import health_world, nvl72_fleet, observation


def test_the_circuit_breaker_trips_on_a_mass_failure_and_the_fleet_is_not_drained() -> None:
    w, health = health_world(fleet_=nvl72_fleet(4))  # 72 trays: limit max(3, 5 % of 72 = 4) = 4
    op = w.operator()
    nodes = [h.node for h in health.nodes(op)]
    outcomes = [health.observe(observation(n, w.clock.now(), component=Component.GPU)) for n in nodes[:20]]
    decisions = [o.decision for o in outcomes]
    assert decisions[:4] == ["quarantine"] * 4
    assert set(decisions[4:]) == {"held-by-circuit-breaker"}
    out = [h for h in health.nodes(op) if h.state is not NodeState.IN_SERVICE]
    assert len(out) == 4
    recorded = health.observations(op, NodeId(nodes[10]))
    assert "circuit breaker open" in recorded[-1].outcome
    # the operator is never held back, and after the window automatic quarantine works again
    assert health.drain(op, nodes[30], "by hand").state is NodeState.OUT_OF_SERVICE
    w.clock.advance(timedelta(hours=1, minutes=1))
    assert health.observe(observation(nodes[40], w.clock.now())).decision == "quarantine"


def test_a_reboot_is_carried_out_and_burnt_in_without_an_operator() -> None:
    w, health = health_world()
    op = w.operator()
    o = observation(
        "r0t05", w.clock.now(), component=Component.SOFTWARE, action=RecommendedAction.REBOOT, code="43"
    )
    health.observe(o)
    health.tick()
    h = health.node(op, NodeId("r0t05"))
    assert h.state is NodeState.IN_REPAIR and h.until == w.clock.now() + timedelta(minutes=20)
    w.clock.advance(timedelta(minutes=20 + 15))
    health.tick()
    assert health.node(op, NodeId("r0t05")).state is NodeState.IN_SERVICE
    assert [e.actor for e in health.events(op, NodeId("r0t05"))] == ["auto"] * 5


def test_a_warning_makes_a_node_suspect_and_it_takes_no_new_work() -> None:
    w, health = health_world()
    health.observe(
        observation("r0t01", w.clock.now(), severity=Severity.WARNING, action=RecommendedAction.REBOOT)
    )
    assert w.control.nodes.node_states() == {"r0t01": "suspect"}


def test_sources_report_each_observation_once() -> None:
    w, health = health_world()
    kinds = (FailureKind("x", Component.GPU, 0.05, "79", RecommendedAction.REPLACE),)
    source = InjectorSource(FaultInjector(kinds, seed=2), w.control.nodes.nodes(), w.clock.now())
    w.clock.advance(timedelta(days=1))
    first = source.observe(w.clock.now())
    assert first and source.observe(w.clock.now()) == []
    w.clock.advance(timedelta(days=1))
    later = source.observe(w.clock.now())
    whole = FaultInjector(kinds, seed=2).failures(
        w.control.nodes.nodes(), w.clock.now() - timedelta(days=2), w.clock.now()
    )
    assert [o.at for o in first + later] == [f.at for f in whole]
    queue = QueueSource()
    queue.push([observation("r0t02", w.clock.now())])
    outcomes = health.poll(queue)
    assert [o.decision for o in outcomes] == ["quarantine"] and health.poll(queue) == []
