"""The node lifecycle: an explicit transition table, with an event and a reason for every move.

    in-service → suspect → draining → out-of-service (triage) → in-repair → burn-in → in-service
    plus cordoned (no new work, running work stays) and retired (never comes back).

Only `in-service` takes new work (`schedulable`). A node in service may be held back as a spare
(`spare`): it takes no new work from admission, only replacements for a failed node of its domain
(docs: CoreWeave's node lifecycle and NVIDIA NVSentinel, ../shared/REFERENCE.md "SLAs and health").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from neocloud.kernel.errors import InvalidInput, InvalidTransition
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId
from neocloud.kernel.periods import require_utc

REASON_MAX = 500


class NodeState(StrEnum):
    IN_SERVICE = "in-service"
    SUSPECT = "suspect"
    CORDONED = "cordoned"
    DRAINING = "draining"
    OUT_OF_SERVICE = "out-of-service"
    IN_REPAIR = "in-repair"
    BURN_IN = "burn-in"
    RETIRED = "retired"


S = NodeState
TRANSITIONS: dict[NodeState, frozenset[NodeState]] = {
    S.IN_SERVICE: frozenset({S.SUSPECT, S.CORDONED, S.DRAINING, S.OUT_OF_SERVICE, S.RETIRED}),
    S.SUSPECT: frozenset({S.IN_SERVICE, S.CORDONED, S.DRAINING, S.OUT_OF_SERVICE}),
    S.CORDONED: frozenset({S.IN_SERVICE, S.DRAINING, S.OUT_OF_SERVICE, S.RETIRED}),
    S.DRAINING: frozenset({S.OUT_OF_SERVICE, S.CORDONED, S.IN_SERVICE}),
    S.OUT_OF_SERVICE: frozenset({S.IN_REPAIR, S.BURN_IN, S.RETIRED}),
    S.IN_REPAIR: frozenset({S.BURN_IN, S.OUT_OF_SERVICE, S.RETIRED}),
    S.BURN_IN: frozenset({S.IN_SERVICE, S.OUT_OF_SERVICE}),
    S.RETIRED: frozenset(),
}

# The states in which a node holds no tenant work: it has been drained (or was never in use since).
EMPTY: frozenset[NodeState] = frozenset({S.OUT_OF_SERVICE, S.IN_REPAIR, S.BURN_IN, S.RETIRED})
# What the control plane is told: placement only uses 'ready' nodes (control.domain.calendar.READY).
READY = "ready"
SPARE = "spare"


class DrainMode(StrEnum):
    """NVSentinel's drain modes: move work off now, or let it finish (up to a deadline)."""

    NOW = "now"
    ALLOW_COMPLETION = "allow-completion"


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """Where one node is in its lifecycle. `until`: when the current timed step ends (the drain
    deadline, the end of a repair, the end of burn-in), None when it waits for someone. `action`: the
    repair under way or planned. `spare`: held back for replacements (only while in service)."""

    node: NodeId
    state: NodeState
    since: datetime
    reason: str = ""
    action: RecommendedAction | None = None
    until: datetime | None = None
    drain: DrainMode | None = None
    spare: bool = False
    failures: int = 0

    @staticmethod
    def new(node: NodeId, at: datetime) -> NodeHealth:
        return NodeHealth(node, S.IN_SERVICE, require_utc(at, "at"))

    @property
    def schedulable(self) -> bool:
        """Whether admission may place new work here."""
        return self.state is S.IN_SERVICE and not self.spare

    @property
    def control_state(self) -> str:
        """The node state the control plane's placement reads ('ready' is the only one it places on)."""
        if self.state is S.IN_SERVICE:
            return SPARE if self.spare else READY
        return self.state.value

    def to(
        self,
        state: NodeState,
        *,
        at: datetime,
        reason: str,
        actor: str = "",
        action: RecommendedAction | None = None,
        until: datetime | None = None,
        drain: DrainMode | None = None,
    ) -> tuple[NodeHealth, NodeEvent]:
        """Move to `state`; InvalidTransition when the table forbids it. `until`, `action` and `drain`
        describe the new step (they are cleared unless given; `action` is kept through repair and burn-in)."""
        require_utc(at, "at")
        if len(reason) > REASON_MAX:
            raise InvalidInput(f"a reason has at most {REASON_MAX} characters")
        if state not in TRANSITIONS[self.state]:
            raise InvalidTransition(
                f"node {self.node}: cannot go from {self.state.value} to {state.value}",
                details={
                    "node": self.node,
                    "from": self.state.value,
                    "to": state.value,
                    "allowed": sorted(s.value for s in TRANSITIONS[self.state]),
                },
            )
        keep_action = state in (S.IN_REPAIR, S.BURN_IN)
        moved = replace(
            self,
            state=state,
            since=at,
            reason=reason,
            action=action if action is not None else (self.action if keep_action else None),
            until=until,
            drain=drain,
            spare=self.spare if state is S.IN_SERVICE else False,
            failures=self.failures + (1 if state is S.OUT_OF_SERVICE else 0),
        )
        return moved, NodeEvent(self.node, self.state, state, at, reason, actor, moved.action)

    def as_spare(self, spare: bool) -> NodeHealth:
        if spare and self.state is not S.IN_SERVICE:
            raise InvalidInput(
                f"node {self.node} is {self.state.value}: only a node in service can be a spare"
            )
        return replace(self, spare=spare)


@dataclass(frozen=True, slots=True)
class NodeEvent:
    """One move of one node's lifecycle, append-only."""

    node: NodeId
    from_state: NodeState | None
    to_state: NodeState
    at: datetime
    reason: str
    actor: str = ""
    action: RecommendedAction | None = None


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """Planned downtime of one node over [start, end): admission treats it like a booking of all the
    node's GPUs."""

    id: str
    node: NodeId
    start: datetime
    end: datetime
    reason: str

    def __post_init__(self) -> None:
        require_utc(self.start, "start")
        require_utc(self.end, "end")
        if self.end <= self.start:
            raise InvalidInput("a maintenance window must end after it starts")
        if len(self.reason) > REASON_MAX:
            raise InvalidInput(f"a reason has at most {REASON_MAX} characters")
