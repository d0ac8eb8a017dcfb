"""The schema before migrations: leads and their versions, identities, events, stage history,
API keys, kept scores, outcomes, feedback, erasures, store facts.

A database made before migrations existed (it has a ``leads`` table and no revision) gets the
tables it lacks and the two upgrades the early releases had: leads get their ``account_id``,
and each lead's attributes become its first version.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from leadscore.spec.accounts import account_of

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in _TABLES.items():
        if name not in existing:
            create()
    if "leads" in existing:  # made before migrations
        _add_account_ids()
        _add_versions()


def _add_account_ids() -> None:
    """Leads made before accounts get the column, filled from their attributes."""
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("leads")}
    if "account_id" in columns:
        return
    op.add_column("leads", sa.Column("account_id", sa.String(length=255), nullable=True))
    op.create_index("ix_leads_account", "leads", ["account_id"], unique=False)
    rows = bind.execute(sa.text("SELECT lead_id, attributes FROM leads")).all()
    updates = [
        {"lead_id": row.lead_id, "account_id": account_of(json.loads(row.attributes))}
        for row in rows
    ]
    if updates:
        bind.execute(
            sa.text("UPDATE leads SET account_id = :account_id WHERE lead_id = :lead_id"), updates
        )


#: ``valid_from`` of a lead's first attributes (``store.sql.EARLIEST``, frozen here).
_EARLIEST = -(2**62)


def _add_versions() -> None:
    """Leads made before lead history: each one's attributes become its first version,
    counting from the start of time."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM lead_versions LIMIT 1")).first() is not None:
        return
    bind.execute(
        sa.text(
            "INSERT INTO lead_versions (lead_id, valid_from, attributes, account_id) "
            "SELECT lead_id, :earliest, attributes, account_id FROM leads"
        ),
        {"earliest": _EARLIEST},
    )


def _api_keys() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash"),
    )


def _erasures() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_digest", sa.String(length=64), nullable=False),
        sa.Column("rows_deleted", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _events() -> None:
    op.create_table(
        "events",
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=True),
        sa.Column("anonymous_id", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_events_anonymous", "events", ["anonymous_id"], unique=False)
    op.create_index("ix_events_lead_ts", "events", ["lead_id", "timestamp"], unique=False)


def _feedback() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feedback_lead", "feedback", ["lead_id"], unique=False)


def _identities() -> None:
    op.create_table(
        "identities",
        sa.Column("anonymous_id", sa.String(length=255), nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("anonymous_id"),
    )


def _lead_scores() -> None:
    op.create_table(
        "lead_scores",
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("fit", sa.BigInteger(), nullable=False),
        sa.Column("engagement", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=255), nullable=True),
        sa.Column("grade", sa.String(length=255), nullable=True),
        sa.Column("stage", sa.String(length=255), nullable=True),
        sa.Column("as_of", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lead_id", "model"),
    )
    op.create_index("ix_lead_scores_model_score", "lead_scores", ["model", "score"], unique=False)


def _lead_versions() -> None:
    op.create_table(
        "lead_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_versions_from", "lead_versions", ["valid_from"], unique=False)
    op.create_index(
        "ix_lead_versions_lead", "lead_versions", ["lead_id", "valid_from"], unique=False
    )


def _leads() -> None:
    op.create_table(
        "leads",
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("lead_id"),
    )
    op.create_index("ix_leads_account", "leads", ["account_id"], unique=False)


def _outcomes() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outcomes_lead", "outcomes", ["lead_id"], unique=False)


def _stage_transitions() -> None:
    op.create_table(
        "stage_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("from_stage", sa.String(length=255), nullable=True),
        sa.Column("to_stage", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_transitions_model_lead_at",
        "stage_transitions",
        ["model", "lead_id", "at"],
        unique=False,
    )


def _store_info() -> None:
    op.create_table(
        "store_info",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


#: Each table of the baseline and what creates it (with its indexes).
_TABLES = {
    "api_keys": _api_keys,
    "erasures": _erasures,
    "events": _events,
    "feedback": _feedback,
    "identities": _identities,
    "lead_scores": _lead_scores,
    "lead_versions": _lead_versions,
    "leads": _leads,
    "outcomes": _outcomes,
    "stage_transitions": _stage_transitions,
    "store_info": _store_info,
}


def downgrade() -> None:
    op.drop_table("store_info")
    op.drop_index("ix_transitions_model_lead_at", table_name="stage_transitions")
    op.drop_table("stage_transitions")
    op.drop_index("ix_outcomes_lead", table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index("ix_leads_account", table_name="leads")
    op.drop_table("leads")
    op.drop_index("ix_lead_versions_lead", table_name="lead_versions")
    op.drop_index("ix_lead_versions_from", table_name="lead_versions")
    op.drop_table("lead_versions")
    op.drop_index("ix_lead_scores_model_score", table_name="lead_scores")
    op.drop_table("lead_scores")
    op.drop_table("identities")
    op.drop_index("ix_feedback_lead", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_events_lead_ts", table_name="events")
    op.drop_index("ix_events_anonymous", table_name="events")
    op.drop_table("events")
    op.drop_table("erasures")
    op.drop_table("api_keys")
