"""Health: node lifecycles and their events, health observations, allocation outages, tenant notices,
issued SLA credits, webhook subscriptions and deliveries; and the control plane's planned node
maintenance windows (read by admission as bookings).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from neocloud.infra.sql import UtcDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "node_maintenance",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("node_id", sa.String(128), sa.ForeignKey("nodes.id"), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_node_maintenance_node_id", "node_maintenance", ["node_id"])
    op.create_table(
        "health_nodes",
        sa.Column("node_id", sa.String(128), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=True),
        sa.Column("until_at", UtcDateTime(), nullable=True),
        sa.Column("drain", sa.String(24), nullable=True),
        sa.Column("spare", sa.Boolean, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "health_node_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=True),
    )
    op.create_index("ix_health_node_events_at", "health_node_events", ["at"])
    op.create_index("ix_health_node_events_node", "health_node_events", ["node_id"])
    op.create_table(
        "health_observations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("component", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    op.create_index("ix_health_observations_node", "health_observations", ["node_id"])
    op.create_table(
        "health_outages",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("allocation_id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=True),
        sa.Column("shape", sa.String(16), nullable=False),
    )
    op.create_index("ix_health_outages_allocation", "health_outages", ["allocation_id"])
    op.create_index("ix_health_outages_node", "health_outages", ["node_id"])
    op.create_table(
        "health_notices",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("allocation_id", sa.String(64), nullable=True),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_health_notices_tenant", "health_notices", ["tenant_id", "id"])
    op.create_table(
        "health_sla_credits",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("allocation_id", sa.String(64), nullable=False),
        sa.Column("period_start", UtcDateTime(), nullable=False),
        sa.Column("availability_pct", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("credit_id", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "health_webhooks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("kinds", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_health_webhooks_tenant_id", "health_webhooks", ["tenant_id"])
    op.create_table(
        "health_deliveries",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("notice_id", sa.BigInteger, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", UtcDateTime(), nullable=True),
        sa.Column("last_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("webhook_id", "notice_id", name="uq_health_deliveries"),
    )
    op.create_index("ix_health_deliveries_due", "health_deliveries", ["status", "next_at"])


def downgrade() -> None:
    for name in [
        "health_deliveries",
        "health_webhooks",
        "health_sla_credits",
        "health_notices",
        "health_outages",
        "health_observations",
        "health_node_events",
        "health_nodes",
        "node_maintenance",
    ]:
        op.drop_table(name)
