"""The control plane's event rows as billing's LifecycleEvents, in one query (events joined with their
allocation for the reserved window), for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from neocloud.billing.domain.metering import LifecycleEvent
from neocloud.control.adapters.sql import tables as t
from neocloud.infra.engine import read_only
from neocloud.kernel.ids import AllocationId, ProjectId, TenantId
from neocloud.kernel.products import Product, State


class SqlEventFeed:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def lifecycle_events(self, until: datetime, tenant: TenantId | None = None) -> list[LifecycleEvent]:
        e, a = t.events.c, t.allocations.c
        query = (
            select(
                e.allocation_id,
                e.tenant_id,
                e.project_id,
                e.product,
                e.model,
                e.gpus,
                e.to_state,
                e.at,
                a.start_at,
                a.end_at,
            )
            .join(t.allocations, a.id == e.allocation_id)
            .where(e.at <= until)
            .order_by(e.at, e.id)
        )
        if tenant is not None:
            query = query.where(e.tenant_id == tenant)
        out = []
        with self.engine.connect() as conn:
            read_only(conn)  # on SQLite: beside the writer, not behind it
            for r in conn.execute(query):
                window = r.product == Product.RESERVED.value and r.end_at is not None
                out.append(
                    LifecycleEvent(
                        allocation_id=AllocationId(r.allocation_id),
                        tenant_id=TenantId(r.tenant_id),
                        project_id=ProjectId(r.project_id),
                        product=Product(r.product),
                        model=r.model,
                        gpus=r.gpus,
                        to_state=State(r.to_state),
                        at=r.at.replace(microsecond=0),
                        window_start=r.start_at.replace(microsecond=0) if window else None,
                        window_end=r.end_at.replace(microsecond=0) if window else None,
                    )
                )
        return out
