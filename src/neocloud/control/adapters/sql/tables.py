"""The control plane's tables (SQLAlchemy Core). Domain classes stay free of SQLAlchemy: rows are
mapped to and from them in store.py. The schema is created by Alembic migrations
(neocloud/infra/migrations), never by `metadata.create_all` outside tests of the migrations themselves."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from neocloud.infra.sql import UtcDateTime, metadata

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("suspended_at", UtcDateTime(), nullable=True),  # 0005
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_projects_tenant_name"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),  # 0005
    Column("revoked_at", UtcDateTime(), nullable=True),  # 0005
    Index("ix_tokens_tenant", "tenant_id"),
)

# One row (id 1) whose version changes with every revoke, suspend and resume (0005): API servers compare
# it on each request to know when to drop their cached principals.
auth_epoch = Table(
    "auth_epoch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Append-only (0005: triggers refuse UPDATE and DELETE). `details` is a JSON object.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("actor_tenant_id", String(64), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("tenant_id", String(64), nullable=True),
    Column("details", Text, nullable=False),
    Index("ix_audit_log_tenant", "tenant_id", "seq"),
    Index("ix_audit_log_at", "at"),
)

quotas = Table(
    "quotas",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id"), primary_key=True),
    Column("project_key", String(64), primary_key=True),  # '' for the tenant-wide quota
    Column("model", String(32), primary_key=True),
    Column("gpus", Integer, nullable=False),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("ordinal", Integer, nullable=False),
    Column("model", String(32), nullable=False, index=True),
    Column("gpus", Integer, nullable=False),
    Column("cpu_milli", BigInteger, nullable=False),
    Column("memory_mib", BigInteger, nullable=False),
    Column("nvlink", String(128), nullable=False),
    Column("rack", String(128), nullable=False),
    Column("leaf", String(128), nullable=False),
    Column("su", String(128), nullable=False),
    Column("fabric", String(128), nullable=False),
    Column("hall", String(128), nullable=False),
    Column("site", String(128), nullable=False),
    Column("state", String(16), nullable=False),
)

# capacity_locks (0001) was dropped by 0008: admission locks the node rows it books instead.

allocations = Table(
    "allocations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("product", String(16), nullable=False),
    Column("model", String(32), nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("start_at", UtcDateTime(), nullable=False),
    Column("end_at", UtcDateTime(), nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("nodes", Text, nullable=False),  # JSON list of node ids
    Column("nodes_requested", Integer, nullable=False),
    Column("shape", String(16), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("request_digest", String(64), nullable=True),  # what an idempotent request asked for (0004)
    Column("started_at", UtcDateTime(), nullable=True),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("preempted_at", UtcDateTime(), nullable=True),
    Column("notice_until", UtcDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_allocations_idempotency"),
    Index("ix_allocations_state", "state"),
    Index("ix_allocations_due", "state", "start_at"),
    Index("ix_allocations_tenant", "tenant_id"),
)

allocation_gpus = Table(
    "allocation_gpus",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("allocation_id", String(64), ForeignKey("allocations.id"), nullable=False, index=True),
    Column("node_id", String(128), ForeignKey("nodes.id"), nullable=False),
    Column("slot", Integer, nullable=False),
    Column("start_at", UtcDateTime(), nullable=False),
    Column("end_at", UtcDateTime(), nullable=True),  # NULL: until released
    Index("ix_allocation_gpus_node", "node_id", "slot"),
    Index("ix_allocation_gpus_end_at", "end_at"),
)

events = Table(
    "allocation_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("allocation_id", String(64), ForeignKey("allocations.id"), nullable=False, index=True),
    Column("tenant_id", String(64), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("product", String(16), nullable=False),
    Column("model", String(32), nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("nodes", Text, nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
)

node_maintenance = Table(  # planned maintenance windows (0007): admission reads them as bookings
    "node_maintenance",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("node_id", String(128), ForeignKey("nodes.id"), nullable=False, index=True),
    Column("start_at", UtcDateTime(), nullable=False),
    Column("end_at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
)

# Console sessions (0009_sessions): keyed by the sha256 of the cookie's session id; the token by its id.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("token_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("tenant_id", String(64), nullable=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("flash", Text, nullable=False),
    Index("ix_console_sessions_token", "token_id"),
    Index("ix_console_sessions_expires", "expires_at"),
)
