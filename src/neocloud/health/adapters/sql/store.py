"""The SQL HealthStore (SQLite or PostgreSQL): each method is one short transaction. A node's record
carries a version, so `save` is a compare-and-set: two deciders never both move one node."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from neocloud.health.adapters.sql import tables as t
from neocloud.health.adapters.sql.tenant_records import SqlTenantRecords
from neocloud.health.app.ports import RecordedObservation
from neocloud.health.domain.lifecycle import DrainMode, NodeEvent, NodeHealth, NodeState
from neocloud.health.domain.sla import Outage
from neocloud.kernel.errors import Conflict
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import AllocationId, NodeId, TenantId

CHUNK = 500  # ids per IN (...) and rows per insert: under SQLite's and PostgreSQL's parameter limits


def _health(r: Any) -> NodeHealth:
    return NodeHealth(
        NodeId(r.node_id),
        NodeState(r.state),
        r.since,
        r.reason,
        RecommendedAction(r.action) if r.action else None,
        r.until_at,
        DrainMode(r.drain) if r.drain else None,
        bool(r.spare),
        int(r.failures),
    )


def _health_row(h: NodeHealth) -> dict[str, Any]:
    return {
        "state": h.state.value,
        "since": h.since,
        "reason": h.reason,
        "action": h.action.value if h.action else None,
        "until_at": h.until,
        "drain": h.drain.value if h.drain else None,
        "spare": h.spare,
        "failures": h.failures,
    }


def _event(r: Any) -> NodeEvent:
    return NodeEvent(
        NodeId(r.node_id),
        NodeState(r.from_state) if r.from_state else None,
        NodeState(r.to_state),
        r.at,
        r.reason,
        r.actor,
        RecommendedAction(r.action) if r.action else None,
    )


def _outage(r: Any) -> Outage:
    return Outage(
        AllocationId(r.allocation_id),
        TenantId(r.tenant_id),
        NodeId(r.node_id),
        r.gpus,
        r.start_at,
        r.end_at,
        r.shape,
    )


class SqlHealthStore(SqlTenantRecords):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, node: NodeId) -> NodeHealth | None:
        with self._read() as c, c.begin():
            r = c.execute(select(t.health_nodes).where(t.health_nodes.c.node_id == node)).first()
        return _health(r) if r else None

    def all(self) -> list[NodeHealth]:
        with self._read() as c, c.begin():
            return [_health(r) for r in c.execute(select(t.health_nodes).order_by(t.health_nodes.c.node_id))]

    def get_many(self, nodes: Iterable[NodeId]) -> dict[NodeId, NodeHealth]:
        wanted = sorted(set(nodes))
        out: dict[NodeId, NodeHealth] = {}
        with self._read() as c, c.begin():
            for i in range(0, len(wanted), CHUNK):
                q = select(t.health_nodes).where(t.health_nodes.c.node_id.in_(wanted[i : i + CHUNK]))
                out.update((h.node, h) for h in map(_health, c.execute(q)))
        return out

    def count(self) -> int:
        with self._read() as c, c.begin():
            return int(c.execute(select(func.count()).select_from(t.health_nodes)).scalar_one())

    def add_new(self, healths: Iterable[NodeHealth]) -> int:
        """Insert the records of nodes that have none, in one transaction (a record another process
        inserted meanwhile is kept; the insert is retried without it)."""
        fresh = {h.node: h for h in healths}
        if not fresh:
            return 0
        n = t.health_nodes.c
        for _ in range(3):
            try:
                with self.engine.begin() as c:
                    ids = sorted(fresh)
                    have: set[str] = set()
                    for i in range(0, len(ids), CHUNK):
                        have.update(
                            c.execute(select(n.node_id).where(n.node_id.in_(ids[i : i + CHUNK]))).scalars()
                        )
                    rows = [
                        {"node_id": h.node, "version": 1, **_health_row(h)}
                        for k, h in fresh.items()
                        if k not in have
                    ]
                    for i in range(0, len(rows), CHUNK):
                        c.execute(insert(t.health_nodes), rows[i : i + CHUNK])
                    return len(rows)
            except IntegrityError:
                continue  # another process added some of them meanwhile: read again
        raise Conflict("nodes' health records changed meanwhile; retry")

    def save(self, health: NodeHealth, event: NodeEvent | None, *, expected: NodeHealth | None) -> None:
        n = t.health_nodes.c
        with self.engine.begin() as c:
            row = c.execute(select(t.health_nodes).where(n.node_id == health.node).with_for_update()).first()
            if (row is None) != (expected is None) or (row is not None and _health(row) != expected):
                raise Conflict(f"node {health.node} changed meanwhile; retry", details={"node": health.node})
            if row is None:
                try:
                    c.execute(
                        insert(t.health_nodes).values(node_id=health.node, version=1, **_health_row(health))
                    )
                except IntegrityError as err:
                    raise Conflict(f"node {health.node} changed meanwhile; retry") from err
            else:
                done = c.execute(
                    update(t.health_nodes)
                    .where(n.node_id == health.node, n.version == row.version)
                    .values(version=row.version + 1, **_health_row(health))
                )
                if done.rowcount != 1:
                    raise Conflict(f"node {health.node} changed meanwhile; retry")
            if event is not None:
                c.execute(
                    insert(t.health_node_events).values(
                        node_id=event.node,
                        from_state=event.from_state.value if event.from_state else None,
                        to_state=event.to_state.value,
                        at=event.at,
                        reason=event.reason,
                        actor=event.actor[:64],
                        action=event.action.value if event.action else None,
                    )
                )

    def events(
        self, node: NodeId | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[NodeEvent]:
        e = t.health_node_events.c
        q = select(t.health_node_events)
        if node is not None:
            q = q.where(e.node_id == node)
        if since is not None:
            q = q.where(e.at >= since)
        with self._read() as c, c.begin():
            rows = list(c.execute(q.order_by(e.id.desc()).limit(limit)))
        return [_event(r) for r in reversed(rows)]

    def add_observation(self, obs: HealthObservation, outcome: str) -> int:
        with self.engine.begin() as c:
            done = c.execute(
                insert(t.health_observations).values(
                    node_id=obs.node,
                    component=obs.component.value,
                    severity=obs.severity.value,
                    code=obs.code,
                    action=obs.action.value,
                    at=obs.at,
                    source=obs.source,
                    message=obs.message,
                    outcome=outcome,
                )
            )
            pk = done.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def observations(self, node: NodeId | None = None, limit: int = 100) -> list[RecordedObservation]:
        o = t.health_observations.c
        q = select(t.health_observations)
        if node is not None:
            q = q.where(o.node_id == node)
        with self._read() as c, c.begin():
            rows = list(c.execute(q.order_by(o.id.desc()).limit(limit)))
        return [
            RecordedObservation(
                int(r.id),
                HealthObservation(
                    NodeId(r.node_id),
                    Component(r.component),
                    Severity(r.severity),
                    r.code,
                    RecommendedAction(r.action),
                    r.at,
                    r.source,
                    r.message,
                ),
                r.outcome,
            )
            for r in reversed(rows)
        ]

    def observation_counts(self) -> dict[tuple[str, str], int]:
        o = t.health_observations.c
        q = select(o.component, o.action, func.count()).group_by(o.component, o.action)
        with self._read() as c, c.begin():
            return {(r[0], r[1]): int(r[2]) for r in c.execute(q)}

    def open_outage(self, outage: Outage) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(t.health_outages).values(
                    allocation_id=outage.allocation,
                    tenant_id=outage.tenant,
                    node_id=outage.node,
                    gpus=outage.gpus,
                    start_at=outage.start,
                    end_at=outage.end,
                    shape=outage.shape,
                )
            )

    def close_outages(
        self, node: NodeId, at: datetime, allocation: AllocationId | None = None
    ) -> list[Outage]:
        o = t.health_outages.c
        q = select(t.health_outages).where(o.node_id == node, o.end_at.is_(None))
        if allocation is not None:
            q = q.where(o.allocation_id == allocation)
        closed = []
        with self.engine.begin() as c:
            for r in list(c.execute(q.order_by(o.id).with_for_update())):
                end = max(at, r.start_at)
                c.execute(update(t.health_outages).where(o.id == r.id).values(end_at=end))
                closed.append(_outage(r))
        return [
            Outage(x.allocation, x.tenant, x.node, x.gpus, x.start, max(at, x.start), x.shape) for x in closed
        ]

    def outages(self, allocation: AllocationId | None = None, since: datetime | None = None) -> list[Outage]:
        o = t.health_outages.c
        q = select(t.health_outages)
        if allocation is not None:
            q = q.where(o.allocation_id == allocation)
        if since is not None:
            q = q.where(or_(o.end_at.is_(None), o.end_at > since))
        with self._read() as c, c.begin():
            return [_outage(r) for r in c.execute(q.order_by(o.id))]
