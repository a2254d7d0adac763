"""Index GPU bookings by the end of their window, so admission reads only the bookings that can still
overlap a window (history grows without bound; ended bookings are never read again).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_allocation_gpus_end_at", "allocation_gpus", ["end_at"])
    op.create_index("ix_allocations_due", "allocations", ["state", "start_at"])


def downgrade() -> None:
    op.drop_index("ix_allocations_due", table_name="allocations")
    op.drop_index("ix_allocation_gpus_end_at", table_name="allocation_gpus")
