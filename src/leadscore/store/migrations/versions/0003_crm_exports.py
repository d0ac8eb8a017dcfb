"""What ``leadscore export crm`` last wrote of each lead (per format and model).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_exports",
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("exported_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("target", "model", "lead_id"),
    )


def downgrade() -> None:
    op.drop_table("crm_exports")
