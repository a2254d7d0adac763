"""Capacity on the wire: nodes, the capacity calendar, reservations (and their quotes), instances and
the lifecycle events of both.

Requests are bounded here so that fuzzed input is a 422 at the edge: `hours` by the domain's longest
reservation (`neocloud.kernel.products.MAX_HOURS`); the control plane still checks its own rules (how long an extension
may be, a shape's multiples). A `ReservationCreate` is also the body of a quote, which books nothing.
Responses mirror the control plane's views (control/app/views.py) field by field: money is a decimal
string, datetimes are aware UTC, an event's `from_state` is null for the first one, and a calendar slot
says the free GPUs and the largest request of the asked shape that fits in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from neocloud.kernel.products import MAX_HOURS
from neocloud.wire.fields import GpuModelName, Ident, In, Out, UtcDatetime
from neocloud.wire.tenancy import MAX_GPUS

MAX_NODES = 100_000

Shape = Literal["any", "whole-nodes", "whole-nvl72", "one-fabric", "one-nvl72"]


# ---- requests -----------------------------------------------------------------------------------------


class ReservationCreate(In):
    model: GpuModelName = Field(description="GPU model, e.g. H100, GB200")
    gpus: int = Field(ge=1, le=MAX_GPUS, strict=True)
    hours: int = Field(ge=1, le=MAX_HOURS, strict=True)
    start: UtcDatetime | None = Field(None, description="earliest start; now when omitted")
    shape: Shape = Field("any", description="any GPUs, whole nodes, whole NVL72 racks, or one fabric")
    project: Ident | None = None


class ReservationExtend(In):
    hours: int = Field(ge=1, le=MAX_HOURS, strict=True)


class InstanceCreate(In):
    model: GpuModelName
    nodes: int = Field(ge=1, le=MAX_NODES, strict=True)
    spot: bool = Field(default=False, strict=True)
    project: Ident | None = None


# ---- responses ----------------------------------------------------------------------------------------


class NodeOut(Out):
    id: str
    model: str
    gpus: int
    path: str
    state: str
    gpu_allocations: list[str | None] = Field(description="per GPU slot, the allocation holding it")


class ReservationOut(Out):
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


class QuoteOut(Out):
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


class InstanceOut(Out):
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


class EventOut(Out):
    allocation_id: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str


class CalendarSlot(Out):
    start: datetime
    end: datetime
    free_gpus: int
    max_request_gpus: int


class CalendarOut(Out):
    model: str
    shape: str
    slots: list[CalendarSlot]
