"""The node lifecycle's use cases: reads, operator commands and observations from health sources (the
timed steps that `tick` moves on, and the mechanics every move shares, are `lifecycle.Lifecycle`).

Each use case loads the node's lifecycle, decides in the domain (transition table, remediation policy),
saves (compare-and-set on the node's record), then tells the control plane what placement may use
and moves the tenant's work (`spares.Evacuation`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.tenancy import Principal
from neocloud.health.app.deps import HealthDeps, HealthSettings
from neocloud.health.app.lifecycle import AUTO, Lifecycle
from neocloud.health.app.ports import (
    AcknowledgedSource,
    CreditIssuer,
    HealthSource,
    RecordedObservation,
)
from neocloud.health.app.sla import SlaService
from neocloud.health.app.stats import HealthStats, fleet_stats
from neocloud.health.app.webhooks import WebhookService
from neocloud.health.domain.lifecycle import DrainMode, NodeEvent, NodeHealth, NodeState
from neocloud.health.domain.notices import Notice, NoticeKind
from neocloud.health.domain.remediation import Quarantine, Record, Suspect, burn_in
from neocloud.health.domain.sla import Outage
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.health import HealthObservation, RecommendedAction
from neocloud.kernel.ids import AllocationId, NodeId

MAX_DRAIN_TIMEOUT = timedelta(days=7)
FUTURE_SLACK = timedelta(minutes=5)  # clocks of monitors and server differ a little

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one observation did: the decision's kind and reason, and the node's state after it."""

    node: NodeId
    decision: str
    reason: str
    state: NodeState


