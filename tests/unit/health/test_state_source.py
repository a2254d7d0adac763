"""A source that answers what is wrong now reports each condition once, and again after it clears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from neocloud.health.adapters.sources import StateSource
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class Now:
    def __init__(self) -> None:
        self.unhealthy: dict[str, str] = {}

    def observe(self, now: datetime) -> list[HealthObservation]:
        return [
            HealthObservation(
                NodeId(n), Component.HOST, Severity.WARNING, code, RecommendedAction.NONE, now, "slurm"
            )
            for n, code in self.unhealthy.items()
        ]


def polled(source: StateSource, at: datetime) -> list[HealthObservation]:
    """What a poll that acts on the batch sees (HealthService.poll acknowledges after acting)."""
    seen = source.observe(at)
    source.acknowledge()
    return seen


def test_a_condition_is_reported_when_it_appears_changes_or_comes_back() -> None:
    inner = Now()
    source = StateSource(inner)
    inner.unhealthy = {"n1": "Kill task failed"}
    assert [o.node for o in polled(source, T0)] == ["n1"]
    assert polled(source, T0 + timedelta(seconds=5)) == []  # still drained: already reported
    inner.unhealthy = {"n1": "Not responding", "n2": "xid 79"}
    assert [(o.node, o.code) for o in polled(source, T0 + timedelta(seconds=10))] == [
        ("n1", "Not responding"),
        ("n2", "xid 79"),
    ]
    inner.unhealthy = {}
    assert polled(source, T0 + timedelta(seconds=15)) == []
    inner.unhealthy = {"n2": "xid 79"}
    assert [o.node for o in polled(source, T0 + timedelta(seconds=20))] == ["n2"]  # back after clearing


def test_a_condition_not_acknowledged_is_reported_again() -> None:
    inner = Now()
    source = StateSource(inner)
    inner.unhealthy = {"n1": "Kill task failed"}
    assert [o.node for o in source.observe(T0)] == ["n1"]  # the poll failed before acting on it
    assert [o.node for o in polled(source, T0 + timedelta(seconds=5))] == ["n1"]
    assert polled(source, T0 + timedelta(seconds=10)) == []
