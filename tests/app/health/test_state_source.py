"""Slurm-like sources report what is wrong now; a poll must neither lose a condition when it fails
part-way nor let one unknown node (a cluster's login node) hide the real failures of its batch."""

from __future__ import annotations

from datetime import datetime

import pytest

from neocloud.health.adapters.sources import StateSource
from neocloud.health.domain.lifecycle import NodeState
from neocloud.kernel.health import HealthObservation, RecommendedAction
from neocloud.kernel.ids import NodeId
from tests.health_builders import health_world, observation


class Down:
    """What `sinfo` would say: every node DOWN now, each time it is asked."""

    def __init__(self, nodes: list[str]) -> None:
        self.nodes = nodes

    def observe(self, now: datetime) -> list[HealthObservation]:
        return [observation(n, now, action=RecommendedAction.REBOOT) for n in self.nodes]


def test_a_node_the_fleet_does_not_have_does_not_hide_the_others_in_its_batch() -> None:
    w, health = health_world()
    source = StateSource(Down(["login01", "r0t03"]))
    outcomes = health.poll(source)
    assert [o.decision for o in outcomes] == ["quarantine"]
    assert health.node(w.operator(), NodeId("r0t03")).state is not NodeState.IN_SERVICE


def test_a_poll_that_fails_part_way_reports_its_conditions_again() -> None:
    w, health = health_world()
    source = StateSource(Down(["r0t04"]))
    real = health.observe_all

    def broken(observations: object) -> object:
        raise ConnectionError("database went away")

    health.observe_all = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(ConnectionError):
        health.poll(source)
    health.observe_all = real  # type: ignore[method-assign]
    assert health.node(w.operator(), NodeId("r0t04")).state is NodeState.IN_SERVICE
    outcomes = health.poll(source)  # the same condition, still open in Slurm, is acted on now
    assert [o.decision for o in outcomes] == ["quarantine"]
    assert health.poll(source) == []  # and then reported once only


def test_node_events_since_an_instant_leave_older_ones_out() -> None:
    """The utilisation chart reads only its window's lifecycle moves."""
    from datetime import timedelta

    w, health = health_world()
    op = w.operator()
    health.cordon(op, "r0t01", "old")
    w.clock.advance(timedelta(days=3))
    cut = w.clock.now()
    health.cordon(op, "r0t02", "new")
    assert {e.node for e in health.events(op, None, 1000)} >= {"r0t01", "r0t02"}
    assert {e.node for e in health.events(op, None, 1000, since=cut)} == {"r0t02"}
