"""Ports: what the use cases need from the outside world. Every port has an in-package in-memory
implementation under neocloud.adapters (STYLE.md example 8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Protocol

from neocloud.control.domain.allocations import Allocation, Event, GpuBooking
from neocloud.control.domain.booked import BookedGpus
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.fleet.fleet import Node
from neocloud.kernel.audit import AuditEntry, AuditRecord
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product, State


class IdSource(Protocol):
    def new_id(self, prefix: str) -> str:
        """A fresh unique id such as 'rsv_3f9a…'."""
        ...

    def secret(self) -> str:
        """At least 32 URL-safe random characters for an API token."""
        ...


@dataclass(frozen=True, slots=True)
class Grant:
    """What a provisioner makes real for one allocation: `nodes` for the tenant's project over
    [start, end) (end None: until stopped). A spot instance under notice ends at `notice_until`; its
    jobs are told from `notice_at` (the notice period before it)."""

    allocation_id: AllocationId
    tenant_id: TenantId
    project_id: ProjectId
    product: Product
    nodes: tuple[NodeId, ...]
    start: datetime
    end: datetime | None
    notice_until: datetime | None = None
    notice_at: datetime | None = None

    @staticmethod
    def of(alloc: Allocation) -> Grant:
        return Grant(
            alloc.id,
            alloc.tenant_id,
            alloc.project_id,
            alloc.product,
            alloc.nodes,
            alloc.start,
            alloc.end,
            alloc.notice_until,
            alloc.preempted_at,
        )

    @property
    def until(self) -> datetime | None:
        """When the GPUs go back: the notice when there is one, else the end."""
        if self.notice_until is not None and (self.end is None or self.notice_until < self.end):
            return self.notice_until
        return self.end


@dataclass(frozen=True, slots=True)
class Convergence:
    """What one `Provisioner.converge` pass changed, by allocation id, and what it could not do (id →
    the cause, e.g. "slurmctld unreachable")."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()


class ProvisionError(Exception):
    """The provisioner could not do what was asked now; `cause` names why (the reconciler records it in
    an event and retries with backoff)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class Provisioner(Protocol):
    """Turns allocated nodes into running machines. Every call is idempotent (the reconciler may repeat
    one after a crash) and is made outside any database transaction.

    `provision` makes `grant` real (creates it, or fixes what differs: nodes, window); `release` undoes
    it. `converge` compares the provisioner's actual state with every grant neocloud holds (those that
    start before now + `horizon()`) and repairs it: creates what is missing, deletes what neocloud no
    longer holds, fixes what differs (an extension, a stop, a notice, a node replacement, a hand edit).
    `horizon()` None means the provisioner keeps no state of its own to converge (the fake)."""

    def provision(self, grant: Grant) -> None: ...

    def is_ready(self, allocation_id: AllocationId) -> bool: ...

    def release(self, allocation_id: AllocationId, nodes: Sequence[NodeId]) -> None: ...

    def horizon(self) -> timedelta | None: ...

    def converge(self, grants: Callable[[], Sequence[Grant]], now: datetime) -> Convergence:
        """Make the cluster hold exactly the grants: the cluster's state is read first, then `grants()`
        (what neocloud holds), so a grant made or moved by another process in between is never taken
        for one to delete or revert."""
        ...


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as the cluster's accounting recorded it: `gpus` over [start, end) (end None: running) on
    `nodes`, under `account` (whose neocloud project is `project_id`; None: not a neocloud account)."""

    job_id: str
    user: str
    account: str
    project_id: ProjectId | None
    nodes: tuple[NodeId, ...]
    gpus: int
    start: datetime
    end: datetime | None
    state: str
    name: str = ""


class JobAccounting(Protocol):
    """The cluster's job accounting (Slurm: sacct on slurmdbd)."""

    def jobs(
        self, start: datetime, end: datetime, project_ids: Sequence[str] | None = None
    ) -> list[JobRecord]:
        """Jobs that ran (or run) at some instant of [start, end), of those projects only when given."""
        ...


class ClusterAccounts(Protocol):
    """The cluster's accounts and users for neocloud's tenants (Slurm: sacctmgr). A tenant's users may
    run jobs under its projects' accounts; the cluster's association table is the record."""

    def users(self, tenant_id: str, project_ids: Sequence[str]) -> list[str]: ...

    def add_user(self, tenant_id: str, project_ids: Sequence[str], user: str) -> None: ...

    def remove_user(self, tenant_id: str, project_ids: Sequence[str], user: str) -> None: ...

    def tenants_of(self, user: str) -> set[str]:
        """The tenants whose accounts `user` is a user of."""
        ...


