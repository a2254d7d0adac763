"""Billing's tables (SQLAlchemy Core), on the control plane's MetaData; created by migration 0003.

Prices are effective-dated rows per catalog; the usage ledger and incidents are append-only with
deterministic ids (a replay inserts nothing); invoices are documents whose lines and credits are stored
as JSON text, written once when finalized (only their state moves afterwards). Money is integer minor
units or exact decimal text, never floating point.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from neocloud.infra.sql import UtcDateTime, metadata

billing_catalogs = Table(
    "billing_catalogs",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("tax_rate", String(32), nullable=False),
)

billing_prices = Table(
    "billing_prices",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("model", String(32), primary_key=True),
    Column("product", String(16), primary_key=True),
    Column("term_months", Integer, primary_key=True),  # 0: not reserved
    Column("tenant", String(64), primary_key=True),  # '': list price
    Column("start_at", UtcDateTime(), primary_key=True),
    Column("end_at", UtcDateTime(), nullable=True),
    Column("price", String(64), nullable=False),  # decimal text per GPU-hour
)

billing_usage = Table(
    "billing_usage",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("allocation_id", String(64), nullable=False),
    Column("model", String(32), nullable=False),
    Column("product", String(16), nullable=False),
    Column("term_months", Integer, nullable=True),
    Column("start_at", UtcDateTime(), nullable=False),
    Column("end_at", UtcDateTime(), nullable=False),
    Column("start_s", BigInteger, nullable=False),  # the same instants in epoch seconds, for arithmetic
    Column("end_s", BigInteger, nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("milli_per_gpu", Integer, nullable=False),
    Index("ix_billing_usage_allocation", "allocation_id"),
    Index("ix_billing_usage_tenant_start", "tenant_id", "start_at"),
    Index("ix_billing_usage_end", "end_at"),
)

billing_incidents = Table(
    "billing_incidents",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("allocation_id", String(64), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("model", String(32), nullable=False),
    Column("product", String(16), nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("milli_per_gpu", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
)

billing_credits = Table(
    "billing_credits",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", Text, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("incident_id", String(160), nullable=True, unique=True),
)

billing_invoices = Table(
    "billing_invoices",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("period_end", UtcDateTime(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("refers_to", String(200), nullable=True),
    Column("note", Text, nullable=False),
    Column("tax_rate", String(32), nullable=False),
    Column("lines", Text, nullable=False),  # JSON
    Column("credits", Text, nullable=False),  # JSON
    Column("total_minor", BigInteger, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("finalized_at", UtcDateTime(), nullable=True),
    Column("paid_at", UtcDateTime(), nullable=True),
    Column("voided_at", UtcDateTime(), nullable=True),
)
