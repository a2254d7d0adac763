"""The in-memory UnitOfWork: the same contract as the SQL store, for tests, the demo and the simulator.

A unit of work holds the store's lock for its whole life (so decisions are serialised, like SQLite's
single writer) and works on shallow copies of the tables; `commit()` publishes them, leaving without
commit discards them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Protocol, TypeVar

from neocloud.control.domain.allocations import LIVE, Allocation, Event, GpuBooking
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.fleet.fleet import Node
from neocloud.kernel.audit import AuditEntry, AuditRecord
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import ProjectId, TenantId
from neocloud.kernel.products import Product, State


@dataclass
class _Tables:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    quotas: dict[tuple[str, str | None, str], Quota] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    node_state: dict[str, str] = field(default_factory=dict)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    bookings: list[GpuBooking] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    auth_epoch: int = 0
    maintenance: dict[str, NodeMaintenance] = field(default_factory=dict)

    def copy(self) -> _Tables:
        return _Tables(
            dict(self.tenants),
            dict(self.projects),
            dict(self.tokens),
            dict(self.quotas),
            dict(self.nodes),
            dict(self.node_state),
            dict(self.allocations),
            list(self.bookings),
            list(self.events),
            list(self.audit),
            self.auth_epoch,
            dict(self.maintenance),
        )


class MemoryStore:
    """The shared state behind every MemoryUnitOfWork made from it; call it to get a new unit of work."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables = _Tables()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        """A unit of work; `read_only` changes nothing here (one lock serialises every unit of work)."""
        return MemoryUnitOfWork(self)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


def _paged(items: list[T], after: str | None, limit: int) -> tuple[list[T], int]:
    ordered = sorted(items, key=lambda x: x.id)
    rest = [x for x in ordered if after is None or x.id > after]
    return rest[:limit], len(rest)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._t = _Tables()

    def __enter__(self) -> MemoryUnitOfWork:
        self._store.lock.acquire()
        self._t = self._store.tables.copy()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._store.lock.release()

    def commit(self) -> None:
        self._store.tables = self._t
        self._t = self._t.copy()

    # tenancy
    def add_tenant(self, tenant: Tenant) -> None:
        if self.tenant_by_name(tenant.name) is not None:
            raise Conflict(f"a tenant named {tenant.name!r} already exists")
        self._t.tenants[tenant.id] = tenant

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self._t.tenants.get(tenant_id)

    def tenant_by_name(self, name: str) -> Tenant | None:
        return next((t for t in self._t.tenants.values() if t.name == name), None)

    def list_tenants(
        self, ids: Sequence[str] | None, after: str | None, limit: int
    ) -> tuple[list[Tenant], int]:
        items = [t for t in self._t.tenants.values() if ids is None or t.id in ids]
        return _paged(items, after, limit)

    def add_project(self, project: Project) -> None:
        if self.project_by_name(project.tenant_id, project.name) is not None:
            raise Conflict(f"a project named {project.name!r} already exists")
        self._t.projects[project.id] = project

    def get_project(self, project_id: str) -> Project | None:
        return self._t.projects.get(project_id)

    def project_by_name(self, tenant_id: str, name: str) -> Project | None:
        return next(
            (p for p in self._t.projects.values() if p.tenant_id == tenant_id and p.name == name), None
        )

    def list_projects(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> tuple[list[Project], int]:
        items = [p for p in self._t.projects.values() if tenant_id is None or p.tenant_id == tenant_id]
        return _paged(items, after, limit)

    def update_tenant(self, tenant: Tenant) -> None:
        self._t.tenants[tenant.id] = tenant

    def add_token(self, token: Token) -> None:
        self._t.tokens[token.secret_hash] = token

    def token_by_hash(self, secret_hash: str) -> Token | None:
        return self._t.tokens.get(secret_hash)

    def get_token(self, token_id: str) -> Token | None:
        return next((t for t in self._t.tokens.values() if t.id == token_id), None)

    def list_tokens(self, tenant_id: str | None, after: str | None, limit: int) -> tuple[list[Token], int]:
        items = [t for t in self._t.tokens.values() if tenant_id is None or t.tenant_id == tenant_id]
        return _paged(items, after, limit)

    def revoke_token(self, token_id: str, at: datetime) -> None:
        token = self.get_token(token_id)
        if token is not None:
            self._t.tokens[token.secret_hash] = replace(token, revoked_at=at)

    def auth_epoch(self) -> int:
        return self._t.auth_epoch

    def bump_auth_epoch(self) -> None:
        self._t.auth_epoch += 1

    # the audit trail
    def add_audit(self, entry: AuditEntry) -> None:
        self._t.audit.append(AuditRecord(len(self._t.audit) + 1, entry))

    def audit_entries(
        self, tenant_id: str | None, action: str | None, since: datetime | None, after: int | None, limit: int
    ) -> tuple[list[AuditRecord], int]:
        rest = [
            r
            for r in self._t.audit
            if (after is None or r.seq > after)
            and (tenant_id is None or r.entry.tenant_id == tenant_id)
            and (action is None or r.entry.action == action)
            and (since is None or r.entry.at >= since)
        ]
        return rest[:limit], len(rest)

    def put_quota(self, quota: Quota) -> None:
        self._t.quotas[(quota.tenant_id, quota.project_id, quota.model)] = quota

    def quotas(self, tenant_id: str | None) -> list[Quota]:
        return sorted(
            (q for q in self._t.quotas.values() if tenant_id is None or q.tenant_id == tenant_id),
            key=lambda q: (q.tenant_id, q.project_id or "", q.model),
        )

    # fleet
    def add_nodes(self, nodes: Sequence[Node]) -> int:
        added = 0
        for n in nodes:
            if n.id not in self._t.nodes:
                self._t.nodes[n.id] = n
                self._t.node_state[n.id] = "ready"
                added += 1
        return added

    def nodes(self, model: str | None = None) -> list[Node]:
        return [n for n in self._t.nodes.values() if model is None or n.model == model]

    def node_version(self, model: str) -> str:
        return str(sum(1 for n in self._t.nodes.values() if n.model == model))

    def node_states(self) -> dict[str, str]:
        return {k: v for k, v in self._t.node_state.items() if v != "ready"}

    def set_node_state(self, node_id: str, state: str) -> bool:
        if node_id not in self._t.nodes:
            return False
        self._t.node_state[node_id] = state
        return True

    def add_maintenance(self, window: NodeMaintenance) -> None:
        self._t.maintenance[window.id] = window

    def maintenance(self, node_id: str | None = None) -> list[NodeMaintenance]:
        found = [w for w in self._t.maintenance.values() if node_id is None or w.node_id == node_id]
        return sorted(found, key=lambda w: (w.start, w.id))

    def delete_maintenance(self, window_id: str) -> bool:
        return self._t.maintenance.pop(window_id, None) is not None

    def claim_nodes(self, node_ids: Sequence[str], *, wait: bool) -> set[str]:
        """The store lock, held since __enter__, already serialises every decision: all are claimed."""
        return set(node_ids)

    def lock_tenant(self, tenant_id: str) -> None:
        """The store lock already serialises every decision."""

    # allocations
    def add_allocation(self, alloc: Allocation) -> None:
        self._t.allocations[alloc.id] = alloc

    def update_allocation(self, alloc: Allocation) -> None:
        self._t.allocations[alloc.id] = alloc

    def get_allocation(
        self, allocation_id: str, *, lock: bool = False, skip_locked: bool = False
    ) -> Allocation | None:
        return self._t.allocations.get(allocation_id)

    def allocation_by_key(self, tenant_id: str, idempotency_key: str) -> Allocation | None:
        return next(
            (
                a
                for a in self._t.allocations.values()
                if a.tenant_id == tenant_id and a.idempotency_key == idempotency_key
            ),
            None,
        )

    def list_allocations(
        self,
        tenant_id: str | None,
        products: Sequence[Product],
        states: Sequence[State] | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Allocation], int]:
        items = [
            a
            for a in self._t.allocations.values()
            if (tenant_id is None or a.tenant_id == tenant_id)
            and a.product in products
            and (states is None or a.state in states)
        ]
        return _paged(items, after, limit)

    def live_allocations(
        self,
        tenant_id: TenantId | None,
        model: str,
        start: datetime,
        end: datetime | None,
        project_id: ProjectId | None = None,
        product: Product | None = None,
    ) -> list[Allocation]:
        return [
            a
            for a in self._t.allocations.values()
            if a.state in LIVE
            and a.model == model
            and (tenant_id is None or a.tenant_id == tenant_id)
            and (project_id is None or a.project_id == project_id)
            and (product is None or a.product is product)
            and (a.end is None or a.end > start)
            and (end is None or a.start < end)
        ]

    def held(
        self, tenant_id: TenantId, model: str, start: datetime, end: datetime | None
    ) -> list[tuple[datetime, datetime | None, int, str]]:
        return [(a.start, a.end, a.gpus, a.project_id) for a in self.live_allocations(tenant_id, model, start, end)]

    def due(self, now: datetime, limit: int) -> list[Allocation]:
        return sorted((a for a in self._t.allocations.values() if _is_due(a, now)), key=lambda a: a.id)[
            :limit
        ]

    def add_bookings(self, bookings: Sequence[GpuBooking]) -> None:
        self._t.bookings.extend(bookings)

    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> list[GpuBooking]:
        ids = {n.id for n in self._t.nodes.values() if n.model == model}
        if nodes is not None:
            ids &= set(nodes)
        found = [b for b in self._t.bookings if b.node_id in ids and b.overlaps(start, end)]
        for w in self._t.maintenance.values():
            if w.node_id in ids:
                found.extend(b for b in w.bookings(self._t.nodes[w.node_id].gpus) if b.overlaps(start, end))
        return found

    def bookings_of(self, allocation_id: str) -> list[GpuBooking]:
        return [b for b in self._t.bookings if b.allocation_id == allocation_id]

    def end_bookings(self, allocation_id: str, at: datetime) -> None:
        self._t.bookings = [
            replace(b, end=at) if b.allocation_id == allocation_id else b for b in self._t.bookings
        ]

    def end_node_bookings(self, allocation_id: str, node_id: str, at: datetime) -> None:
        self._t.bookings = [
            replace(b, end=max(at, b.start))
            if b.allocation_id == allocation_id and b.node_id == node_id and (b.end is None or b.end > at)
            else b
            for b in self._t.bookings
        ]

    def add_event(self, event: Event) -> None:
        self._t.events.append(event)

    def events(self, allocation_id: str) -> list[Event]:
        return [e for e in self._t.events if e.allocation_id == allocation_id]


def _is_due(a: Allocation, now: datetime) -> bool:
    """Whether the reconciler has something to do for `a` at `now` (shared with the SQL store's query)."""
    if a.state is State.SCHEDULED:
        return a.start <= now or (a.notice_until is not None and a.notice_until <= now)
    if a.state is State.PROVISIONING or a.state is State.ENDING:
        return True
    if a.state is State.ACTIVE:
        return (a.end is not None and a.end <= now) or (a.notice_until is not None and a.notice_until <= now)
    return False
