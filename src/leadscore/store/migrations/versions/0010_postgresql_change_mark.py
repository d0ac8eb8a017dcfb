"""PostgreSQL: the transaction that wrote each row of events, identities and lead_versions,
the change mark of kept preparations there (``store.changes``).

SQLite numbers rows in commit order (one writer at a time), so its row numbers are the mark
and it needs nothing here. PostgreSQL commits concurrent writers in any order, so a row
number says nothing about what a reader had seen; a row's writing transaction (``xid8``),
checked against the snapshot of the run that kept a preparation, does.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The tables whose new rows change a lead (``store.changes``), and the column added.
TABLES = ("events", "identities", "lead_versions")
COLUMN = "written_xid"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {COLUMN} xid8 NOT NULL "
            "DEFAULT pg_current_xact_id()"
        )
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_written ON {table} ({COLUMN})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_written")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {COLUMN}")
