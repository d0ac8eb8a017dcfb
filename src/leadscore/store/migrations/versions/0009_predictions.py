"""Predictions kept on the leads, by the version in use of each trained model.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("lead_id", sa.String(255), primary_key=True),
        sa.Column("model", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("score_tenths", sa.Integer, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("as_of", sa.BigInteger, nullable=False),
        if_not_exists=True,
    )
    op.create_index(
        "ix_predictions_rank",
        "predictions",
        ["model", sa.text("score_tenths DESC"), "lead_id"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_predictions_rank", "predictions")
    op.drop_table("predictions")
