"""The hot path's SQL, built once with bind parameters, and the overlap conditions bookings are read by."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from neocloud.control.adapters.sql import tables as t


def booking_columns() -> list[Any]:
    """The columns a bookings read returns for a GPU booking (owner, node, slot, window, 0 GPUs, kind 0,
    seq), in the order GpuBooking rows are parsed; a maintenance window is `window_columns`."""
    g = t.allocation_gpus.c
    return [
        g.allocation_id.label("owner"),
        g.node_id,
        g.slot,
        g.start_at,
        g.end_at,
        literal_column("0").label("gpus"),
        literal_column("0").label("kind"),
        g.id.label("seq"),
    ]


def window_columns() -> list[Any]:
    """The same columns for a planned maintenance window (its id as owner, the node's GPUs, kind 1)."""
    m, n = t.node_maintenance.c, t.nodes.c
    return [
        m.id,
        m.node_id,
        literal_column("0"),
        m.start_at,
        m.end_at,
        n.gpus,
        literal_column("1"),
        literal_column("0"),
    ]


def overlapping_params(*, bounded: bool) -> Any:
    """A booking overlaps [`start`, `end`) (bind parameters; `end` only when bounded); a booking ended
    at or before its start (cut back before it began) overlaps nothing."""
    g = t.allocation_gpus.c
    cond = or_(g.end_at.is_(None), and_(g.end_at > bindparam("start"), g.end_at > g.start_at))
    return and_(cond, g.start_at < bindparam("end")) if bounded else cond


class Statements:
    """The hot path's statements, built once with bind parameters: SQLAlchemy then neither rebuilds
    them nor recomputes their cache keys on every call (a fifth of a reservation's CPU time)."""

    def __init__(self) -> None:
        a, g, n = t.allocations.c, t.allocation_gpus.c, t.nodes.c
        self.auth_epoch = select(t.auth_epoch.c.version).where(t.auth_epoch.c.id == 1)
        self.token_by_hash = select(t.tokens).where(t.tokens.c.secret_hash == bindparam("secret_hash"))
        self.tenant = select(t.tenants).where(t.tenants.c.id == bindparam("id"))
        self.project = select(t.projects).where(t.projects.c.id == bindparam("id"))
        self.project_by_name = select(t.projects).where(
            t.projects.c.tenant_id == bindparam("tenant_id"), t.projects.c.name == bindparam("name")
        )
        q = t.quotas.c
        # A project by name with its tenant's quotas, which admission reads next: one round trip (one row
        # per quota, or one with NULL quota columns). Ordered as `quotas_of`.
        self.project_by_name_and_quotas = (
            select(
                t.projects,
                q.project_key.label("q_project_key"),
                q.model.label("q_model"),
                q.gpus.label("q_gpus"),
            )
            .select_from(t.projects.outerjoin(t.quotas, q.tenant_id == t.projects.c.tenant_id))
            .where(t.projects.c.tenant_id == bindparam("tenant_id"), t.projects.c.name == bindparam("name"))
            .order_by(q.project_key, q.model)
        )
        self.quotas_of = (
            select(t.quotas)
            .where(q.tenant_id == bindparam("tenant_id"))
            .order_by(q.tenant_id, q.project_key, q.model)
        )
        self.node_version = select(func.count(), func.max(n.ordinal)).where(n.model == bindparam("model"))
        self.node_states = select(n.id, n.state).where(n.state != "ready")
        # A decision reads both, one after the other: one round trip. One row per node not ready (a
        # row of NULLs when every node is), each carrying the model's count and last ordinal.
        version = self.node_version.subquery()
        states = self.node_states.subquery()
        self.node_version_and_states = select(*version.c, states.c.id, states.c.state).select_from(
            version.outerjoin(states, literal_column("true"))
        )
        # PostgreSQL only: the node ids travel as one array parameter (`= ANY`), so the statement's text
        # never depends on how many nodes a decision books (no expanding IN: no re-rendering per call,
        # and psycopg prepares it once).
        claim = select(n.id).where(n.id == any_(bindparam("ids", type_=ARRAY(String))))
        self.claim_wait, self.claim_skip = claim.with_for_update(), claim.with_for_update(skip_locked=True)
        self.allocation = select(t.allocations).where(a.id == bindparam("id"))
        self.allocation_lock = self.allocation.with_for_update()
        self.allocation_lock_skip = self.allocation.with_for_update(skip_locked=True)
        self.by_key = select(t.allocations).where(
            a.tenant_id == bindparam("tenant_id"), a.idempotency_key == bindparam("key")
        )
        self.insert_allocation = insert(t.allocations)
        # Every column but the id is SET from the parameters (`AllocationRows.update_allocation`): one
        # statement for every transition, built once.
        self.update_allocation = update(t.allocations).where(a.id == bindparam("b_id"))
        self.insert_bookings = insert(t.allocation_gpus)
        self.insert_events = insert(t.events)
        # Bookings and taken GPUs come with the planned maintenance windows of the same nodes in one
        # statement (UNION ALL): a window holds every GPU of its node like a booking. Rows say which they
        # are by `kind` (0 a booking, 1 a window, whose `gpus` is its node's GPU count).
        m = t.node_maintenance.c
        window = m.end_at > bindparam("start")

        def on(
            col: Any, pg: bool
        ) -> Any:  # the caller's nodes: an array on PostgreSQL, expanding IN elsewhere
            return (
                col == any_(bindparam("nodes", type_=ARRAY(String)))
                if pg
                else col.in_(bindparam("nodes", expanding=True))
            )

        self.bookings = {
            (bounded, on_nodes, pg): union_all(
                select(*booking_columns()).where(
                    overlapping_params(bounded=bounded),
                    on(g.node_id, pg)
                    if on_nodes  # nodes of the model, by the caller's word
                    else g.node_id.in_(select(n.id).where(n.model == bindparam("model"))),
                ),
                select(*window_columns())
                .join(t.nodes, n.id == m.node_id)
                .where(
                    n.model == bindparam("model"),
                    and_(window, m.start_at < bindparam("end")) if bounded else window,
                    *([on(m.node_id, pg)] if on_nodes else []),
                ),
            ).order_by(literal_column("kind"), literal_column("seq"), literal_column("owner"))
            for bounded in (True, False)
            for on_nodes in (True, False)
            for pg in (True, False)
        }
        self.taken = {
            pg: union_all(
                select(
                    g.node_id,
                    (func.string_agg(cast(g.slot, String), ",") if pg else func.group_concat(g.slot)).label(
                        "slots"
                    ),
                    literal_column("0").label("gpus"),
                )
                .join(t.nodes, n.id == g.node_id)
                .where(n.model == bindparam("model"), overlapping_params(bounded=True))
                .group_by(g.node_id),
                select(m.node_id, literal_column("NULL"), n.gpus)
                .join(t.nodes, n.id == m.node_id)
                .where(n.model == bindparam("model"), window, m.start_at < bindparam("end")),
            )
            for pg in (True, False)
        }


STATEMENTS: Statements | None = None


def sql() -> Statements:
    """The statements, built on first use (nothing is built at import)."""
    global STATEMENTS
    if STATEMENTS is None:
        STATEMENTS = Statements()
    return STATEMENTS
