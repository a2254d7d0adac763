"""Billing: price catalogs and effective-dated prices, the usage ledger, incidents, credits, invoices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from neocloud.infra.sql import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_catalogs",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("tax_rate", sa.String(32), nullable=False),
    )
    op.create_table(
        "billing_prices",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("model", sa.String(32), primary_key=True),
        sa.Column("product", sa.String(16), primary_key=True),
        sa.Column("term_months", sa.Integer, primary_key=True),
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("start_at", UtcDateTime(), primary_key=True),
        sa.Column("end_at", UtcDateTime(), nullable=True),
        sa.Column("price", sa.String(64), nullable=False),
    )
    op.create_table(
        "billing_usage",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("allocation_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("product", sa.String(16), nullable=False),
        sa.Column("term_months", sa.Integer, nullable=True),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("start_s", sa.BigInteger, nullable=False),
        sa.Column("end_s", sa.BigInteger, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("milli_per_gpu", sa.Integer, nullable=False),
    )
    op.create_index("ix_billing_usage_allocation", "billing_usage", ["allocation_id"])
    op.create_index("ix_billing_usage_tenant_start", "billing_usage", ["tenant_id", "start_at"])
    op.create_index("ix_billing_usage_end", "billing_usage", ["end_at"])
    op.create_table(
        "billing_incidents",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("allocation_id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("product", sa.String(16), nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("milli_per_gpu", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
    )
    op.create_table(
        "billing_credits",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("incident_id", sa.String(160), nullable=True, unique=True),
    )
    op.create_index("ix_billing_credits_tenant_id", "billing_credits", ["tenant_id"])
    op.create_table(
        "billing_invoices",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("period_start", UtcDateTime(), nullable=False),
        sa.Column("period_end", UtcDateTime(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("refers_to", sa.String(200), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("tax_rate", sa.String(32), nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        sa.Column("credits", sa.Text, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("finalized_at", UtcDateTime(), nullable=True),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        sa.Column("voided_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_billing_invoices_tenant_id", "billing_invoices", ["tenant_id"])


def downgrade() -> None:
    for name in (
        "billing_invoices",
        "billing_credits",
        "billing_incidents",
        "billing_usage",
        "billing_prices",
        "billing_catalogs",
    ):
        op.drop_table(name)
