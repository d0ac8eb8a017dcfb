"""The ranked list read from one index: (model, score desc, fit + engagement desc, lead_id)
replaces (model, score), whose ties at the clip were sorted on every page.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # if_exists, if_not_exists: a database made before migrations (tables created from the
    # code's own definitions, then stamped) may have the new index and not the old
    op.drop_index("ix_lead_scores_model_score", table_name="lead_scores", if_exists=True)
    op.create_index(
        "ix_lead_scores_rank",
        "lead_scores",
        ["model", sa.text("score DESC"), sa.text("(fit + engagement) DESC"), "lead_id"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_lead_scores_rank", table_name="lead_scores")
    op.create_index("ix_lead_scores_model_score", "lead_scores", ["model", "score"])
