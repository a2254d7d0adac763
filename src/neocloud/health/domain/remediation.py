"""The remediation policy: what an observation does to a node, as data (STYLE.md example 5).

`RemediationPolicy.decide(observation, node, recent, fleet_nodes)` returns one of
`Quarantine` (drain the node and repair it), `Suspect` (no new work, running work stays) or `Record`
(keep the observation, change nothing). The circuit breaker stops automatic quarantine when too many
nodes were quarantined automatically in a short window: a bad rule, or a shared cause such as a
firmware push, must not drain the fleet (NVIDIA NVSentinel's breaker, REFERENCE.md "SLAs and health").
The operator's own commands are never held back by the breaker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from neocloud.health.domain.lifecycle import DrainMode, NodeHealth, NodeState
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity


@dataclass(frozen=True, slots=True)
class Quarantine:
    reason: str
    action: RecommendedAction
    drain: DrainMode
    timeout: timedelta


@dataclass(frozen=True, slots=True)
class Suspect:
    reason: str


@dataclass(frozen=True, slots=True)
class Record:
    reason: str
    breaker_open: bool = False


Decision = Quarantine | Suspect | Record


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    """Open while at least `limit(fleet_nodes)` automatic quarantines happened in the last `window`.
    The default share is REFERENCE.md's spare capacity (≈5 %, NCSA Delta): more nodes failing at once
    than the fleet keeps spare for is more likely a bad rule than independent hardware faults."""

    window: timedelta = timedelta(hours=1)
    max_fraction: float = ref.SPARE_CAPACITY_SHARE
    min_nodes: int = 3

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or not 0 < self.max_fraction <= 1 or self.min_nodes < 1:
            raise InvalidInput("circuit breaker: need window > 0, 0 < max_fraction <= 1, min_nodes >= 1")

    def limit(self, fleet_nodes: int) -> int:
        return max(self.min_nodes, math.ceil(self.max_fraction * fleet_nodes))

    def is_open(self, recent: Sequence[datetime], now: datetime, fleet_nodes: int) -> bool:
        """`recent`: when the automatic quarantines happened (any order)."""
        since = now - self.window
        return sum(1 for t in recent if since < t <= now) >= self.limit(fleet_nodes)


QUARANTINE_ACTIONS: frozenset[RecommendedAction] = frozenset(
    {
        RecommendedAction.COMPONENT_RESET,
        RecommendedAction.REBOOT,
        RecommendedAction.REPLACE,
        RecommendedAction.CONTACT_SUPPORT,
    }
)
# Lost hardware: the work on it is already gone, so it moves now rather than being let to finish.
LOST_HARDWARE: frozenset[Component] = frozenset({Component.GPU, Component.HBM, Component.NVLINK})
ACCEPTING: frozenset[NodeState] = frozenset({NodeState.IN_SERVICE, NodeState.SUSPECT, NodeState.CORDONED})


@dataclass(frozen=True, slots=True)
class RemediationPolicy:
    """A critical observation recommending an action quarantines the node. It is drained now: a
    critical fault has interrupted the work on it already (Llama 3 counts every one as an interruption)
    — except for the components in `graceful`, whose work may finish for up to `graceful_timeout`
    (none by default; an operator's `drain --mode allow-completion` is the usual graceful drain).
    A warning recommending an action makes the node suspect. Everything else is recorded."""

    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    graceful: frozenset[Component] = frozenset()
    graceful_timeout: timedelta = timedelta(hours=1)

    def decide(
        self,
        obs: HealthObservation,
        node: NodeHealth,
        recent_quarantines: Sequence[datetime],
        fleet_nodes: int,
    ) -> Decision:
        what = f"{obs.component.value} {obs.code} ({obs.source})" + (
            f": {obs.message}" if obs.message else ""
        )
        if node.state not in ACCEPTING:
            return Record(f"{what}; node already {node.state.value}")
        if obs.action is RecommendedAction.NONE or obs.severity is Severity.INFO:
            return Record(what)
        if obs.severity is Severity.WARNING:
            return Suspect(what) if node.state is NodeState.IN_SERVICE else Record(what)
        if obs.action not in QUARANTINE_ACTIONS:
            return Record(what)
        if self.breaker.is_open(recent_quarantines, obs.at, fleet_nodes):
            return Record(f"{what}; circuit breaker open, not quarantined", breaker_open=True)
        now = obs.component not in self.graceful or obs.component in LOST_HARDWARE
        mode = DrainMode.NOW if now else DrainMode.ALLOW_COMPLETION
        return Quarantine(what, obs.action, mode, timedelta(0) if now else self.graceful_timeout)


def burn_in(action: RecommendedAction | None) -> timedelta:
    """How long a repaired node burns in before it returns (REFERENCE.md: DCGM level 3 after a reset or
    reboot; a 24-hour burn-in test after a part was replaced or came back from RMA)."""
    if action in (RecommendedAction.REPLACE, RecommendedAction.CONTACT_SUPPORT):
        return timedelta(seconds=ref.BURN_IN_SECONDS_AFTER_REPLACE)
    return timedelta(seconds=ref.BURN_IN_SECONDS_AFTER_RESET)
