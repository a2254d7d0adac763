"""What the client returns: frozen dataclasses mirroring the API's wire schemas (api/schemas.py).

The client talks HTTP only, so it cannot share the server's pydantic models; a contract test checks that
these field names match the OpenAPI schema, so the two cannot drift apart silently.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WhoAmI:
    token_id: str
    tenant_id: str | None
    role: str
    project_id: str | None = None


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    tenant_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    tenant_id: str | None
    role: str
    created_at: datetime
    prefix: str
    project_id: str | None = None


@dataclass(frozen=True, slots=True)
class TokenCreated:
    token: Token
    secret: str


@dataclass(frozen=True, slots=True)
class Quota:
    tenant_id: str
    project_id: str | None
    model: str
    gpus: int


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    model: str
    gpus: int
    path: str
    state: str
    gpu_allocations: list[str | None]


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    tenant_id: str
    project_id: str | None
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
class Quote:
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
class Instance:
    id: str
    tenant_id: str
    project_id: str | None
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
    price_per_hour: str
    currency: str


@dataclass(frozen=True, slots=True)
class Event:
    allocation_id: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class CalendarSlot:
    start: datetime
    end: datetime
    free_gpus: int
    max_request_gpus: int


@dataclass(frozen=True, slots=True)
class Calendar:
    model: str
    shape: str
    slots: list[CalendarSlot]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (item,) = get_args(tp)
        return [_convert(item, v) for v in value]
    if tp is datetime:
        return datetime.fromisoformat(value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return parse(tp, value)
    return value


def parse(cls: type[T], data: dict[str, Any]) -> T:
    """Build `cls` from a JSON object, ignoring fields the client does not know (newer servers)."""
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    kwargs = {f.name: _convert(hints[f.name], data[f.name]) for f in fields if f.name in data}
    return cls(**kwargs)


def parse_page(cls: type[T], data: dict[str, Any]) -> Page[T]:
    return Page([parse(cls, item) for item in data["items"]], data.get("next_cursor"), int(data["total"]))


def to_json(obj: Any) -> Any:
    """A model (or list/page of models) as plain JSON-ready data, datetimes as ISO 8601."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj
