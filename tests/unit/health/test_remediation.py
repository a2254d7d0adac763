"""The remediation policy and its circuit breaker, as pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from neocloud.health.domain.lifecycle import DrainMode, NodeHealth, NodeState
from neocloud.health.domain.remediation import CircuitBreaker, Quarantine, Record, RemediationPolicy, Suspect
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId

T0 = datetime(2026, 5, 1, tzinfo=UTC)
A = RecommendedAction


def obs(
    component: Component, action: RecommendedAction, severity: Severity = Severity.CRITICAL
) -> HealthObservation:
    return HealthObservation(NodeId("n1"), component, severity, "79", action, T0, "test")


def node(state: NodeState = NodeState.IN_SERVICE) -> NodeHealth:
    return NodeHealth(NodeId("n1"), state, T0 - timedelta(days=1))


POLICY = RemediationPolicy()


def test_lost_hardware_is_drained_now_with_the_recommended_action() -> None:
    d = POLICY.decide(obs(Component.HBM, A.CONTACT_SUPPORT), node(), [], 100)
    assert isinstance(d, Quarantine) and d.drain is DrainMode.NOW and d.action is A.CONTACT_SUPPORT


def test_a_critical_software_fault_drains_now_unless_the_operator_made_it_graceful() -> None:
    d = POLICY.decide(obs(Component.SOFTWARE, A.REBOOT), node(), [], 100)
    assert isinstance(d, Quarantine) and d.drain is DrainMode.NOW
    graceful = RemediationPolicy(graceful=frozenset({Component.SOFTWARE, Component.HBM}))
    d = graceful.decide(obs(Component.SOFTWARE, A.REBOOT), node(), [], 100)
    assert isinstance(d, Quarantine) and d.drain is DrainMode.ALLOW_COMPLETION
    assert d.timeout == graceful.graceful_timeout
    d = graceful.decide(obs(Component.HBM, A.REPLACE), node(), [], 100)  # lost hardware never waits
    assert isinstance(d, Quarantine) and d.drain is DrainMode.NOW


def test_warnings_make_a_node_suspect_and_info_or_no_action_is_only_recorded() -> None:
    assert isinstance(POLICY.decide(obs(Component.GPU, A.REBOOT, Severity.WARNING), node(), [], 100), Suspect)
    assert isinstance(POLICY.decide(obs(Component.GPU, A.REBOOT, Severity.INFO), node(), [], 100), Record)
    assert isinstance(POLICY.decide(obs(Component.GPU, A.NONE), node(), [], 100), Record)


def test_a_node_already_out_is_not_quarantined_again() -> None:
    for state in (NodeState.DRAINING, NodeState.OUT_OF_SERVICE, NodeState.IN_REPAIR, NodeState.RETIRED):
        assert isinstance(POLICY.decide(obs(Component.GPU, A.REPLACE), node(state), [], 100), Record)


def test_the_breaker_opens_at_its_limit_within_the_window_and_closes_after_it() -> None:
    breaker = CircuitBreaker(window=timedelta(hours=1), max_fraction=0.05, min_nodes=3)
    assert breaker.limit(20) == 3 and breaker.limit(1000) == 50
    recent = [T0 - timedelta(minutes=m) for m in (1, 2)]
    assert not breaker.is_open(recent, T0, 20)
    assert breaker.is_open([*recent, T0 - timedelta(minutes=59)], T0, 20)
    assert not breaker.is_open([*recent, T0 - timedelta(minutes=61)], T0, 20)
    d = RemediationPolicy(breaker).decide(obs(Component.GPU, A.REPLACE), node(), [T0] * 3, 20)
    assert isinstance(d, Record) and d.breaker_open
