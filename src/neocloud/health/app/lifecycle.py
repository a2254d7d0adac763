"""The node lifecycle's mechanics, shared by the operator's commands, the health sources and the
timed steps: load a node's record, move it by the transition table (compare-and-set save), tell the
control plane what placement may use, move the tenant's work off a quarantined node; and `tick`, the
timed steps (drain deadlines, repairs, burn-in).

The control plane is told after the save, so a crash in between leaves a record that `sync()` pushes
again. `HealthService` (service.py) is the use cases over these mechanics.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from neocloud.control.app.replacement import Holder
from neocloud.health.app.deps import HealthDeps
from neocloud.health.app.spares import Evacuation, designate
from neocloud.health.domain.lifecycle import DrainMode, NodeEvent, NodeHealth, NodeState
from neocloud.health.domain.remediation import burn_in
from neocloud.kernel.errors import Conflict, NotFound
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId

AUTO = "auto"


class Lifecycle:
    def __init__(self, deps: HealthDeps) -> None:
        self._d = deps
        self._evac = Evacuation(deps)

    # the timed steps --------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[NodeEvent]:
        """Move every node whose timed step is due: finished drains and drain deadlines, automatic
        repairs, burn-in. Returns the events it made."""
        now = now or self._d.clock.now()
        made: list[NodeEvent] = []
        due = [seen for seen in self._d.store.all() if self._due(seen, now)]  # most nodes: not due
        draining = [h.node for h in due if h.state is NodeState.DRAINING]
        held = self._d.control.holders_of(draining, now) if draining else {}  # one read for all
        for seen in due:
            h = self._d.store.get(seen.node) or seen  # an earlier step may have changed it (spares)
            try:
                made.extend(self._step(h, now, held.get(h.node)))
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

    def _step(self, h: NodeHealth, now: datetime, holders: list[Holder] | None = None) -> Iterable[NodeEvent]:
        if h.state is NodeState.DRAINING:
            if holders is None:
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
