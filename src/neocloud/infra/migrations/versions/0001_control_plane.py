"""Control plane: tenants, projects, tokens, quotas, nodes, capacity locks, allocations, their GPU
bookings and lifecycle events. On PostgreSQL an exclusion constraint also forbids two bookings of one
GPU that overlap in time (when the btree_gist extension can be had).

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from neocloud.infra.sql import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id(name: str = "id", length: int = 64, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length), **kw)  # type: ignore[arg-type]


def _serial() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )


def upgrade() -> None:
    op.create_table(
        "tenants",
        _id(primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "projects",
        _id(primary_key=True),
        _id("tenant_id", nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.UniqueConstraint("tenant_id", "name", name="uq_projects_tenant_name"),
    )
    op.create_table(
        "tokens",
        _id(primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _id("tenant_id", nullable=True),
        _id("project_id", nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    )
    op.create_table(
        "quotas",
        _id("tenant_id", primary_key=True),
        _id("project_key", primary_key=True),
        sa.Column("model", sa.String(32), primary_key=True),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    )
    op.create_table(
        "nodes",
        _id(length=128, primary_key=True),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("cpu_milli", sa.BigInteger, nullable=False),
        sa.Column("memory_mib", sa.BigInteger, nullable=False),
        *[
            sa.Column(c, sa.String(128), nullable=False)
            for c in ("nvlink", "rack", "leaf", "su", "fabric", "hall", "site")
        ],
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_index("ix_nodes_model", "nodes", ["model"])
    op.create_table(
        "capacity_locks",
        sa.Column("model", sa.String(32), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "allocations",
        _id(primary_key=True),
        _id("tenant_id", nullable=False),
        _id("project_id", nullable=False),
        sa.Column("product", sa.String(16), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("nodes", sa.Text, nullable=False),
        sa.Column("nodes_requested", sa.Integer, nullable=False),
        sa.Column("shape", sa.String(16), nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        *[
            sa.Column(c, UtcDateTime(), nullable=True)
            for c in ("started_at", "ended_at", "preempted_at", "notice_until")
        ],
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_allocations_idempotency"),
    )
    op.create_index("ix_allocations_state", "allocations", ["state"])
    op.create_index("ix_allocations_tenant", "allocations", ["tenant_id"])
    op.create_table(
        "allocation_gpus",
        _serial(),
        _id("allocation_id", nullable=False),
        _id("node_id", length=128, nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["allocation_id"], ["allocations.id"]),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"]),
    )
    op.create_index("ix_allocation_gpus_allocation_id", "allocation_gpus", ["allocation_id"])
    op.create_index("ix_allocation_gpus_node", "allocation_gpus", ["node_id", "slot"])
    op.create_table(
        "allocation_events",
        _serial(),
        _id("allocation_id", nullable=False),
        _id("tenant_id", nullable=False),
        _id("project_id", nullable=False),
        sa.Column("product", sa.String(16), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("nodes", sa.Text, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["allocation_id"], ["allocations.id"]),
    )
    op.create_index("ix_allocation_events_allocation_id", "allocation_events", ["allocation_id"])
    if op.get_bind().dialect.name == "postgresql":
        _exclusion_constraint()


def _exclusion_constraint() -> None:
    """No GPU booked twice at any instant, enforced by PostgreSQL itself (needs btree_gist; skipped,
    leaving the capacity row lock as the guard, where the extension cannot be created)."""
    bind = op.get_bind()
    nested = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
        nested.commit()
    except sa.exc.DBAPIError:
        nested.rollback()
        return
    op.execute(
        "ALTER TABLE allocation_gpus ADD CONSTRAINT ex_allocation_gpus_no_overlap EXCLUDE USING gist "
        "(node_id WITH =, slot WITH =, tstzrange(start_at, coalesce(end_at, 'infinity'::timestamptz), '[)') WITH &&)"
    )


def downgrade() -> None:
    for table in (
        "allocation_events",
        "allocation_gpus",
        "allocations",
        "capacity_locks",
        "nodes",
        "quotas",
        "tokens",
        "projects",
        "tenants",
    ):
        op.drop_table(table)
