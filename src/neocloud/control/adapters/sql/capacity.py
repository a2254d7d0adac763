"""Nodes, maintenance windows, claims and locks, and the GPU bookings capacity decisions read, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from neocloud.control.adapters.sql import tables as t
from neocloud.control.adapters.sql.connected import Connected, booked_twice
from neocloud.control.adapters.sql.rows import to_booking
from neocloud.control.adapters.sql.statements import sql
from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.fleet.fleet import Node
from neocloud.kernel.ids import AllocationId, NodeId


class CapacityRows(Connected):
    def add_nodes(self, nodes: Sequence[Node]) -> int:
        have = set(self.c.execute(select(t.nodes.c.id)).scalars())
        start = self.c.execute(select(func.coalesce(func.max(t.nodes.c.ordinal), -1))).scalar_one() + 1
        rows = [
            {
                "id": n.id,
                "ordinal": start + i,
                "model": n.model,
                "gpus": n.gpus,
                "cpu_milli": n.cpu_milli,
                "memory_mib": n.memory_mib,
                "nvlink": n.nvlink,
                "rack": n.rack,
                "leaf": n.leaf,
                "su": n.su,
                "fabric": n.fabric,
                "hall": n.hall,
                "site": n.site,
                "state": "ready",
            }
            for i, n in enumerate(n for n in nodes if n.id not in have)
        ]
        if rows:
            self.c.execute(insert(t.nodes), rows)
        return len(rows)

    def nodes(self, model: str | None = None) -> list[Node]:
        q = select(t.nodes).order_by(t.nodes.c.ordinal)
        if model is not None:
            q = q.where(t.nodes.c.model == model)
        return [
            Node(
                NodeId(r.id),
                r.model,
                r.gpus,
                r.cpu_milli,
                r.memory_mib,
                r.rack,
                r.nvlink,
                r.leaf,
                r.su,
                r.fabric,
                r.hall,
                r.site,
            )
            for r in self.c.execute(q)
        ]

    def node_version(self, model: str) -> str:
        """Nodes are only ever added (with a growing ordinal), so count and last ordinal identify the set.

        The same statement reads the node states, which a decision asks for next: a `node_states()` that
        is the very next read of this unit of work answers from them (any other statement in between
        drops them), so it costs no round trip and sees what a statement of its own would have seen."""
        rows = self.c.execute(sql().node_version_and_states, {"model": model}).all()
        self._states_read = {r.id: r.state for r in rows if r.id is not None}
        return f"{rows[0][0]}:{rows[0][1]}"

    def node_states(self) -> dict[str, str]:
        if (read := self._states_read) is not None:
            self._states_read = None
            return read
        return {r.id: r.state for r in self.c.execute(sql().node_states)}

    def set_node_state(self, node_id: str, state: str) -> bool:
        done = self.c.execute(update(t.nodes).where(t.nodes.c.id == node_id).values(state=state))
        return bool(done.rowcount)

    def add_maintenance(self, window: NodeMaintenance) -> None:
        self.c.execute(
            insert(t.node_maintenance).values(
                id=window.id,
                node_id=window.node_id,
                start_at=window.start,
                end_at=window.end,
                reason=window.reason,
            )
        )

    def maintenance(self, node_id: str | None = None) -> list[NodeMaintenance]:
        m = t.node_maintenance.c
        q = select(t.node_maintenance).order_by(m.start_at, m.id)
        if node_id is not None:
            q = q.where(m.node_id == node_id)
        return [
            NodeMaintenance(r.id, NodeId(r.node_id), r.start_at, r.end_at, r.reason)
            for r in self.c.execute(q)
        ]

    def delete_maintenance(self, window_id: str) -> bool:
        return bool(
            self.c.execute(delete(t.node_maintenance).where(t.node_maintenance.c.id == window_id)).rowcount
        )

    def claim_nodes(self, node_ids: Sequence[str], *, wait: bool) -> set[str]:
        if not node_ids or not self._pg:
            return set(node_ids)  # SQLite: BEGIN IMMEDIATE made this unit of work the one writer
        q = sql().claim_wait if wait else sql().claim_skip
        return {r.id for r in self.c.execute(q, {"ids": list(node_ids)})}

    def lock_tenant(self, tenant_id: str) -> None:
        if self._pg:
            self.c.execute(
                select(t.tenants.c.id).where(t.tenants.c.id == tenant_id).with_for_update()
            ).first()

    def add_bookings(self, bookings: Sequence[GpuBooking]) -> None:
        """On PostgreSQL kept until the commit (or the next read of bookings) and sent with the events
        in one statement (Connected._flush_events); elsewhere inserted at once."""
        if not bookings:
            return
        if self._pg:
            assert self._conn is not None, "use the unit of work inside `with`"
            self._bookings.extend(bookings)
            return
        try:
            self.c.execute(
                sql().insert_bookings,
                [
                    {
                        "allocation_id": b.allocation_id,
                        "node_id": b.node_id,
                        "slot": b.slot,
                        "start_at": b.start,
                        "end_at": b.end,
                    }
                    for b in bookings
                ],
            )
        except IntegrityError as err:  # a foreign key (SQLite has no exclusion constraint)
            raise booked_twice() from err

    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> list[GpuBooking]:
        """The bookings of `model`'s nodes (of `nodes` only, when given) overlapping [start, end), then
        the planned maintenance windows overlapping it as bookings of every GPU of their node: one
        statement."""
        self._flush_events()  # the bookings kept for the commit are read too
        params: dict[str, Any] = {"model": model, "start": start}
        if end is not None:
            params["end"] = end
        if nodes is not None:
            params["nodes"] = list(nodes)
        found: list[GpuBooking] = []
        for owner, node, slot, s, e, gpus, kind, _ in self.c.execute(
            sql().bookings[end is not None, nodes is not None, self._pg], params
        ):
            if kind:
                found.extend(GpuBooking(AllocationId(owner), NodeId(node), k, s, e) for k in range(gpus))
            else:
                found.append(GpuBooking(AllocationId(owner), NodeId(node), slot, s, e))
        return found

    def taken(self, model: str, start: datetime, end: datetime) -> dict[str, set[int]]:
        """Per node of `model`, the GPU slots booked or under planned maintenance at some instant of
        [start, end): one statement."""
        self._flush_events()  # the bookings kept for the commit are read too
        found: dict[str, set[int]] = {}
        rows = self.c.execute(sql().taken[self._pg], {"model": model, "start": start, "end": end})
        for node, joined, gpus in rows:
            slots = found.setdefault(node, set())
            slots.update(range(gpus) if joined is None else (int(x) for x in joined.split(",")))
        return found

    def bookings_of(self, allocation_id: str) -> list[GpuBooking]:
        self._flush_events()  # the bookings kept for the commit are read too
        g = t.allocation_gpus
        return [
            to_booking(r)
            for r in self.c.execute(select(g).where(g.c.allocation_id == allocation_id).order_by(g.c.id))
        ]

    def end_bookings(self, allocation_id: str, at: datetime) -> None:
        """Move the end of the bookings that run to the allocation's end (its open ones, else those
        ending last) to `at`; a booking cut short by a node replacement stays as it was."""
        self._flush_events()  # the bookings kept for the commit are read too
        g = t.allocation_gpus.c
        mine = t.allocation_gpus.update().where(g.allocation_id == allocation_id)
        if self.c.execute(mine.where(g.end_at.is_(None)).values(end_at=at)).rowcount:
            return
        other = t.allocation_gpus.alias("latest")  # not correlated with the rows being updated
        last = (
            select(func.max(other.c.end_at)).where(other.c.allocation_id == allocation_id).scalar_subquery()
        )
        self.c.execute(mine.where(g.end_at == last).values(end_at=at))

    def end_node_bookings(self, allocation_id: str, node_id: str, at: datetime) -> None:
        self._flush_events()  # the bookings kept for the commit are read too
        g = t.allocation_gpus.c
        self.c.execute(
            update(t.allocation_gpus)
            .where(
                g.allocation_id == allocation_id,
                g.node_id == node_id,
                or_(g.end_at.is_(None), g.end_at > at),
            )
            .values(end_at=case((g.start_at > at, g.start_at), else_=at))
        )
