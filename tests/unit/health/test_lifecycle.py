"""The node lifecycle's transition table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from neocloud.health.domain.lifecycle import (
    READY,
    TRANSITIONS,
    MaintenanceWindow,
    NodeHealth,
    NodeState,
)
from neocloud.kernel.errors import InvalidInput, InvalidTransition
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId

T0 = datetime(2026, 5, 1, tzinfo=UTC)
S = NodeState


def fresh() -> NodeHealth:
    return NodeHealth.new(NodeId("n1"), T0)


def test_the_repair_loop_goes_round_and_back_to_service() -> None:
    h = fresh()
    path = [S.SUSPECT, S.DRAINING, S.OUT_OF_SERVICE, S.IN_REPAIR, S.BURN_IN, S.IN_SERVICE]
    for i, state in enumerate(path):
        h, event = h.to(state, at=T0 + timedelta(minutes=i), reason=f"step {i}")
        assert (event.to_state, h.state, h.since) == (state, state, T0 + timedelta(minutes=i))
    assert h.failures == 1


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.IN_SERVICE, S.IN_REPAIR),
        (S.IN_SERVICE, S.BURN_IN),
        (S.CORDONED, S.BURN_IN),
        (S.OUT_OF_SERVICE, S.IN_SERVICE),
        (S.IN_REPAIR, S.IN_SERVICE),
        (S.RETIRED, S.IN_SERVICE),
        (S.DRAINING, S.IN_REPAIR),
    ],
)
def test_shortcuts_past_triage_repair_or_burn_in_are_refused(start: NodeState, target: NodeState) -> None:
    h = NodeHealth(NodeId("n1"), start, T0)
    with pytest.raises(InvalidTransition) as err:
        h.to(target, at=T0, reason="skip")
    assert err.value.details["from"] == start.value


def test_only_in_service_takes_new_work_and_only_in_service_is_ready() -> None:
    for state in S:
        h = NodeHealth(NodeId("n1"), state, T0)
        assert h.schedulable is (state is S.IN_SERVICE)
        assert (h.control_state == READY) is (state is S.IN_SERVICE)


def test_a_spare_is_in_service_but_takes_no_new_work_and_stops_being_spare_when_it_leaves() -> None:
    spare = fresh().as_spare(True)
    assert spare.state is S.IN_SERVICE and not spare.schedulable and spare.control_state == "spare"
    cordoned, _ = spare.to(S.CORDONED, at=T0, reason="x")
    assert not cordoned.spare
    with pytest.raises(InvalidInput):
        cordoned.as_spare(True)


def test_repair_action_is_kept_through_repair_and_burn_in_then_cleared() -> None:
    h, _ = fresh().to(S.OUT_OF_SERVICE, at=T0, reason="hbm", action=RecommendedAction.CONTACT_SUPPORT)
    h, _ = h.to(S.IN_REPAIR, at=T0, reason="rma")
    h, _ = h.to(S.BURN_IN, at=T0, reason="back")
    assert h.action is RecommendedAction.CONTACT_SUPPORT
    h, _ = h.to(S.IN_SERVICE, at=T0, reason="ok")
    assert h.action is None


def test_retired_is_final_and_every_state_is_in_the_table() -> None:
    assert TRANSITIONS[S.RETIRED] == frozenset()
    assert set(TRANSITIONS) == set(S)
    assert all(S.RETIRED in TRANSITIONS[s] or s in (S.RETIRED, S.SUSPECT, S.DRAINING, S.BURN_IN) for s in S)


def test_times_must_be_utc_reasons_bounded_windows_positive() -> None:
    with pytest.raises(InvalidInput):
        fresh().to(S.CORDONED, at=datetime(2026, 5, 1), reason="naive")
    with pytest.raises(InvalidInput):
        fresh().to(S.CORDONED, at=T0, reason="x" * 501)
    with pytest.raises(InvalidInput):
        MaintenanceWindow("m", NodeId("n1"), T0, T0, "empty")
