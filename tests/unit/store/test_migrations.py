"""Schema migrations: a new database is made by them and matches the tables the code uses; a
database made before migrations is upgraded in place, keeping its data."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from leadscore import Store
from leadscore.store import migrate, schema

#: Indexes on expressions, which SQLAlchemy cannot reflect: checked by name instead.
EXPRESSION_INDEXES = {"ix_lead_scores_rank", "ix_leads_search"}
#: PostgreSQL's change mark (migration 0010): a column the code never names, and its indexes.
CHANGE_MARK = {
    "written_xid",
    "ix_events_written",
    "ix_identities_written",
    "ix_lead_versions_written",
}


def _differences(engine: sa.Engine) -> list[object]:
    def compared(item: object, name: str | None, kind: str, *_: object) -> bool:
        search = kind == "table" and (name or "").startswith("lead_search")  # SQLite's FTS5
        mark = name in CHANGE_MARK and kind in ("column", "index")
        return not search and not mark and not (kind == "index" and name in EXPRESSION_INDEXES)

    options = {"include_object": compared}
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        warnings.filterwarnings("ignore", "Did not recognize type 'xid8'")  # CHANGE_MARK's
        found = compare_metadata(MigrationContext.configure(conn, opts=options), schema.metadata)
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            if engine.dialect.name == "sqlite"
            else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
        names = set(conn.execute(sa.text(sql)).scalars())
        if engine.dialect.name == "sqlite":  # the search index (store/lead_search.py)
            names |= (
                {"ix_leads_search"}
                if "lead_search" in sa.inspect(conn).get_table_names()
                else set()
            )
    return list(found) + [f"missing index {n}" for n in sorted(EXPRESSION_INDEXES - names)]


def test_a_new_database_is_at_the_newest_revision_and_matches_the_code(
    database_url: str,
) -> None:
    store = Store.open(database_url)
    try:
        assert migrate.current(store.engine) == migrate.head()
        assert _differences(store.engine) == []
    finally:
        store.close()


def test_a_database_from_before_migrations_is_upgraded_keeping_its_data(
    database_url: str,
) -> None:
    engine = sa.create_engine(database_url)
    baseline = [schema.metadata.tables[name] for name in migrate.BASELINE_TABLES]
    schema.metadata.create_all(engine, tables=baseline)  # what the last release made
    with engine.begin() as conn:
        conn.execute(
            schema.leads.insert().values(
                lead_id="old", attributes='{"company": "Acme"}', updated_at=1, account_id=None
            )
        )
    engine.dispose()

    store = Store.open(database_url)
    try:
        assert migrate.current(store.engine) == migrate.head()
        assert _differences(store.engine) == []
        assert store.lead("old") == {"company": "Acme"}
        assert store.count("webhook_deliveries") == 0
    finally:
        store.close()


def test_opening_again_changes_nothing(database_url: str) -> None:
    Store.open(database_url).close()
    store = Store.open(database_url)
    try:
        with store.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == [migrate.head()]
    finally:
        store.close()
