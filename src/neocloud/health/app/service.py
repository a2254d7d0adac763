"""The node lifecycle's use cases: operator commands, observations from health sources, and the timed
steps (drain deadlines, repairs, burn-in) that `tick` moves on.

Each use case loads the node's lifecycle, decides in the domain (transition table, remediation policy),
saves (compare-and-set on the node's record), then tells the control plane what placement may use
and moves the tenant's work (`spares.Evacuation`). The control plane is told after the save, so a crash
in between leaves a record that `sync()` pushes again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.tenancy import Principal
from neocloud.health.app.deps import HealthDeps, HealthSettings
from neocloud.health.app.ports import (
    CreditIssuer,
    HealthSource,
    RecordedObservation,
)
from neocloud.health.app.sla import SlaService
from neocloud.health.app.spares import Evacuation, designate
from neocloud.health.app.webhooks import WebhookService
from neocloud.health.domain.lifecycle import DrainMode, NodeEvent, NodeHealth, NodeState
from neocloud.health.domain.notices import Notice, NoticeKind
from neocloud.health.domain.remediation import Quarantine, Record, Suspect, burn_in
from neocloud.health.domain.sla import Outage
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound
from neocloud.kernel.health import HealthObservation, RecommendedAction
from neocloud.kernel.ids import AllocationId, NodeId

AUTO = "auto"
MAX_DRAIN_TIMEOUT = timedelta(days=7)
FUTURE_SLACK = timedelta(minutes=5)  # clocks of monitors and server differ a little


@dataclass(frozen=True, slots=True)
class HealthStats:
    nodes_by_state_model: dict[tuple[str, str], int]
    allocations_by_state: dict[str, int]
    gpus_committed: dict[str, int]
    gpus_delivered: dict[str, int]
    gpus_in_use: dict[str, int]
    gpus_healthy: dict[str, int]
    events_by_component_action: dict[tuple[str, str], int]
    remediation_seconds: list[float]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one observation did: the decision's kind and reason, and the node's state after it."""

    node: NodeId
    decision: str
    reason: str
    state: NodeState


