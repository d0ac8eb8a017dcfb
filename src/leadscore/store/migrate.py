"""Schema migrations (Alembic): every database is brought to the newest schema when opened.

The migration scripts are in ``store/migrations/versions``; a change of ``schema.py`` gets a
new one (``alembic -c src/leadscore/store/migrations/alembic.ini revision --autogenerate``
against an up-to-date database, then read and trimmed by hand). There is one path: a database
made before migrations existed has no revision and is brought forward by the first one, which
adds what the early releases lacked (``0001_baseline``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

FOLDER = Path(__file__).parent / "migrations"


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.attributes["connection"] = connection
    return config


#: The tables of the first revision, as the releases before migrations made them with
#: ``create_all`` (tests rebuild such a database from them).
BASELINE_TABLES = (
    "leads",
    "lead_versions",
    "store_info",
    "identities",
    "events",
    "stage_transitions",
    "api_keys",
    "lead_scores",
    "outcomes",
    "feedback",
    "erasures",
)


@cache
def head() -> str:
    """The newest revision."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def current(engine: sa.Engine) -> str | None:
    """The database's revision (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Bring the database to ``head`` (nothing to do, and no transaction, when it is there)."""
    if current(engine) == head():
        return
    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")