class AccessGuide(Protocol):
    """How a tenant runs in an allocation on the cluster: a mapping with `reservation`, `account`,
    `partition`, and example `sbatch` and `srun` command lines."""

    def access(
        self, allocation_id: str, project_id: str, model: str, gpus: int, nodes: int
    ) -> dict[str, str]: ...


class PriceBook(Protocol):
    def gpu_hour(self, model: str, product: Product, tenant_id: str | None) -> Decimal:
        """Price of one GPU-hour of `model` as `product` for `tenant_id` (its contract price where one is
        effective, else list; None: list), in `currency()`; InvalidInput for unpriced models. The price
        a quote, reservation or instance shows is the one its invoice charges."""
        ...

    def currency(self) -> str: ...


class KeyTaken(Conflict):
    """`add_allocation` found the (tenant, idempotency key) of the allocation taken by another unit of
    work that committed meanwhile (the database's unique constraint): the caller starts again and finds it."""


class UnitOfWork(Protocol):
    """One transaction over the control plane's state. `with uow:` begins; `commit()` makes the work
    durable; leaving the block without commit rolls back.

    Capacity decisions lock what they depend on, the nodes they book: `claim_nodes` locks node rows until
    the unit of work ends (`FOR UPDATE`, or `FOR UPDATE SKIP LOCKED` with `wait=False`, which returns only
    the nodes it could lock) on PostgreSQL; on SQLite the single writer and in memory the store's mutex
    already serialise every writing unit of work, so every node is claimed at once. Bookings read after
    the claim are current for those nodes. `lock_tenant` serialises one tenant's quota decisions.
    """

    @property
    def claims_are_current(self) -> bool:
        """Whether this unit of work has been the only writer since it began (SQLite's BEGIN IMMEDIATE,
        the memory store's mutex), so that what it read before claiming nodes is still current and
        admission need not read the bookings again after the claim (control/app/admit.py)."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    # tenants, projects, tokens, quotas
    def add_tenant(self, tenant: Tenant) -> None: ...
    def get_tenant(self, tenant_id: str) -> Tenant | None: ...
    def tenant_by_name(self, name: str) -> Tenant | None: ...
    def list_tenants(
        self, ids: Sequence[str] | None, after: str | None, limit: int
    ) -> tuple[list[Tenant], int]: ...
    def add_project(self, project: Project) -> None: ...
    def get_project(self, project_id: str) -> Project | None: ...
    def project_by_name(self, tenant_id: str, name: str) -> Project | None: ...
    def list_projects(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> tuple[list[Project], int]: ...
    def update_tenant(self, tenant: Tenant) -> None: ...
    def add_token(self, token: Token) -> None: ...
    def token_by_hash(self, secret_hash: str) -> Token | None: ...
    def get_token(self, token_id: str) -> Token | None: ...
    def list_tokens(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> tuple[list[Token], int]: ...
    def revoke_token(self, token_id: str, at: datetime) -> None:
        """Set the token's `revoked_at` (a token is never deleted: the audit trail names it)."""
        ...

    def auth_epoch(self) -> int:
        """A number that changes whenever a token or tenant changes in a way that can refuse a request
        that was allowed before (revoke, suspend, resume). Cheap: one row."""
        ...

    def bump_auth_epoch(self) -> None:
        """Change `auth_epoch()`, in this unit of work (so the change and the bump commit together)."""
        ...

    def put_quota(self, quota: Quota) -> None: ...
    def quotas(self, tenant_id: str | None) -> list[Quota]: ...

    # the audit trail: append-only (no update, no delete)
    def add_audit(self, entry: AuditEntry) -> None: ...
    def audit_entries(
        self,
        tenant_id: str | None,
        action: str | None,
        since: datetime | None,
        after: int | None,
        limit: int,
    ) -> tuple[list[AuditRecord], int]:
        """Entries in the order they were appended, `limit` after position `after`; only `tenant_id`'s
        when it is given, only `action` when given, only at or after `since` when given. The count is of
        all matching entries after `after`."""
        ...

    # fleet
    def add_nodes(self, nodes: Sequence[Node]) -> int: ...
    def nodes(self, model: str | None = None) -> list[Node]: ...
    def node_states(self) -> dict[str, str]:
        """The state of every node that is not 'ready' (absent means ready)."""
        ...

    def node_version(self, model: str) -> str:
        """A value that changes whenever the set of `model` nodes changes (lets callers cache a Fleet)."""
        ...

    def set_node_state(self, node_id: str, state: str) -> bool:
        """Set the node's state ('ready' is the only one placement uses); False for an unknown node."""
        ...

    def add_maintenance(self, window: NodeMaintenance) -> None: ...
    def maintenance(self, node_id: str | None = None) -> list[NodeMaintenance]:
        """Maintenance windows (of `node_id` only, when given), by start. `bookings()` includes them."""
        ...

    def delete_maintenance(self, window_id: str) -> bool: ...

    def claim_nodes(self, node_ids: Sequence[str], *, wait: bool) -> set[str]: ...
    def lock_tenant(self, tenant_id: str) -> None: ...

    # allocations, bookings, events
    def add_allocation(self, alloc: Allocation) -> None: ...
    def update_allocation(self, alloc: Allocation) -> None: ...
    def get_allocation(
        self, allocation_id: str, *, lock: bool = False, skip_locked: bool = False
    ) -> Allocation | None:
        """With `lock`, the row stays locked until the unit of work ends; with `skip_locked` too, None is
        returned at once when another transaction holds it."""
        ...

    def allocation_by_key(self, tenant_id: str, idempotency_key: str) -> Allocation | None: ...
    def list_allocations(
        self,
        tenant_id: str | None,
        products: Sequence[Product],
        states: Sequence[State] | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Allocation], int]: ...
    def allocations_overlapping(
        self, start: datetime, end: datetime, tenant_id: str | None = None
    ) -> list[Allocation]:
        """Every allocation (any product and state; of `tenant_id` when named) whose window from its
        start to its `ended_at`, else `end`, else open, meets [start, end), by id: what a report over
        that span reads instead of the whole history."""
        ...

    def live_allocations(
        self,
        tenant_id: TenantId | None,
        model: str,
        start: datetime,
        end: datetime | None,
        project_id: ProjectId | None = None,
        product: Product | None = None,
    ) -> list[Allocation]: ...
    def held(
        self, tenant_id: TenantId, model: str, start: datetime, end: datetime | None
    ) -> list[tuple[datetime, datetime | None, int, str]]:
        """(start, end, gpus, project id) of the tenant's live `model` allocations overlapping [start, end):
        what a quota decision reads, without loading whole allocations."""
        ...

    def due(self, now: datetime, limit: int) -> list[Allocation]: ...
    def add_bookings(self, bookings: Sequence[GpuBooking]) -> None: ...
    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> list[GpuBooking]:
        """Bookings of `model` GPUs (of `nodes` only, when given) that overlap [start, end), maintenance
        windows included (as bookings of all the node's GPUs under the window's id)."""
        ...

    def bookings_yielding(
        self, model: str, start: datetime, now: datetime
    ) -> tuple[list[GpuBooking], set[str]]:
        """`bookings(model, start, None)`, and the ids among their allocations of the live spot ones not
        ended by `now` (they yield their GPUs after the notice period): what a quote reads, in one
        statement on SQL."""
        ...

    def taken(self, model: str, start: datetime, end: datetime) -> dict[str, set[int]]:
        """The GPU slots of each `model` node booked at some instant of [start, end) (nodes with none
        are absent): what `bookings(model, start, end)` says a bounded placement needs, in one row per
        node instead of one object per booking."""
        ...

    def booked(self, model: str, start: datetime, end: datetime | None) -> BookedGpus:
        """The bookings of `model` GPUs as columns (control/domain/booked.py): at least every one that
        `bookings(model, start, end)` returns, maintenance windows included, so a decision asks its
        questions of arrays. Valid until the unit of work's next write."""
        ...

    def bookings_of(self, allocation_id: str) -> list[GpuBooking]: ...
    def end_bookings(self, allocation_id: str, at: datetime) -> None: ...
    def end_node_bookings(self, allocation_id: str, node_id: str, at: datetime) -> None:
        """End the allocation's bookings on one node at `at` (those starting later become empty); its
        bookings that already ended by `at` stay as they are."""
        ...

    def add_event(self, event: Event) -> None: ...
    def events(self, allocation_id: str) -> list[Event]: ...


class UnitOfWorkFactory(Protocol):
    """Makes units of work. `read_only=True` promises the unit of work will only read, so the store may
    run it beside a writer instead of behind it (SQLite begins it DEFERRED rather than IMMEDIATE)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...