class HealthService:
    def __init__(self, deps: HealthDeps) -> None:
        self._d = deps
        self._evac = Evacuation(deps)
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

    def events(self, principal: Principal, node: NodeId | None = None, limit: int = 100) -> list[NodeEvent]:
        principal.require_operator("reading node events")
        if node is not None:
            self._load(node)
        return self._d.store.events(node, limit=limit)

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
        """What /metrics shows, read now: nodes by state and model, GPUs per tenant, health events by
        component and action, closed outages' durations (time to remediate)."""
        nodes = {n.id: n for n in self._d.control.nodes()}
        by_state: dict[tuple[str, str], int] = {}
        states = {h.node: h for h in self._d.store.all()}
        for node_id, node in nodes.items():
            h = states.get(node_id)
            key = (h.state.value if h else NodeState.IN_SERVICE.value, node.model)
            by_state[key] = by_state.get(key, 0) + 1
        now = self._d.clock.now()
        open_short: dict[str, int] = {}
        remediated: list[float] = []
        for o in self._d.store.outages():
            if o.end is None:
                open_short[o.tenant] = open_short.get(o.tenant, 0) + o.gpus
            else:
                remediated.append((o.end - o.start).total_seconds())
        committed: dict[str, int] = {}
        in_use: dict[str, int] = {}
        healthy: dict[str, int] = {}
        by_alloc_state: dict[str, int] = {}
        for a in self._d.control.allocations_between(now, now + timedelta(seconds=1)):
            by_alloc_state[a.state.value] = by_alloc_state.get(a.state.value, 0) + 1
            if a.live:
                committed[a.tenant_id] = committed.get(a.tenant_id, 0) + a.gpus
            if a.state.value == "active":
                in_use[a.tenant_id] = in_use.get(a.tenant_id, 0) + a.gpus
                if a.nodes:
                    ok = sum(
                        1 for n in a.nodes if (h := states.get(n)) is None or h.state is NodeState.IN_SERVICE
                    )
                    healthy[a.tenant_id] = healthy.get(a.tenant_id, 0) + a.gpus * ok // len(a.nodes)
        delivered = {t: max(0, g - open_short.get(t, 0)) for t, g in in_use.items()}
        return HealthStats(
            by_state,
            by_alloc_state,
            committed,
            delivered,
            in_use,
            healthy,
            self._d.store.observation_counts(),
            remediated,
        )

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
        """Ask a source what it saw, act on each observation, then move timed steps on."""
        return self.observe_all(source.observe(self._d.clock.now()))

    # the timed steps --------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[NodeEvent]:
        """Move every node whose timed step is due: finished drains and drain deadlines, automatic
        repairs, burn-in. Returns the events it made."""
        now = now or self._d.clock.now()
        made: list[NodeEvent] = []
        for seen in self._d.store.all():
            if not self._due(seen, now):
                continue  # most nodes: in service, nothing timed (no read per node)
            h = self._d.store.get(seen.node) or seen  # an earlier step may have changed it (spares)
            try:
                made.extend(self._step(h, now))
            except Conflict:
                continue  # another process moved this node meanwhile; its step is done or redone there
        return made

    def _due(self, h: NodeHealth, now: datetime) -> bool:
        """Whether `_step` may move the node now (a draining node: when its work is gone or its
        deadline passed, which needs the control plane)."""
        if h.state is NodeState.DRAINING:
            return True
        if h.state is NodeState.OUT_OF_SERVICE:
            return h.action in self._d.settings.auto_repair
        if h.state in (NodeState.IN_REPAIR, NodeState.BURN_IN):
            return h.until is not None and h.until <= now
        return False

    def _step(self, h: NodeHealth, now: datetime) -> Iterable[NodeEvent]:
        if h.state is NodeState.DRAINING:
            holders = self._d.control.holders(h.node, now)
            live = [x for x in holders if x.allocation.start <= now]
            if not live or (h.until is not None and h.until <= now):
                if live:
                    self._evac.evacuate(h.node, now)
                yield from self._go(h, NodeState.OUT_OF_SERVICE, "drained", now, now, action=h.action)
        elif h.state is NodeState.OUT_OF_SERVICE and h.action in self._d.settings.auto_repair:
            until = now + timedelta(seconds=self._d.repairs[h.action].high_s)
            yield from self._go(h, NodeState.IN_REPAIR, f"automatic {h.action.value}", now, now, until=until)
        elif h.state is NodeState.IN_REPAIR and h.until is not None and h.until <= now:
            yield from self._go(
                h, NodeState.BURN_IN, "repair done", h.until, now, until=h.until + burn_in(h.action)
            )
        elif h.state is NodeState.BURN_IN and h.until is not None and h.until <= now:
            yield from self._go(h, NodeState.IN_SERVICE, "burn-in passed", h.until, now)

    def _go(
        self, h: NodeHealth, state: NodeState, reason: str, at: datetime, now: datetime, **kw: object
    ) -> Iterable[NodeEvent]:
        moved, event = self._save_move(h, state, reason, AUTO, at, **kw)
        yield event
        # a step may make the next one due at once (a repair that ended long ago, then its burn-in)
        yield from self._step(moved, now)

    # internals --------------------------------------------------------------------------------------

    def sync(self) -> None:
        """Give every control-plane node a lifecycle (new ones start in service), keep the configured
        spares, and push every node's state to the control plane (idempotent; repairs a crash between a
        save and the push)."""
        now = self._d.clock.now()
        known = {h.node for h in self._d.store.all()}
        nodes = self._d.control.nodes()
        self._d.store.add_new(NodeHealth.new(n.id, now) for n in nodes if n.id not in known)  # one write
        designate(self._d, nodes, now)
        self._push(self._d.store.all())

    def _push(self, healths: Iterable[NodeHealth]) -> None:
        current = self._d.control.node_states()
        want = {h.node: h.control_state for h in healths}
        changed = {n: s for n, s in want.items() if current.get(n, "ready") != s}
        if changed:
            self._d.control.set_node_states(changed)

    def _load(self, node: NodeId) -> NodeHealth:
        h = self._d.store.get(node)
        if h is None:
            # A node the control plane has but health has not met yet (added since the last sync): sync
            # once. An unknown name is a 404 at the cost of one read, never a sync of the whole fleet.
            if all(n.id != node for n in self._d.control.nodes()):
                raise NotFound(f"node {node!r} not found")
            self.sync()
            h = self._d.store.get(node)
        if h is None:
            raise NotFound(f"node {node!r} not found")
        return h

    def _move(
        self,
        node: NodeId,
        state: NodeState,
        reason: str,
        actor: str,
        *,
        at: datetime | None = None,
        **kw: object,
    ) -> NodeHealth:
        return self._save_move(self._load(node), state, reason, actor, at or self._d.clock.now(), **kw)[0]

    def _save_move(
        self, h: NodeHealth, state: NodeState, reason: str, actor: str, at: datetime, **kw: object
    ) -> tuple[NodeHealth, NodeEvent]:
        moved, event = h.to(state, at=at, reason=reason, actor=actor, **kw)  # type: ignore[arg-type]
        self._d.store.save(moved, event, expected=h)
        if state is NodeState.IN_SERVICE:
            self._evac.restored(moved.node, at)
            designate(self._d, self._d.control.nodes(), at)
            moved = self._d.store.get(moved.node) or moved
        self._push([moved])
        return moved, event

    def _quarantine(
        self,
        h: NodeHealth,
        reason: str,
        action: RecommendedAction | None,
        mode: DrainMode,
        timeout: timedelta,
        actor: str,
        *,
        at: datetime | None = None,
    ) -> NodeHealth:
        at = at or self._d.clock.now()
        h, _ = self._save_move(
            h, NodeState.DRAINING, reason, actor, at, action=action, until=at + timeout, drain=mode
        )
        if mode is DrainMode.NOW:
            self._evac.evacuate(h.node, at)
            h, _ = self._save_move(h, NodeState.OUT_OF_SERVICE, "drained", actor, at, action=action)
        return h


def _reason(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("say why: a reason is required", details={"field": "reason"})
    return text


__all__ = ["AUTO", "CreditIssuer", "HealthDeps", "HealthService", "HealthSettings", "Outcome"]
