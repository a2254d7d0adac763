"""What a quote reads of the capacity in one statement: the bookings of a model from an instant on, each
with whether its allocation is a live spot one (it yields its GPUs after the notice period).

`bookings(model, start, None)` and `live_allocations(None, model, now, None, product=SPOT)` answer the
same in two statements, and the second built anew (and its cache key computed) on every call; this one
is built once with bind parameters and no expanding IN (whose values SQLAlchemy renders on every call).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, literal_column, or_, select, union_all

from neocloud.control.adapters.sql import tables as t
from neocloud.control.adapters.sql.connected import Connected
from neocloud.control.adapters.sql.statements import booking_columns, overlapping_params, window_columns
from neocloud.control.domain.allocations import LIVE, GpuBooking
from neocloud.kernel.ids import AllocationId, NodeId
from neocloud.kernel.products import Product

_STATEMENT: Any = None


def _statement() -> Any:
    """Built on first use (nothing at import). Rows: (owner, node, slot, start, end, gpus, kind, seq, spot),
    kind 0 a booking, 1 a maintenance window (of every GPU of its node: `gpus`), in the order
    `bookings()` gives them (bookings as made, then the windows)."""
    global _STATEMENT
    if _STATEMENT is None:
        a, g, n, m = t.allocations.c, t.allocation_gpus.c, t.nodes.c, t.node_maintenance.c
        live_spot = and_(
            a.product == Product.SPOT.value,
            or_(*(a.state == s.value for s in sorted(LIVE))),
            or_(a.end_at.is_(None), a.end_at > bindparam("now")),
        )
        booked = (
            select(*booking_columns(), case((live_spot, 1), else_=0).label("spot"))
            .join(t.allocations, a.id == g.allocation_id)
            .where(
                overlapping_params(bounded=False),
                g.node_id.in_(select(n.id).where(n.model == bindparam("model"))),
            )
        )
        windows = (
            select(*window_columns(), literal_column("0"))
            .join(t.nodes, n.id == m.node_id)
            .where(n.model == bindparam("model"), m.end_at > bindparam("start"))
        )
        _STATEMENT = union_all(booked, windows).order_by(
            literal_column("kind"), literal_column("seq"), literal_column("owner")
        )
    return _STATEMENT


class AvailabilityRows(Connected):
    def bookings_yielding(
        self, model: str, start: datetime, now: datetime
    ) -> tuple[list[GpuBooking], set[str]]:
        found: list[GpuBooking] = []
        spot: set[str] = set()
        rows = self.c.execute(_statement(), {"model": model, "start": start, "now": now})
        for owner, node, slot, s, e, gpus, kind, _, is_spot in rows:
            if kind:
                found.extend(GpuBooking(AllocationId(owner), NodeId(node), k, s, e) for k in range(gpus))
                continue
            found.append(GpuBooking(AllocationId(owner), NodeId(node), slot, s, e))
            if is_spot:
                spot.add(owner)
        return found, spot
