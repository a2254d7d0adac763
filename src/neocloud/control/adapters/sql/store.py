"""The SQL UnitOfWork (SQLite or PostgreSQL), mapping rows to domain objects and back.

Concurrency: a capacity decision locks the node rows it books (`claim_nodes`: FOR UPDATE, or FOR UPDATE
SKIP LOCKED so concurrent decisions spread over different nodes instead of queueing) on PostgreSQL, so
decisions on different nodes run in parallel across processes, and bookings read after the claim are
current for those nodes. On SQLite every writing transaction is BEGIN IMMEDIATE (one writer at a time;
a read-only unit of work begins DEFERRED and reads its WAL snapshot beside the writer), so every node
is claimed at once. PostgreSQL's exclusion constraint on allocation_gpus is a second guard. The
reconciler locks allocation rows with FOR UPDATE SKIP LOCKED. (The capacity_locks table of 0001 is no
longer used.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from neocloud.control.adapters.sql import tables as t
from neocloud.control.domain.allocations import LIVE, Allocation, Event, GpuBooking
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Role, Tenant, Token
from neocloud.fleet.fleet import Node
from neocloud.infra.engine import read_only
from neocloud.kernel.audit import Actor, AuditEntry, AuditRecord
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product, State


class SqlStore:
    """Makes units of work on one engine: `store()` is a new SqlUnitOfWork, `store(read_only=True)` one
    that only reads (on SQLite it never takes the write lock)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)


def _tenant(r: Any) -> Tenant:
    return Tenant(TenantId(r.id), r.name, r.created_at, r.suspended_at)


def _token(r: Any) -> Token:
    return Token(r.id, r.secret_hash, r.prefix, Role(r.role), TenantId(r.tenant_id) if r.tenant_id else None,
                 ProjectId(r.project_id) if r.project_id else None, r.created_at, r.expires_at, r.revoked_at)


def _audit(r: Any) -> AuditRecord:
    return AuditRecord(int(r.seq), AuditEntry(r.at, Actor(r.actor, r.actor_tenant_id), r.action, r.target,
                                              r.tenant_id, json.loads(r.details)))


def _project(r: Any) -> Project:
    return Project(ProjectId(r.id), TenantId(r.tenant_id), r.name, r.created_at)


def _alloc(r: Any) -> Allocation:
    return Allocation(
        AllocationId(r.id), TenantId(r.tenant_id), ProjectId(r.project_id), Product(r.product), r.model, r.gpus,
        r.start_at, r.end_at, State(r.state), r.created_at, tuple(NodeId(n) for n in json.loads(r.nodes)),
        r.nodes_requested, r.shape, r.price_minor, r.currency, r.idempotency_key, r.started_at, r.ended_at,
        r.preempted_at, r.notice_until, r.request_digest,
    )


def _alloc_row(a: Allocation) -> dict[str, Any]:
    return {
        "id": a.id, "tenant_id": a.tenant_id, "project_id": a.project_id, "product": a.product.value,
        "model": a.model, "gpus": a.gpus, "start_at": a.start, "end_at": a.end, "state": a.state.value,
        "created_at": a.created_at, "nodes": json.dumps(list(a.nodes)), "nodes_requested": a.nodes_requested,
        "shape": a.shape, "price_minor": a.price_minor, "currency": a.currency,
        "idempotency_key": a.idempotency_key, "started_at": a.started_at, "ended_at": a.ended_at,
        "preempted_at": a.preempted_at, "notice_until": a.notice_until, "request_digest": a.request_digest,
    }


def _booking(r: Any) -> GpuBooking:
    return GpuBooking(AllocationId(r.allocation_id), NodeId(r.node_id), r.slot, r.start_at, r.end_at)


def _overlapping(start: datetime, end: datetime | None) -> Any:
    g = t.allocation_gpus.c
    cond = and_(or_(g.end_at.is_(None), and_(g.end_at > start, g.end_at > g.start_at)))
    return cond if end is None else and_(cond, g.start_at < end)


