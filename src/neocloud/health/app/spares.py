"""Spares and replacement: what happens to the tenant when its node fails.

Spare capacity the operator sets aside (`SpareSettings`): for NVL72 racks, trays held back inside each
NVLink domain (several operators sell 64 of a rack's 72 GPUs and keep 2 trays as in-domain spares);
for HGX, spare nodes per scalable unit. A spare is in service but takes no new work from admission.

When a node with tenant work is drained, each allocation on it gets a replacement of the same model
inside the same topology domain its shape promised: a spare of the domain first, then a free node of
the domain; an NVL72-domain reservation with none moves to another whole free domain; with nothing, the
allocation is degraded (its outage stays open until the node is back in service) and the tenant is told.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from neocloud.control.app.replacement import Holder
from neocloud.fleet.fleet import Node
from neocloud.health.app.deps import HealthDeps, SpareSettings
from neocloud.health.domain.lifecycle import NodeHealth, NodeState
from neocloud.health.domain.notices import Notice, NoticeKind
from neocloud.health.domain.sla import DOMAIN_SHAPES, Outage
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.ids import NodeId


def rack_scale(node: Node) -> bool:
    model = CATALOG[node.model]
    return model.nvlink_domain > model.gpus_per_node


def domain_of(node: Node) -> str:
    """The domain a spare serves: the NVLink domain of a rack-scale node, else its scalable unit."""
    return f"nvl:{node.nvlink}" if rack_scale(node) else f"su:{node.fabric}/{node.su}"


def spares_wanted(settings: SpareSettings, node: Node) -> int:
    return settings.nvl72_trays if rack_scale(node) else settings.hgx_per_su


def designate(deps: HealthDeps, nodes: Sequence[Node], at: datetime) -> None:
    """Keep the configured number of spares in every domain: free nodes in service, the last ones of
    the domain first. Extra spares (the setting was lowered) go back to general use."""
    store = deps.store
    known = {h.node: h for h in store.all()}
    by_domain: dict[str, list[Node]] = defaultdict(list)
    for n in nodes:
        by_domain[domain_of(n)].append(n)
    held: set[NodeId] | None = None  # read once, and only when some domain is short of spares
    for members in by_domain.values():
        want = spares_wanted(deps.settings.spares, members[0])
        healths = [h for n in members if (h := known.get(n.id)) is not None]
        spares = [h for h in healths if h.spare and h.state is NodeState.IN_SERVICE]
        if len(spares) == want:
            continue
        if len(spares) > want:
            for h in sorted(spares, key=lambda x: x.node)[: len(spares) - want]:
                store.save(h.as_spare(False), None, expected=h)
            continue
        need = want - len(spares)
        if held is None:
            held = deps.control.held_nodes(at)
        for h in sorted(healths, key=lambda x: x.node, reverse=True):
            if need == 0:
                break
            if h.state is NodeState.IN_SERVICE and not h.spare and h.node not in held:
                store.save(h.as_spare(True), None, expected=h)
                need -= 1


class Evacuation:
    def __init__(self, deps: HealthDeps) -> None:
        self._d = deps

    def evacuate(self, failed: NodeId, at: datetime) -> None:
        """Move every allocation off `failed` (see the module's docstring), recording outages and
        telling each tenant what happened to its allocation."""
        holders = self._d.control.holders(failed, at)
        if not holders:
            return
        nodes = self._d.control.nodes()
        node = next(n for n in nodes if n.id == failed)
        for holder in holders:
            self._one(holder, node, nodes, at)

    def _candidates(self, node: Node, nodes: Sequence[Node], shape: str) -> list[NodeId]:
        known = {h.node: h for h in self._d.store.all()}
        domain = domain_of(node)
        same = [n for n in nodes if n.model == node.model and n.id != node.id and n.gpus == node.gpus]
        health = {n.id: known.get(n.id) for n in same}

        def ok(n: Node, spare: bool) -> bool:
            h = health[n.id]
            return h is not None and h.state is NodeState.IN_SERVICE and h.spare is spare

        inside = [n for n in same if domain_of(n) == domain]
        order = [n.id for n in inside if ok(n, True)] + [n.id for n in inside if ok(n, False)]
        if shape not in DOMAIN_SHAPES:  # no domain promised: any spare, then any free node of the model
            order += [n.id for n in same if domain_of(n) != domain and ok(n, True)]
            order += [n.id for n in same if domain_of(n) != domain and ok(n, False)]
        return order

    def _one(self, holder: Holder, node: Node, nodes: Sequence[Node], at: datetime) -> None:
        alloc = holder.allocation
        started = alloc.start <= at
        swap = self._d.settings.spares.swap
        new = self._d.control.replace_node(alloc.id, node.id, self._candidates(node, nodes, alloc.shape), at)
        moved: tuple[NodeId, ...] | None = (new,) if new is not None else None
        if moved is None and alloc.shape in DOMAIN_SHAPES and rack_scale(node):
            moved = self._d.control.move_domain(alloc.id, node.id, at)
        if moved is not None:
            for n in moved:
                h = self._d.store.get(n)
                if h is not None and h.spare:
                    self._d.store.save(h.as_spare(False), None, expected=h)
            if started:
                self._outage(holder, node, at, at + swap)
            where = (
                "a spare in the same domain"
                if new is not None
                else f"another NVLink domain ({len(moved)} nodes)"
            )
            self._notice(
                holder,
                NoticeKind.REPLACED,
                at,
                f"a failed node of {alloc.id} was replaced with {where}",
                {"replaced_gpus": holder.gpus_on_node, "moved_nodes": len(moved)},
            )
            return
        if started:
            self._outage(holder, node, at, None)
        self._notice(
            holder,
            NoticeKind.DEGRADED,
            at,
            f"{alloc.id} is degraded: {holder.gpus_on_node} of its GPUs failed and no replacement is free",
            {"unavailable_gpus": holder.gpus_on_node},
        )

    def restored(self, node: NodeId, at: datetime) -> None:
        """The node is back in service: the outages of allocations still on it end."""
        for o in self._d.store.close_outages(node, at):
            self._d.store.add_notice(
                Notice(
                    o.tenant,
                    NoticeKind.RESTORED,
                    at,
                    f"{o.allocation} has all its GPUs again",
                    o.allocation,
                    {"restored_gpus": o.gpus},
                )
            )

    def _outage(self, holder: Holder, node: Node, start: datetime, end: datetime | None) -> None:
        a = holder.allocation
        self._d.store.open_outage(
            Outage(a.id, a.tenant_id, node.id, holder.gpus_on_node, start, end, a.shape)
        )

    def _notice(
        self, holder: Holder, kind: NoticeKind, at: datetime, message: str, data: dict[str, int]
    ) -> None:
        a = holder.allocation
        self._d.store.add_notice(Notice(a.tenant_id, kind, at, message, a.id, dict(data)))


def in_service(h: NodeHealth | None) -> bool:
    return h is not None and h.state is NodeState.IN_SERVICE
