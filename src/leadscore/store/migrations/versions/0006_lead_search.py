"""Leads found by a piece of their id, name, email or company from an index (``store/
lead_search.py``): on SQLite an FTS5 trigram table kept in step by triggers, on PostgreSQL a
pg_trgm GIN index on the same words (without it when the server refuses the extension).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: The searched words, written out as they were when this revision was made (a migration
#: keeps its own copy: later code may search other fields through a later revision).
_FIELDS = ("first_name", "last_name", "email", "company")


def _sqlite_words(row: str) -> str:
    parts = [f"{row}.lead_id"] + [
        f"coalesce(json_extract({row}.attributes, '$.{name}'), '')" for name in _FIELDS
    ]
    return "lower(" + " || ' ' || ".join(parts) + ")"


def _postgres_words() -> str:
    parts = ["leads.lead_id"] + [
        f"coalesce((leads.attributes)::json ->> '{name}', '')" for name in _FIELDS
    ]
    return "lower(" + " || ' ' || ".join(parts) + ")"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS lead_search "
            "USING fts5(words, tokenize='trigram', detail='none')"
        )
        op.execute("DELETE FROM lead_search")
        op.execute(
            f"INSERT INTO lead_search(rowid, words) SELECT rowid, {_sqlite_words('leads')} "
            "FROM leads"
        )
        op.execute(
            "CREATE TRIGGER IF NOT EXISTS lead_search_insert AFTER INSERT ON leads BEGIN "
            f"INSERT INTO lead_search(rowid, words) VALUES (new.rowid, {_sqlite_words('new')}); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER IF NOT EXISTS lead_search_update AFTER UPDATE ON leads BEGIN "
            "DELETE FROM lead_search WHERE rowid = old.rowid; "
            f"INSERT INTO lead_search(rowid, words) VALUES (new.rowid, {_sqlite_words('new')}); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER IF NOT EXISTS lead_search_delete AFTER DELETE ON leads BEGIN "
            "DELETE FROM lead_search WHERE rowid = old.rowid; END"
        )
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            # the operator class named by the schema the extension lives in: a DBA may have
            # put it in a schema the service's search path does not hold
            where = bind.execute(
                sa.text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                    "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
                )
            ).scalar_one()
            opclass = '"' + where.replace('"', '""') + '".gin_trgm_ops'
            op.execute(
                "CREATE INDEX IF NOT EXISTS ix_leads_search ON leads "
                f"USING gin (({_postgres_words()}) {opclass})"
            )
    except sa.exc.DBAPIError as exc:  # no right to the extension, or it is out of reach
        logging.getLogger("leadscore").warning(
            "no trigram index on the leads (%s): searching leads by name or email reads "
            "every lead (docs/service.md says how to add the index by hand)",
            exc.orig,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("lead_search_insert", "lead_search_update", "lead_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS lead_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_leads_search")
