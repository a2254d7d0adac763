"""Drop `capacity_locks`: one lock row per GPU model serialised every admission in the fleet; admission
now locks the node rows a decision books (control/adapters/sql/store.py), and nothing reads or writes
the table any more.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("capacity_locks")


def downgrade() -> None:
    op.create_table(
        "capacity_locks",
        sa.Column("model", sa.String(32), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO capacity_locks (model, version) SELECT DISTINCT model, 0 FROM nodes")
