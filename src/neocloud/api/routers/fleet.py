"""Nodes and the capacity calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from neocloud.api import schemas as s
from neocloud.api.deps import Caller, Control, Paging
from neocloud.app.views import CalendarView, NodeView, Page
from neocloud.domain.errors import InvalidInput

router = APIRouter(tags=["fleet"])

DEFAULT_CALENDAR_DAYS = 7
MAX_CALENDAR_SLOTS = 2_000


@router.get(
    "/nodes",
    response_model=s.Page[s.NodeOut],
    summary="List nodes (operators: all, with allocations; tenants: the nodes they hold)",
)
def list_nodes(cp: Control, caller: Caller, paging: Paging) -> Page[NodeView]:
    return cp.list_nodes(caller, paging)


@router.get(
    "/capacity/calendar",
    response_model=s.CalendarOut,
    summary="Free GPUs of a model over time, and the largest request of a shape that fits",
)
def calendar(
    cp: Control,
    caller: Caller,
    model: Annotated[str, Query(pattern=s.IDENT_PATTERN, description="GPU model")],
    shape: Annotated[s.Shape, Query()] = "any",
    start: Annotated[s.UtcDatetime | None, Query(description="default: now")] = None,
    end: Annotated[s.UtcDatetime | None, Query(description="default: start + 7 days")] = None,
    step_hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24,
) -> CalendarView:
    begin = start or datetime.now(UTC)
    finish = end or begin + timedelta(days=DEFAULT_CALENDAR_DAYS)
    if finish <= begin:
        raise InvalidInput("end must be after start", details={"start": begin, "end": finish})
    slots = (finish - begin) / timedelta(hours=step_hours)
    if slots > MAX_CALENDAR_SLOTS:
        raise InvalidInput(
            f"too many slots ({int(slots)}): widen step_hours or narrow the range",
            details={"max_slots": MAX_CALENDAR_SLOTS},
        )
    return cp.calendar(caller, model, shape, begin, finish, step_hours)
