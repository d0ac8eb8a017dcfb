"""Accounts' own traits (Segment ``group`` calls), shared by every lead of the account.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(255), primary_key=True),
        sa.Column("traits", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("accounts")
