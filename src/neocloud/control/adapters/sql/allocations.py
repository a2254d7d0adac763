"""Allocations and their lifecycle events, in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from neocloud.control.adapters.sql import tables as t
from neocloud.control.adapters.sql.connected import Connected
from neocloud.control.adapters.sql.rows import alloc_row, event_row, to_alloc
from neocloud.control.adapters.sql.statements import sql
from neocloud.control.app.ports import KeyTaken
from neocloud.control.domain.allocations import LIVE, Allocation, Event
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product, State

IDEMPOTENCY_CONSTRAINT = "uq_allocations_idempotency"  # tables.allocations: (tenant_id, idempotency_key)


class AllocationRows(Connected):
    def add_allocation(self, alloc: Allocation) -> None:
        try:
            self.c.execute(sql().insert_allocation, alloc_row(alloc))
        except IntegrityError as err:
            diag = getattr(err.orig, "diag", None)
            if getattr(diag, "constraint_name", None) == IDEMPOTENCY_CONSTRAINT:
                raise KeyTaken(
                    f"idempotency key {alloc.idempotency_key!r} was taken meanwhile",
                    details={"idempotency_key": alloc.idempotency_key},
                ) from err
            raise Conflict(
                f"allocation {alloc.id} clashes with a stored one (id or idempotency key)"
            ) from err

    def update_allocation(self, alloc: Allocation) -> None:
        row = alloc_row(alloc)
        row["b_id"] = row.pop("id")
        self.c.execute(sql().update_allocation, row)

    def get_allocation(
        self, allocation_id: str, *, lock: bool = False, skip_locked: bool = False
    ) -> Allocation | None:
        s = sql()
        q = (s.allocation_lock_skip if skip_locked else s.allocation_lock) if lock else s.allocation
        r = self.c.execute(q, {"id": allocation_id}).first()
        return to_alloc(r) if r else None

    def allocation_by_key(self, tenant_id: str, idempotency_key: str) -> Allocation | None:
        r = self.c.execute(sql().by_key, {"tenant_id": tenant_id, "key": idempotency_key}).first()
        return to_alloc(r) if r else None

    def list_allocations(
        self,
        tenant_id: str | None,
        products: Sequence[Product],
        states: Sequence[State] | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Allocation], int]:
        a = t.allocations.c
        q = select(t.allocations).where(_one_of(a.product, [p.value for p in products]))
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        if states is not None:
            q = q.where(_one_of(a.state, [s.value for s in states]))
        rows, total = self._page(q, a.id, after, limit)
        return [to_alloc(r) for r in rows], total

    def allocations_overlapping(
        self, start: datetime, end: datetime, tenant_id: str | None = None
    ) -> list[Allocation]:
        a = t.allocations.c
        until = func.coalesce(a.ended_at, a.end_at)
        q = select(t.allocations).where(a.start_at < end, or_(until.is_(None), until > start))
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        return [to_alloc(r) for r in self.c.execute(q.order_by(a.id))]

    def _live(self, cols: Any, model: str, start: datetime, end: datetime | None) -> Select[Any]:
        a = t.allocations.c
        q = select(*cols).where(
            a.state.in_([s.value for s in LIVE]), a.model == model, or_(a.end_at.is_(None), a.end_at > start)
        )
        return q.where(a.start_at < end) if end is not None else q

    def live_allocations(
        self,
        tenant_id: TenantId | None,
        model: str,
        start: datetime,
        end: datetime | None,
        project_id: ProjectId | None = None,
        product: Product | None = None,
    ) -> list[Allocation]:
        a = t.allocations.c
        q = self._live([t.allocations], model, start, end)
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        if project_id is not None:
            q = q.where(a.project_id == project_id)
        if product is not None:
            q = q.where(a.product == product.value)
        return [to_alloc(r) for r in self.c.execute(q.order_by(a.id))]

    def held(
        self, tenant_id: TenantId, model: str, start: datetime, end: datetime | None
    ) -> list[tuple[datetime, datetime | None, int, str]]:
        a = t.allocations.c
        q = self._live([a.start_at, a.end_at, a.gpus, a.project_id], model, start, end).where(
            a.tenant_id == tenant_id
        )
        return [(r.start_at, r.end_at, r.gpus, r.project_id) for r in self.c.execute(q)]

    def due(self, now: datetime, limit: int) -> list[Allocation]:
        a = t.allocations.c
        noticed = and_(a.notice_until.is_not(None), a.notice_until <= now)
        ended = and_(a.end_at.is_not(None), a.end_at <= now)
        q = (
            select(t.allocations)
            .where(
                or_(
                    and_(a.state == State.SCHEDULED.value, or_(a.start_at <= now, noticed)),
                    a.state.in_([State.PROVISIONING.value, State.ENDING.value]),
                    and_(a.state == State.ACTIVE.value, or_(ended, noticed)),
                )
            )
            .order_by(a.id)
            .limit(limit)
        )
        return [to_alloc(r) for r in self.c.execute(q)]

    def add_event(self, event: Event) -> None:
        """Kept until the unit of work commits (or reads events), then sent with the others in one INSERT."""
        assert self._conn is not None, "use the unit of work inside `with`"
        self._events.append(event_row(event))

    def events(self, allocation_id: str) -> list[Event]:
        self._flush_events()
        e = t.events.c
        rows = self.c.execute(select(t.events).where(e.allocation_id == allocation_id).order_by(e.id))
        return [
            Event(
                AllocationId(r.allocation_id),
                TenantId(r.tenant_id),
                ProjectId(r.project_id),
                Product(r.product),
                r.model,
                r.gpus,
                tuple(NodeId(n) for n in json.loads(r.nodes)),
                State(r.from_state) if r.from_state else None,
                State(r.to_state),
                r.at,
                r.reason,
            )
            for r in rows
        ]


def _one_of(column: Any, values: list[str]) -> Any:
    """`column = value` for one value: an IN list is an expanding parameter, which SQLAlchemy renders
    anew on every execution (a tenth of a list request's CPU time)."""
    return column == values[0] if len(values) == 1 else column.in_(values)