class HealthService(Lifecycle):
    def __init__(self, deps: HealthDeps) -> None:
        super().__init__(deps)
        self.sla = SlaService(deps)
        self.webhooks = WebhookService(deps, deps.sender)

    # reads ------------------------------------------------------------------------------------------

    def node(self, principal: Principal, node: NodeId) -> NodeHealth:
        principal.require_operator("reading a node's health")
        return self._load(node)

    def nodes(self, principal: Principal, state: NodeState | None = None) -> list[NodeHealth]:
        principal.require_operator("listing node health")
        self.sync()
        return [h for h in self._d.store.all() if state is None or h.state is state]

    def spares_standing(self) -> int:
        """How many nodes stand by as spares now (in service, held back)."""
        return sum(1 for h in self._d.store.all() if h.spare and h.state is NodeState.IN_SERVICE)

    def events(
        self,
        principal: Principal,
        node: NodeId | None = None,
        limit: int = 100,
        since: datetime | None = None,
    ) -> list[NodeEvent]:
        """Lifecycle events, oldest first (of `node`; at or after `since`), the last `limit` of them."""
        principal.require_operator("reading node events")
        if node is not None:
            self._load(node)
        return self._d.store.events(node, since=since, limit=limit)

    def observations(
        self, principal: Principal, node: NodeId | None = None, limit: int = 100
    ) -> list[RecordedObservation]:
        principal.require_operator("reading health observations")
        return self._d.store.observations(node, limit)

    def outages(self, principal: Principal, allocation: AllocationId | None = None) -> list[Outage]:
        """Spans in which allocations were short of GPUs (operators)."""
        principal.require_operator("reading outages")
        return self._d.store.outages(allocation)

    def notices(self, principal: Principal, after: int | None = None, limit: int = 100) -> list[Notice]:
        """What happened to the caller's allocations (operators and fleet viewers: every tenant's)."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be in 1..1000")
        if principal.sees_everything:
            return self._d.store.notices(None, after, limit)
        if principal.tenant_id is None:
            return []
        return self._d.store.notices(principal.tenant_id, after, limit)

    def stats(self) -> HealthStats:
        """What /metrics shows, read now (`stats.fleet_stats`)."""
        return fleet_stats(self._d)

    # operator commands ------------------------------------------------------------------------------

    def cordon(self, principal: Principal, node: NodeId, reason: str) -> NodeHealth:
        """No new work on the node; the work running there stays."""
        principal.require_operator("cordoning a node")
        return self._move(node, NodeState.CORDONED, _reason(reason), principal.token_id)

    def uncordon(self, principal: Principal, node: NodeId, reason: str) -> NodeHealth:
        principal.require_operator("uncordoning a node")
        return self._move(node, NodeState.IN_SERVICE, _reason(reason), principal.token_id)

    def drain(
        self,
        principal: Principal,
        node: NodeId,
        reason: str,
        mode: DrainMode = DrainMode.NOW,
        timeout: timedelta = timedelta(hours=1),
    ) -> NodeHealth:
        """Move the node's work off it: now (to spares where there are some), or once it finishes or
        `timeout` passes; then the node is out of service for triage."""
        principal.require_operator("draining a node")
        if not timedelta(0) <= timeout <= MAX_DRAIN_TIMEOUT:
            raise InvalidInput(f"a drain timeout is between 0 and {MAX_DRAIN_TIMEOUT.days} days")
        return self._quarantine(self._load(node), _reason(reason), None, mode, timeout, principal.token_id)

    def repair(
        self,
        principal: Principal,
        node: NodeId,
        action: RecommendedAction,
        reason: str,
        until: datetime | None = None,
    ) -> NodeHealth:
        """Start a repair of a node out of service; with `until`, it goes to burn-in by itself then."""
        principal.require_operator("repairing a node")
        if action is RecommendedAction.NONE:
            raise InvalidInput("a repair needs an action (component-reset, reboot, replace, contact-support)")
        now = self._d.clock.now()
        if until is not None and until <= now:
            raise InvalidInput("a repair ends after now", details={"until": until.isoformat()})
        return self._move(
            node, NodeState.IN_REPAIR, _reason(reason), principal.token_id, action=action, until=until
        )

    def return_(self, principal: Principal, node: NodeId, reason: str) -> NodeHealth:
        """The next step back to service: from repair (or triage that found nothing) to burn-in, from
        burn-in (passed) or cordoned to in service."""
        principal.require_operator("returning a node")
        h = self._load(node)
        now = self._d.clock.now()
        if h.state in (NodeState.IN_REPAIR, NodeState.OUT_OF_SERVICE):
            return self._move(
                node, NodeState.BURN_IN, _reason(reason), principal.token_id, until=now + burn_in(h.action)
            )
        return self._move(node, NodeState.IN_SERVICE, _reason(reason), principal.token_id)

    def retire(self, principal: Principal, node: NodeId, reason: str) -> NodeHealth:
        principal.require_operator("retiring a node")
        h = self._load(node)
        if h.state in (NodeState.IN_SERVICE, NodeState.CORDONED) and self._d.control.holders(
            node, self._d.clock.now()
        ):
            raise InvalidInput(f"node {node} holds work: drain it first")
        return self._move(node, NodeState.RETIRED, _reason(reason), principal.token_id)

    def plan_maintenance(
        self,
        principal: Principal,
        node: NodeId,
        start: datetime,
        end: datetime,
        reason: str,
        window_id: str | None = None,
    ) -> NodeMaintenance:
        """Hold the node over [start, end) like a booking: admission sells none of it (Conflict when
        work is booked there already)."""
        principal.require_operator("planning maintenance")
        self._load(node)
        if start < self._d.clock.now() - timedelta(minutes=5):
            raise InvalidInput(
                "a maintenance window cannot start in the past", details={"start": start.isoformat()}
            )
        if window_id is None:
            if self._d.ids is None:
                raise InvalidInput("name the maintenance window (no id source is configured)")
            window_id = self._d.ids.new_id("mnt")
        return self._d.control.plan_maintenance(NodeMaintenance(window_id, node, start, end, _reason(reason)))

    def maintenance(self, principal: Principal, node: NodeId | None = None) -> list[NodeMaintenance]:
        principal.require_operator("listing maintenance")
        return self._d.control.maintenance(node)

    def cancel_maintenance(self, principal: Principal, window_id: str) -> None:
        principal.require_operator("cancelling maintenance")
        self._d.control.cancel_maintenance(window_id)

    # health sources ---------------------------------------------------------------------------------

    def observe(self, obs: HealthObservation) -> Outcome:
        """Record one observation and act on it by the remediation policy (an observation older than the
        node's last move acts as of that move)."""
        h = self._load(obs.node)
        if obs.at < h.since:
            obs = replace(obs, at=h.since)
        since = obs.at - self._d.settings.policy.breaker.window
        recent = [
            e.at
            for e in self._d.store.events(since=since, limit=100_000)
            if e.actor == AUTO and e.to_state is NodeState.DRAINING
        ]
        decision = self._d.settings.policy.decide(obs, h, recent, self._d.store.count())
        match decision:
            case Quarantine(reason, action, mode, timeout):
                h = self._quarantine(h, reason, action, mode, timeout, AUTO, at=obs.at)
                kind = "quarantine"
            case Suspect(reason):
                h = self._move(obs.node, NodeState.SUSPECT, reason, AUTO, at=obs.at)
                kind = "suspect"
            case Record(reason, breaker_open):
                kind = "held-by-circuit-breaker" if breaker_open else "record"
        self._d.store.add_observation(obs, f"{kind}: {decision.reason}")
        return Outcome(obs.node, kind, decision.reason, h.state)

    def notify_preemptions(self) -> list[Notice]:
        """Tell each tenant, once, that a spot allocation of its has been given notice (the worker runs it)."""
        now = self._d.clock.now()
        told = {
            n.allocation
            for n in self._d.store.notices(None, None, 100_000)
            if n.kind is NoticeKind.PREEMPTION_NOTICE
        }
        made = []
        for a in self._d.control.allocations_between(now, now + timedelta(seconds=1)):
            if a.live and a.notice_until is not None and a.id not in told:
                made.append(
                    self._d.store.add_notice(
                        Notice(
                            a.tenant_id,
                            NoticeKind.PREEMPTION_NOTICE,
                            now,
                            f"{a.id} returns its GPUs at {a.notice_until.isoformat()}",
                            a.id,
                            {"notice_until": a.notice_until.isoformat()},
                        )
                    )
                )
        return made

    def now(self) -> datetime:
        return self._d.clock.now()

    def observe_all(self, observations: Iterable[HealthObservation]) -> list[Outcome]:
        """Act on each observation in time order (unknown nodes are NotFound before any is acted on),
        then move timed steps on."""
        ordered = sorted(observations, key=lambda o: (o.at, o.node))
        latest = self._d.clock.now() + FUTURE_SLACK
        for o in ordered:
            if o.at > latest:
                raise InvalidInput(
                    "a health event cannot be from the future", details={"at": o.at.isoformat()}
                )
        known = self._d.store.get_many(o.node for o in ordered)  # one read for the batch
        for node in sorted({o.node for o in ordered} - set(known)):
            self._load(node)  # new to health (sync) or unknown (NotFound)
        out = [self.observe(o) for o in ordered]
        self.tick()
        return out

    def poll(self, source: HealthSource) -> list[Outcome]:
        """Ask a source what it saw, act on each observation, then move timed steps on. An observation
        of a node neocloud does not have (a cluster's login or service node) is logged and skipped, not
        allowed to fail the batch; a source that acknowledges hears that the batch was acted on only
        after it was, so a failed poll is reported again on the next."""
        seen = source.observe(self._d.clock.now())
        missing = {o.node for o in seen} - set(self._d.store.get_many(o.node for o in seen))
        if missing:  # new to health (added since the last sync), or not in the fleet: one read tells
            fleet = {n.id for n in self._d.control.nodes()}
            if missing & fleet:
                self.sync()
            for node in sorted(missing - fleet):
                log.warning("health source reports node %s, which is not in the fleet: skipped", node)
            seen = [o for o in seen if o.node not in missing - fleet]
        out = self.observe_all(seen)
        if isinstance(source, AcknowledgedSource):
            source.acknowledge()
        return out


def _reason(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("say why: a reason is required", details={"field": "reason"})
    return text


__all__ = ["AUTO", "CreditIssuer", "HealthDeps", "HealthService", "HealthSettings", "Outcome"]
