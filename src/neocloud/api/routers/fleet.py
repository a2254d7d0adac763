"""Nodes and the capacity calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from neocloud.api.deps import Caller, Control, Paging
from neocloud.control.app.views import CalendarView, NodeView, Page
from neocloud.kernel.errors import InvalidInput
from neocloud.wire.capacity import CalendarOut, NodeOut, Shape
from neocloud.wire.fields import GpuModelName, UtcDatetime
from neocloud.wire.paging import Page as PageOut

router = APIRouter(tags=["fleet"])

MAX_CALENDAR_SLOTS = 2_000


@router.get(
    "/nodes",
    response_model=PageOut[NodeOut],
    summary="List nodes (operators: all, with allocations; tenants: the nodes they hold)",
)
def list_nodes(cp: Control, caller: Caller, paging: Paging) -> Page[NodeView]:
    return cp.fleet.list_nodes(caller, paging)


@router.get(
    "/capacity/calendar",
    response_model=CalendarOut,
    summary="Free GPUs of a model over time, and the largest request of a shape that fits",
)
def calendar(
    cp: Control,
    caller: Caller,
    model: Annotated[GpuModelName, Query(description="GPU model")],
    shape: Annotated[Shape, Query()] = "any",
    start: Annotated[UtcDatetime | None, Query(description="default: now")] = None,
    end: Annotated[UtcDatetime | None, Query(description="default: start + 7 days; needs start")] = None,
    step_hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24,
) -> CalendarView:
    if end is not None:
        if start is None:
            raise InvalidInput("end needs start", details={"field": "start"})
        if end <= start:
            raise InvalidInput("end must be after start", details={"start": start, "end": end})
        slots = (end - start) / timedelta(hours=step_hours)
        if slots > MAX_CALENDAR_SLOTS:
            raise InvalidInput(
                f"too many slots ({int(slots)}): widen step_hours or narrow the range",
                details={"max_slots": MAX_CALENDAR_SLOTS},
            )
    return cp.reservations.calendar(caller, model, shape, start, end, step_hours)
