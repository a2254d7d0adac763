"""Node states, maintenance windows and replacing a failed node of an allocation: what the health
context asks of the control plane (it never touches the control plane's tables).

Load → decide → persist → call out: a replacement books the spare's GPUs and ends the failed node's
bookings in one unit of work, then tells the provisioner outside it."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from neocloud.control.app.admission import load_fleet
from neocloud.control.app.deps import Deps
from neocloud.control.app.placement_timing import REPLACEMENT, TimedPlacer
from neocloud.control.app.ports import Grant, ProvisionError, UnitOfWork
from neocloud.control.domain.allocations import Allocation, GpuBooking
from neocloud.control.domain.calendar import READY, snapshot
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.shapes import Shape
from neocloud.fleet.fleet import Node
from neocloud.fleet.topology import Level
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound
from neocloud.kernel.ids import AllocationId, NodeId, TenantId
from neocloud.kernel.products import State
from neocloud.placement.framework import Placement
from neocloud.placement.request import Request

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Holder:
    """A live allocation holding GPUs of a node at or after some instant."""

    allocation: Allocation
    gpus_on_node: int


class NodeControl:
    """Operator-side node operations the health context drives."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        # node -> GPU model. Nodes are only ever added, never removed or changed (the stores have no
        # such write), so an entry never goes stale; a node not in it costs one read of the node table.
        self._models: dict[NodeId, str] = {}

    def nodes(self) -> list[Node]:
        with self._deps.uow(read_only=True) as uow:
            return uow.nodes()

    def node_states(self) -> dict[str, str]:
        with self._deps.uow(read_only=True) as uow:
            return uow.node_states()

    def set_node_states(self, states: dict[NodeId, str]) -> None:
        """Tell placement which nodes it may use ('ready') and why the others are not."""
        with self._deps.uow() as uow:
            for node, state in states.items():
                if len(state) > 16:
                    raise InvalidInput(f"node state {state!r} is longer than 16 characters")
                if not uow.set_node_state(node, state):
                    raise NotFound(f"node {node!r} not found")
            uow.commit()

    def holders(self, node: NodeId, at: datetime) -> list[Holder]:
        """The live allocations with GPUs of `node` booked at or after `at`, by id."""
        return self.holders_of([node], at)[node]

    def holders_of(self, nodes: Sequence[NodeId], at: datetime) -> dict[NodeId, list[Holder]]:
        """`holders` of each of `nodes` in one unit of work: one bookings read per GPU model, filtered
        to those nodes, and one read per allocation found (NotFound for an unknown node)."""
        asked = list(dict.fromkeys(nodes))
        with self._deps.uow(read_only=True) as uow:
            models = self._models_of(uow, asked)
            by_model: dict[str, list[NodeId]] = {}
            for n in asked:
                by_model.setdefault(models[n], []).append(n)
            counts: dict[NodeId, dict[str, int]] = {n: {} for n in asked}
            for model, members in sorted(by_model.items()):
                for b in uow.bookings(model, at, None, nodes=members):
                    if not b.allocation_id.startswith("mnt_"):
                        mine = counts[NodeId(b.node_id)]
                        mine[b.allocation_id] = mine.get(b.allocation_id, 0) + 1
            live: dict[str, Allocation | None] = {}
            for alloc_id in sorted({a for per in counts.values() for a in per}):
                alloc = uow.get_allocation(alloc_id)
                live[alloc_id] = alloc if alloc is not None and alloc.live else None
        out: dict[NodeId, list[Holder]] = {}
        for n in asked:
            found = [(live[a], k) for a, k in sorted(counts[n].items())]
            out[n] = [Holder(alloc, k) for alloc, k in found if alloc is not None]
        return out

    def _models_of(self, uow: UnitOfWork, nodes: Sequence[NodeId]) -> dict[NodeId, str]:
        if any(n not in self._models for n in nodes):
            self._models.update({n.id: n.model for n in uow.nodes()})
        missing = [n for n in nodes if n not in self._models]
        if missing:
            raise NotFound(f"node {missing[0]!r} not found")
        return {n: self._models[n] for n in nodes}

    def held_nodes(self, at: datetime) -> set[NodeId]:
        """Nodes with GPUs of a live allocation booked at or after `at`: `holders` for the whole fleet
        in one read per GPU model (maintenance windows are not holders)."""
        with self._deps.uow(read_only=True) as uow:
            by_alloc: dict[str, set[NodeId]] = {}
            for model in sorted({n.model for n in uow.nodes()}):
                for b in uow.bookings(model, at, None):
                    if not b.allocation_id.startswith("mnt_"):
                        by_alloc.setdefault(b.allocation_id, set()).add(NodeId(b.node_id))
            held: set[NodeId] = set()
            for alloc_id, nodes in by_alloc.items():
                alloc = uow.get_allocation(alloc_id)
                if alloc is not None and alloc.live:
                    held |= nodes
        return held

    def allocations_between(
        self, start: datetime, end: datetime, tenant: TenantId | None = None
    ) -> list[Allocation]:
        """Every allocation (any product, any state; of `tenant` when named) whose window overlaps
        [start, end), by id."""
        with self._deps.uow(read_only=True) as uow:
            found = uow.allocations_overlapping(start, end, tenant)
        return [a for a in found if a.state is not State.CANCELLED and a.started_at is not None]

    def replace_node(
        self, allocation_id: AllocationId, failed: NodeId, candidates: Sequence[NodeId], at: datetime
    ) -> NodeId | None:
        """Move `allocation_id`'s GPUs on `failed` to the first of `candidates` (same model, same GPU
        count) whose GPUs are all free from `at` to the allocation's end, booking them from `at` and ending
        the failed node's bookings there. None when no candidate is free (nothing changes)."""
        with self._deps.uow() as uow:
            alloc = uow.get_allocation(allocation_id, lock=True)
            if alloc is None or not alloc.live:
                return None
            mine = [
                b
                for b in uow.bookings_of(allocation_id)
                if b.node_id == failed and (b.end is None or b.end > at)
            ]
            if not mine:
                return None
            by_id = {n.id: n for n in uow.nodes(alloc.model)}
            gone = by_id.get(failed)
            if gone is None:
                return None
            for cand in candidates:
                spare = by_id.get(cand)
                if spare is None or spare.gpus != gone.gpus or cand == failed or cand in alloc.nodes:
                    continue
                if not uow.claim_nodes([cand], wait=True):
                    continue
                if any(
                    b.overlaps(at, alloc.end) for b in uow.bookings(alloc.model, at, alloc.end, nodes=[cand])
                ):
                    continue
                _swap(uow, alloc, {failed: cand}, mine, at)
                uow.commit()
                break
            else:
                return None
        self._provision(allocation_id)
        return cand

    def move_domain(
        self, allocation_id: AllocationId, failed: NodeId, at: datetime
    ) -> tuple[NodeId, ...] | None:
        """Move the allocation's nodes in `failed`'s NVLink domain to whole free nodes of another single
        NVLink domain (ready nodes only), from `at`. The new nodes, or None when no domain fits."""
        with self._deps.uow() as uow:
            alloc = uow.get_allocation(allocation_id, lock=True)
            if alloc is None or not alloc.live:
                return None
            nodes = uow.nodes(alloc.model)
            by_id = {n.id: n for n in nodes}
            if failed not in by_id:
                return None
            domain = by_id[failed].nvlink
            moving = sorted(n for n in alloc.nodes if n in by_id and by_id[n].nvlink == domain)
            fleet = load_fleet(uow, alloc.model, self._deps.fleets)
            if fleet is None or not moving:
                return None
            states: dict[str, str] = {
                **uow.node_states(),
                **{n: "in-use" for n in by_id if by_id[n].nvlink == domain},
            }
            cap = snapshot(fleet, uow.bookings(alloc.model, at, alloc.end), at, alloc.end, states)
            per_node = by_id[failed].gpus
            req = Request(
                gpus=per_node, nodes=len(moving), models=frozenset({alloc.model}), within=Level.NVLINK
            )
            timed = TimedPlacer(self._deps.placer)
            verdict = timed.place(req, cap, random.Random(f"{allocation_id}:{failed}"))
            self._deps.placement_timings.observe(REPLACEMENT, timed.seconds)
            if not isinstance(verdict, Placement):
                return None
            target = [fleet.nodes[s.node].id for s in verdict.shares]
            if uow.claim_nodes(target, wait=True) != set(target):
                return None
            if any(b.overlaps(at, alloc.end) for b in uow.bookings(alloc.model, at, alloc.end, nodes=target)):
                return None
            booked = [
                b
                for b in uow.bookings_of(allocation_id)
                if b.node_id in moving and (b.end is None or b.end > at)
            ]
            _swap(uow, alloc, dict(zip(moving, target, strict=True)), booked, at)
            uow.commit()
        self._provision(allocation_id)
        return tuple(target)

    def _provision(self, allocation_id: AllocationId) -> None:
        """Tell the provisioner the allocation's new nodes (outside the unit of work that swapped them):
        the Slurm provisioner moves the reservation onto them; a failure here is repaired by the
        reconciler's next converge pass, which compares Slurm with the allocations."""
        with self._deps.uow(read_only=True) as uow:
            alloc = uow.get_allocation(allocation_id)
        if alloc is None:
            return
        try:
            self._deps.provisioner.provision(Grant.of(alloc))
        except ProvisionError as err:  # the swap is committed; the cluster catches up on converge
            log.warning(
                "provisioning %s on its new nodes failed (%s); converge will retry", alloc.id, err.cause
            )

    def plan_maintenance(self, window: NodeMaintenance) -> NodeMaintenance:
        """Hold the node's GPUs over the window like a booking. Conflict when work is booked there (the
        allocations are named: move or wait for them first)."""
        with self._deps.uow() as uow:
            node = next((n for n in uow.nodes() if n.id == window.node_id), None)
            if node is None:
                raise NotFound(f"node {window.node_id!r} not found")
            uow.claim_nodes([node.id], wait=True)
            clash = sorted(
                {
                    b.allocation_id
                    for b in uow.bookings(node.model, window.start, window.end, nodes=[node.id])
                    if b.overlaps(window.start, window.end)
                }
            )
            if clash:
                raise Conflict(
                    f"node {node.id} is booked during the window", details={"booked_by": clash[:20]}
                )
            uow.add_maintenance(window)
            uow.commit()
        return window

    def maintenance(self, node: NodeId | None = None) -> list[NodeMaintenance]:
        with self._deps.uow(read_only=True) as uow:
            return uow.maintenance(node)

    def cancel_maintenance(self, window_id: str) -> None:
        with self._deps.uow() as uow:
            if not uow.delete_maintenance(window_id):
                raise NotFound(f"maintenance window {window_id!r} not found")
            uow.commit()


def _swap(
    u: UnitOfWork, alloc: Allocation, moves: dict[NodeId, NodeId], booked: list[GpuBooking], at: datetime
) -> None:
    """Book the new nodes from `at` where the old ones were booked, end the old ones' bookings there."""
    u.add_bookings([GpuBooking(alloc.id, moves[b.node_id], b.slot, max(at, b.start), b.end) for b in booked])
    for old in moves:
        u.end_node_bookings(alloc.id, old, at)
    u.update_allocation(alloc.placed(tuple(dict.fromkeys(moves.get(n, n) for n in alloc.nodes)), alloc.start))


SHAPES_WITH_DOMAIN_PROMISE = frozenset(
    {Shape.WHOLE_NVL72.value, Shape.ONE_NVL72.value, Shape.ONE_FABRIC.value}
)
__all__ = ["READY", "SHAPES_WITH_DOMAIN_PROMISE", "Holder", "NodeControl"]
