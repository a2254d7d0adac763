"""What the app layer returns to the edge (API, CLI, console) and the requests it takes.

Plain frozen dataclasses: no ORM objects, no pydantic. Times are tz-aware UTC datetimes; money is a
decimal string plus an ISO currency code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from neocloud.control.domain.tenancy import Role

T = TypeVar("T")

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class PageRequest:
    """`limit` items (1..500) after the opaque `cursor` of the previous page (None: the first page)."""

    limit: int = 100
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """`total` counts the items from this page on (this page's and all later pages'): on the first page,
    the whole list."""

    items: list[T]
    next_cursor: str | None
    total: int


@dataclass(frozen=True, slots=True)
class TenantView:
    id: str
    name: str
    created_at: datetime
    suspended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProjectView:
    id: str
    tenant_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenView:
    id: str
    tenant_id: str | None
    role: Role
    created_at: datetime
    prefix: str
    project_id: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit entry as the caller may see it (see control/app/audit.py)."""

    id: str
    at: datetime
    actor: str
    actor_tenant_id: str | None
    action: str
    target: str
    tenant_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QuotaView:
    tenant_id: str
    project_id: str | None
    model: str
    gpus: int


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node; `gpu_allocations[slot]` is the id of the allocation holding that GPU now (None: free,
    or held by another tenant when a tenant is asking)."""

    id: str
    model: str
    gpus: int
    path: str
    state: str
    gpu_allocations: list[str | None]


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """`gpus` GPUs of `model` for `hours` from `start` (None: now), in a `shape`
    ("any", "whole-nodes", "whole-nvl72", "one-fabric"), charged to `project` (id or name; None: the
    token's project, else the tenant's first project)."""

    model: str
    gpus: int
    hours: int
    start: datetime | None = None
    shape: str = "any"
    project: str | None = None


@dataclass(frozen=True, slots=True)
class InstanceRequest:
    """`nodes` whole nodes of `model`, starting now until stopped; `spot` ones are cheaper and preemptible."""

    model: str
    nodes: int = 1
    spot: bool = False
    project: str | None = None


@dataclass(frozen=True, slots=True)
class QuoteView:
    """`start` is the earliest instant >= the asked start at which the shape fits (None when it never
    does within the search horizon); `reasons` are the placement engine's, for the asked start."""

    model: str
    gpus: int
    shape: str
    start: datetime | None
    end: datetime | None
    price_total: str
    currency: str
    unit_price: str
    feasible: bool
    reasons: dict[str, int]
    message: str


@dataclass(frozen=True, slots=True)
class ReservationView:
    id: str
    tenant_id: str
    project_id: str
    model: str
    gpus: int
    shape: str
    start: datetime
    end: datetime
    state: str
    price_total: str
    currency: str
    allocation_id: str | None
    nodes: list[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InstanceView:
    id: str
    tenant_id: str
    project_id: str
    model: str
    nodes_requested: int
    spot: bool
    state: str
    nodes: list[str]
    gpus: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    preempted_at: datetime | None
    notice_until: datetime | None
    price_per_hour: str = "0"
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class EventView:
    allocation_id: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class CalendarSlot:
    """Over [start, end): GPUs of the model free for the whole slot, and the largest request of the
    shape that fits in it."""

    start: datetime
    end: datetime
    free_gpus: int
    max_request_gpus: int


@dataclass(frozen=True, slots=True)
class CalendarView:
    model: str
    shape: str
    slots: list[CalendarSlot]


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    started: int = 0
    provisioned: int = 0
    ended: int = 0
    preempted: int = 0
    failed: int = 0
    details: list[str] = field(default_factory=list)
    ending: int = 0

    @property
    def total(self) -> int:
        """Every transition this pass made."""
        return self.started + self.provisioned + self.ending + self.ended + self.preempted + self.failed
