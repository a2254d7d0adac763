"""Wire schemas: what the API accepts and returns (and what /docs and /openapi.json describe).

Inputs are constrained at the edge (ids, names, bounded integers, aware UTC datetimes in a sane range)
so that fuzzed input becomes a 422 here instead of surprising the database. Outputs mirror the app's
views (app/views.py) field by field; `from_view` builds them from those frozen dataclasses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200
MAX_GPUS = 1_000_000
MAX_NODES = 100_000
MAX_HOURS = 24 * 366 * 5
MAX_PAGE = 500

Ident = Annotated[str, StringConstraints(pattern=IDENT_PATTERN)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Role = Literal["operator", "tenant-admin", "tenant-member", "viewer"]
Shape = Literal["any", "whole-nodes", "whole-nvl72", "one-fabric"]


def _utc_in_range(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc_in_range)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    @classmethod
    def from_view(cls, view: Any) -> Any:
        return cls.model_validate(view, from_attributes=True)


# ---- inputs -------------------------------------------------------------------------------------------


class TenantCreate(_In):
    name: Name = Field(description="unique tenant name")


class ProjectCreate(_In):
    tenant_id: Ident
    name: Name


class TokenCreate(_In):
    tenant: Name | None = Field(
        None, description="tenant name; null for an operator or fleet-wide viewer token"
    )
    role: Role
    project: Ident | None = Field(None, description="project id or name new objects go to")


class QuotaSet(_In):
    tenant_id: Ident
    model: Ident = Field(description="GPU model, e.g. H100, GB200")
    gpus: int = Field(ge=0, le=MAX_GPUS, description="GPUs the tenant may hold at once")
    project_id: Ident | None = None


class ReservationCreate(_In):
    model: Ident = Field(description="GPU model, e.g. H100, GB200")
    gpus: int = Field(ge=1, le=MAX_GPUS)
    hours: int = Field(ge=1, le=MAX_HOURS)
    start: UtcDatetime | None = Field(None, description="earliest start; now when omitted")
    shape: Shape = Field("any", description="any GPUs, whole nodes, whole NVL72 racks, or one fabric")
    project: Ident | None = None


class ReservationExtend(_In):
    hours: int = Field(ge=1, le=MAX_HOURS)


class InstanceCreate(_In):
    model: Ident
    nodes: int = Field(ge=1, le=MAX_NODES)
    spot: bool = False
    project: Ident | None = None


# ---- outputs ------------------------------------------------------------------------------------------

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= to get the next page; null on the last")
    total: int


class Health(BaseModel):
    status: str


class WhoAmI(_Out):
    token_id: str
    tenant_id: str | None
    role: str
    project_id: str | None = None


class TenantOut(_Out):
    id: str
    name: str
    created_at: datetime


class ProjectOut(_Out):
    id: str
    tenant_id: str
    name: str
    created_at: datetime


class TokenOut(_Out):
    id: str
    tenant_id: str | None
    role: str
    created_at: datetime
    prefix: str
    project_id: str | None = None


class TokenCreated(BaseModel):
    token: TokenOut
    secret: str = Field(description="the bearer secret; shown once, stored hashed")


class QuotaOut(_Out):
    tenant_id: str
    project_id: str | None
    model: str
    gpus: int


class NodeOut(_Out):
    id: str
    model: str
    gpus: int
    path: str
    state: str
    gpu_allocations: list[str | None] = Field(description="per GPU slot, the allocation holding it")


class ReservationOut(_Out):
    id: str = Field(description="also the id of the reservation's allocation (for events)")
    tenant_id: str
    project_id: str
    model: str
    gpus: int
    shape: str
    start: datetime
    end: datetime
    state: str
    price_total: str = Field(description="decimal string")
    currency: str
    allocation_id: str | None
    nodes: list[str]
    created_at: datetime


class QuoteOut(_Out):
    model: str
    gpus: int
    shape: str
    start: datetime | None = Field(
        description="earliest start the shape fits, at or after the one asked; "
        "null when it never fits within the search horizon"
    )
    end: datetime | None
    price_total: str
    currency: str
    unit_price: str
    feasible: bool
    reasons: dict[str, int] = Field(description="nodes rejected, by placement filter")
    message: str


class InstanceOut(_Out):
    id: str = Field(description="also the id of the instance's allocation (for events)")
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
    notice_until: datetime | None = Field(description="for a spot instance being preempted: when it stops")
    price_per_hour: str
    currency: str


class EventOut(_Out):
    allocation_id: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str


class CalendarSlot(_Out):
    start: datetime
    end: datetime
    free_gpus: int
    max_request_gpus: int


class CalendarOut(_Out):
    model: str
    shape: str
    slots: list[CalendarSlot]