class SqlUnitOfWork:
    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._conn: Connection | None = None

    @property
    def c(self) -> Connection:
        assert self._conn is not None, "use the unit of work inside `with`"
        return self._conn

    def __enter__(self) -> SqlUnitOfWork:
        self._conn = self._engine.connect()
        if self._read_only:
            read_only(self._conn)
        self._conn.begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.rollback()
            conn.close()

    def commit(self) -> None:
        self.c.commit()
        self.c.begin()

    @property
    def _pg(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def _page(self, query: Select[Any], id_col: Any, after: str | None, limit: int) -> tuple[list[Any], int]:
        if after is not None:
            query = query.where(id_col > after)
        total = self.c.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = list(self.c.execute(query.order_by(id_col).limit(limit)).all())
        return rows, int(total)

    # tenancy
    def _insert(self, what: str, stmt: Any) -> None:
        """Insert; a unique-constraint race lost to another process becomes a Conflict, not a 500."""
        try:
            with self.c.begin_nested():
                self.c.execute(stmt)
        except IntegrityError as err:
            raise Conflict(f"{what} already exists") from err

    def add_tenant(self, tenant: Tenant) -> None:
        self._insert(f"a tenant named {tenant.name!r}", insert(t.tenants).values(
            id=tenant.id, name=tenant.name, created_at=tenant.created_at, suspended_at=tenant.suspended_at))

    def update_tenant(self, tenant: Tenant) -> None:
        self.c.execute(update(t.tenants).where(t.tenants.c.id == tenant.id).values(
            name=tenant.name, suspended_at=tenant.suspended_at))

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        r = self.c.execute(select(t.tenants).where(t.tenants.c.id == tenant_id)).first()
        return _tenant(r) if r else None

    def tenant_by_name(self, name: str) -> Tenant | None:
        r = self.c.execute(select(t.tenants).where(t.tenants.c.name == name)).first()
        return _tenant(r) if r else None

    def list_tenants(self, ids: Sequence[str] | None, after: str | None, limit: int) -> tuple[list[Tenant], int]:
        q = select(t.tenants)
        if ids is not None:
            q = q.where(t.tenants.c.id.in_(list(ids)))
        rows, total = self._page(q, t.tenants.c.id, after, limit)
        return [_tenant(r) for r in rows], total

    def add_project(self, project: Project) -> None:
        self._insert(f"a project named {project.name!r}", insert(t.projects).values(
            id=project.id, tenant_id=project.tenant_id, name=project.name, created_at=project.created_at))

    def get_project(self, project_id: str) -> Project | None:
        r = self.c.execute(select(t.projects).where(t.projects.c.id == project_id)).first()
        return _project(r) if r else None

    def project_by_name(self, tenant_id: str, name: str) -> Project | None:
        r = self.c.execute(select(t.projects).where(t.projects.c.tenant_id == tenant_id, t.projects.c.name == name)).first()
        return _project(r) if r else None

    def list_projects(self, tenant_id: str | None, after: str | None, limit: int) -> tuple[list[Project], int]:
        q = select(t.projects)
        if tenant_id is not None:
            q = q.where(t.projects.c.tenant_id == tenant_id)
        rows, total = self._page(q, t.projects.c.id, after, limit)
        return [_project(r) for r in rows], total

    def add_token(self, token: Token) -> None:
        self.c.execute(insert(t.tokens).values(
            id=token.id, secret_hash=token.secret_hash, prefix=token.prefix, role=token.role.value,
            tenant_id=token.tenant_id, project_id=token.project_id, created_at=token.created_at,
            expires_at=token.expires_at, revoked_at=token.revoked_at))

    def token_by_hash(self, secret_hash: str) -> Token | None:
        r = self.c.execute(select(t.tokens).where(t.tokens.c.secret_hash == secret_hash)).first()
        return _token(r) if r else None

    def get_token(self, token_id: str) -> Token | None:
        r = self.c.execute(select(t.tokens).where(t.tokens.c.id == token_id)).first()
        return _token(r) if r else None

    def list_tokens(self, tenant_id: str | None, after: str | None, limit: int) -> tuple[list[Token], int]:
        q = select(t.tokens)
        if tenant_id is not None:
            q = q.where(t.tokens.c.tenant_id == tenant_id)
        rows, total = self._page(q, t.tokens.c.id, after, limit)
        return [_token(r) for r in rows], total

    def revoke_token(self, token_id: str, at: datetime) -> None:
        self.c.execute(update(t.tokens).where(t.tokens.c.id == token_id).values(revoked_at=at))

    def auth_epoch(self) -> int:
        version = self.c.execute(select(t.auth_epoch.c.version).where(t.auth_epoch.c.id == 1)).scalar()
        return int(version or 0)

    def bump_auth_epoch(self) -> None:
        e = t.auth_epoch
        ins = (pg_insert if self._pg else sqlite_insert)(e).values(id=1, version=1)
        self.c.execute(ins.on_conflict_do_update(index_elements=[e.c.id], set_={"version": e.c.version + 1}))

    # the audit trail (append-only: no update, no delete; the schema's triggers refuse both)
    def add_audit(self, entry: AuditEntry) -> None:
        self.c.execute(insert(t.audit_log).values(
            at=entry.at, actor=entry.actor.id, actor_tenant_id=entry.actor.tenant_id, action=entry.action,
            target=entry.target, tenant_id=entry.tenant_id, details=json.dumps(dict(entry.details), sort_keys=True)))

    def audit_entries(
        self, tenant_id: str | None, action: str | None, since: datetime | None, after: int | None, limit: int,
    ) -> tuple[list[AuditRecord], int]:
        a = t.audit_log.c
        q = select(t.audit_log)
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        if action is not None:
            q = q.where(a.action == action)
        if since is not None:
            q = q.where(a.at >= since)
        if after is not None:
            q = q.where(a.seq > after)
        total = self.c.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        return [_audit(r) for r in self.c.execute(q.order_by(a.seq).limit(limit))], int(total)

    def put_quota(self, quota: Quota) -> None:
        key = {"tenant_id": quota.tenant_id, "project_key": quota.project_id or "", "model": quota.model}
        done = self.c.execute(update(t.quotas).where(*(t.quotas.c[k] == v for k, v in key.items())).values(gpus=quota.gpus))
        if done.rowcount == 0:
            self.c.execute(insert(t.quotas).values(**key, gpus=quota.gpus))

    def quotas(self, tenant_id: str | None) -> list[Quota]:
        q = select(t.quotas).order_by(t.quotas.c.tenant_id, t.quotas.c.project_key, t.quotas.c.model)
        if tenant_id is not None:
            q = q.where(t.quotas.c.tenant_id == tenant_id)
        return [Quota(TenantId(r.tenant_id), ProjectId(r.project_key) if r.project_key else None, r.model, r.gpus)
                for r in self.c.execute(q)]

    # fleet
    def add_nodes(self, nodes: Sequence[Node]) -> int:
        have = set(self.c.execute(select(t.nodes.c.id)).scalars())
        start = self.c.execute(select(func.coalesce(func.max(t.nodes.c.ordinal), -1))).scalar_one() + 1
        rows = [
            {"id": n.id, "ordinal": start + i, "model": n.model, "gpus": n.gpus, "cpu_milli": n.cpu_milli,
             "memory_mib": n.memory_mib, "nvlink": n.nvlink, "rack": n.rack, "leaf": n.leaf, "su": n.su,
             "fabric": n.fabric, "hall": n.hall, "site": n.site, "state": "ready"}
            for i, n in enumerate(n for n in nodes if n.id not in have)
        ]
        if rows:
            self.c.execute(insert(t.nodes), rows)
        for model in sorted({r["model"] for r in rows}):
            ins = (pg_insert if self._pg else sqlite_insert)(t.capacity_locks).values(model=model, version=0)
            self.c.execute(ins.on_conflict_do_nothing())
        return len(rows)

    def nodes(self, model: str | None = None) -> list[Node]:
        q = select(t.nodes).order_by(t.nodes.c.ordinal)
        if model is not None:
            q = q.where(t.nodes.c.model == model)
        return [Node(NodeId(r.id), r.model, r.gpus, r.cpu_milli, r.memory_mib, r.rack, r.nvlink, r.leaf, r.su,
                     r.fabric, r.hall, r.site) for r in self.c.execute(q)]

    def node_version(self, model: str) -> str:
        """Nodes are only ever added (with a growing ordinal), so count and last ordinal identify the set."""
        row = self.c.execute(select(func.count(), func.max(t.nodes.c.ordinal)).where(t.nodes.c.model == model)).one()
        return f"{row[0]}:{row[1]}"

    def node_states(self) -> dict[str, str]:
        q = select(t.nodes.c.id, t.nodes.c.state).where(t.nodes.c.state != "ready")
        return {r.id: r.state for r in self.c.execute(q)}

    def set_node_state(self, node_id: str, state: str) -> bool:
        done = self.c.execute(update(t.nodes).where(t.nodes.c.id == node_id).values(state=state))
        return bool(done.rowcount)

    def add_maintenance(self, window: NodeMaintenance) -> None:
        self.c.execute(insert(t.node_maintenance).values(
            id=window.id, node_id=window.node_id, start_at=window.start, end_at=window.end, reason=window.reason))

    def maintenance(self, node_id: str | None = None) -> list[NodeMaintenance]:
        m = t.node_maintenance.c
        q = select(t.node_maintenance).order_by(m.start_at, m.id)
        if node_id is not None:
            q = q.where(m.node_id == node_id)
        return [NodeMaintenance(r.id, NodeId(r.node_id), r.start_at, r.end_at, r.reason) for r in self.c.execute(q)]

    def delete_maintenance(self, window_id: str) -> bool:
        return bool(self.c.execute(delete(t.node_maintenance).where(t.node_maintenance.c.id == window_id)).rowcount)

    def claim_nodes(self, node_ids: Sequence[str], *, wait: bool) -> set[str]:
        if not node_ids or not self._pg:
            return set(node_ids)  # SQLite: BEGIN IMMEDIATE made this unit of work the one writer
        q = select(t.nodes.c.id).where(t.nodes.c.id.in_(list(node_ids))).with_for_update(skip_locked=not wait)
        return {r.id for r in self.c.execute(q)}

    def lock_tenant(self, tenant_id: str) -> None:
        if self._pg:
            self.c.execute(select(t.tenants.c.id).where(t.tenants.c.id == tenant_id).with_for_update()).first()

    # allocations
    def add_allocation(self, alloc: Allocation) -> None:
        try:
            self.c.execute(insert(t.allocations).values(**_alloc_row(alloc)))
        except IntegrityError as err:
            raise Conflict(f"allocation {alloc.id} clashes with a stored one (id or idempotency key)") from err

    def update_allocation(self, alloc: Allocation) -> None:
        row = _alloc_row(alloc)
        row.pop("id")
        self.c.execute(update(t.allocations).where(t.allocations.c.id == alloc.id).values(**row))

    def get_allocation(self, allocation_id: str, *, lock: bool = False, skip_locked: bool = False) -> Allocation | None:
        q = select(t.allocations).where(t.allocations.c.id == allocation_id)
        if lock:
            q = q.with_for_update(skip_locked=skip_locked)
        r = self.c.execute(q).first()
        return _alloc(r) if r else None

    def allocation_by_key(self, tenant_id: str, idempotency_key: str) -> Allocation | None:
        a = t.allocations.c
        r = self.c.execute(select(t.allocations).where(a.tenant_id == tenant_id, a.idempotency_key == idempotency_key)).first()
        return _alloc(r) if r else None

    def list_allocations(
        self, tenant_id: str | None, products: Sequence[Product], states: Sequence[State] | None,
        after: str | None, limit: int,
    ) -> tuple[list[Allocation], int]:
        a = t.allocations.c
        q = select(t.allocations).where(a.product.in_([p.value for p in products]))
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        if states is not None:
            q = q.where(a.state.in_([s.value for s in states]))
        rows, total = self._page(q, a.id, after, limit)
        return [_alloc(r) for r in rows], total

    def _live(self, cols: Any, model: str, start: datetime, end: datetime | None) -> Select[Any]:
        a = t.allocations.c
        q = select(*cols).where(
            a.state.in_([s.value for s in LIVE]), a.model == model, or_(a.end_at.is_(None), a.end_at > start))
        return q.where(a.start_at < end) if end is not None else q

    def live_allocations(
        self, tenant_id: TenantId | None, model: str, start: datetime, end: datetime | None,
        project_id: ProjectId | None = None, product: Product | None = None,
    ) -> list[Allocation]:
        a = t.allocations.c
        q = self._live([t.allocations], model, start, end)
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        if project_id is not None:
            q = q.where(a.project_id == project_id)
        if product is not None:
            q = q.where(a.product == product.value)
        return [_alloc(r) for r in self.c.execute(q.order_by(a.id))]

    def held(
        self, tenant_id: TenantId, model: str, start: datetime, end: datetime | None
    ) -> list[tuple[datetime, datetime | None, int, str]]:
        a = t.allocations.c
        q = self._live([a.start_at, a.end_at, a.gpus, a.project_id], model, start, end).where(a.tenant_id == tenant_id)
        return [(r.start_at, r.end_at, r.gpus, r.project_id) for r in self.c.execute(q)]

    def due(self, now: datetime, limit: int) -> list[Allocation]:
        a = t.allocations.c
        noticed = and_(a.notice_until.is_not(None), a.notice_until <= now)
        ended = and_(a.end_at.is_not(None), a.end_at <= now)
        q = select(t.allocations).where(or_(
            and_(a.state == State.SCHEDULED.value, or_(a.start_at <= now, noticed)),
            a.state.in_([State.PROVISIONING.value, State.ENDING.value]),
            and_(a.state == State.ACTIVE.value, or_(ended, noticed)),
        )).order_by(a.id).limit(limit)
        return [_alloc(r) for r in self.c.execute(q)]

    def add_bookings(self, bookings: Sequence[GpuBooking]) -> None:
        if not bookings:
            return
        try:
            self.c.execute(insert(t.allocation_gpus), [
                {"allocation_id": b.allocation_id, "node_id": b.node_id, "slot": b.slot, "start_at": b.start,
                 "end_at": b.end} for b in bookings])
        except IntegrityError as err:  # the exclusion constraint: a GPU already booked at some instant
            raise Conflict("a GPU of this placement is already booked for part of the window",
                           details={"reasons": {"gpu-already-booked": 1}}) from err

    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> list[GpuBooking]:
        g = t.allocation_gpus
        q = select(g).join(t.nodes, t.nodes.c.id == g.c.node_id).where(t.nodes.c.model == model, _overlapping(start, end))
        if nodes is not None:
            q = q.where(g.c.node_id.in_(list(nodes)))
        found = [_booking(r) for r in self.c.execute(q.order_by(g.c.id))]
        m = t.node_maintenance.c
        mq = select(t.node_maintenance, t.nodes.c.gpus).join(t.nodes, t.nodes.c.id == m.node_id).where(
            t.nodes.c.model == model, m.end_at > start)
        if end is not None:
            mq = mq.where(m.start_at < end)
        if nodes is not None:
            mq = mq.where(m.node_id.in_(list(nodes)))
        for r in self.c.execute(mq.order_by(m.id)):
            found.extend(NodeMaintenance(r.id, NodeId(r.node_id), r.start_at, r.end_at, r.reason).bookings(r.gpus))
        return found

    def bookings_of(self, allocation_id: str) -> list[GpuBooking]:
        g = t.allocation_gpus
        return [_booking(r) for r in self.c.execute(select(g).where(g.c.allocation_id == allocation_id).order_by(g.c.id))]

    def end_bookings(self, allocation_id: str, at: datetime) -> None:
        g = t.allocation_gpus.c
        self.c.execute(update(t.allocation_gpus).where(g.allocation_id == allocation_id).values(end_at=at))

    def end_node_bookings(self, allocation_id: str, node_id: str, at: datetime) -> None:
        g = t.allocation_gpus.c
        self.c.execute(update(t.allocation_gpus).where(
            g.allocation_id == allocation_id, g.node_id == node_id, or_(g.end_at.is_(None), g.end_at > at),
        ).values(end_at=case((g.start_at > at, g.start_at), else_=at)))

    def add_event(self, event: Event) -> None:
        self.c.execute(insert(t.events).values(
            allocation_id=event.allocation_id, tenant_id=event.tenant_id, project_id=event.project_id,
            product=event.product.value, model=event.model, gpus=event.gpus, nodes=json.dumps(list(event.nodes)),
            from_state=event.from_state.value if event.from_state else None, to_state=event.to_state.value,
            at=event.at, reason=event.reason))

    def events(self, allocation_id: str) -> list[Event]:
        e = t.events.c
        rows = self.c.execute(select(t.events).where(e.allocation_id == allocation_id).order_by(e.id))
        return [Event(AllocationId(r.allocation_id), TenantId(r.tenant_id), ProjectId(r.project_id), Product(r.product),
                      r.model, r.gpus, tuple(NodeId(n) for n in json.loads(r.nodes)),
                      State(r.from_state) if r.from_state else None, State(r.to_state), r.at, r.reason) for r in rows]
