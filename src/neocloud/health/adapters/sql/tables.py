"""The health context's tables (SQLAlchemy Core) on the one MetaData; created by migration 0007."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from neocloud.infra.sql import UtcDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

health_nodes = Table(
    "health_nodes",
    metadata,
    Column("node_id", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("since", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Column("action", String(32), nullable=True),
    Column("until_at", UtcDateTime(), nullable=True),
    Column("drain", String(24), nullable=True),
    Column("spare", Boolean, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("version", BigInteger, nullable=False),
)

health_node_events = Table(
    "health_node_events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("node_id", String(128), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=True),
    Index("ix_health_node_events_node", "node_id"),
    Index("ix_health_node_events_at", "at"),
)

health_observations = Table(
    "health_observations",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("node_id", String(128), nullable=False),
    Column("component", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("code", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("source", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Index("ix_health_observations_node", "node_id"),
)

health_outages = Table(
    "health_outages",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("allocation_id", String(64), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("node_id", String(128), nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("start_at", UtcDateTime(), nullable=False),
    Column("end_at", UtcDateTime(), nullable=True),
    Column("shape", String(16), nullable=False),
    Index("ix_health_outages_allocation", "allocation_id"),
    Index("ix_health_outages_node", "node_id"),
)

health_notices = Table(
    "health_notices",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("message", Text, nullable=False),
    Column("allocation_id", String(64), nullable=True),
    Column("data", Text, nullable=False),  # JSON
    Index("ix_health_notices_tenant", "tenant_id", "id"),
)

health_sla_credits = Table(
    "health_sla_credits",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("allocation_id", String(64), nullable=False),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("availability_pct", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credit_id", String(200), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

health_webhooks = Table(
    "health_webhooks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("kinds", Text, nullable=False),  # JSON list
    Column("created_at", UtcDateTime(), nullable=False),
    Column("active", Boolean, nullable=False),
)

health_deliveries = Table(
    "health_deliveries",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("webhook_id", String(64), nullable=False),
    Column("notice_id", BigInteger, nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", UtcDateTime(), nullable=True),
    Column("last_code", Integer, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("webhook_id", "notice_id", name="uq_health_deliveries"),
    Index("ix_health_deliveries_due", "status", "next_at"),
)
