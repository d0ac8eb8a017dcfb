"""The ranked list ordered by engagement or by fit, each read from an index in its order.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name, column in (
        ("ix_lead_scores_engagement", "engagement"),
        ("ix_lead_scores_fit", "fit"),
    ):
        op.create_index(
            name,
            "lead_scores",
            ["model", sa.text(f"{column} DESC"), sa.text("score DESC"), "lead_id"],
            if_not_exists=True,
        )


def downgrade() -> None:
    op.drop_index("ix_lead_scores_fit", table_name="lead_scores")
    op.drop_index("ix_lead_scores_engagement", table_name="lead_scores")
