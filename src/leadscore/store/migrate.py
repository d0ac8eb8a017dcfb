"""Schema migrations (Alembic): every database is brought to the newest schema when opened.

The migration scripts are in ``store/migrations/versions``; a change of ``schema.py`` gets a
new one (``alembic -c src/leadscore/store/migrations/alembic.ini revision --autogenerate``
against an up-to-date database, then read and trimmed by hand). A database made before
migrations existed is upgraded by the checks it always had and marked as the first revision.
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
#: The first revision: the schema of databases made before migrations existed.
BASELINE = "0001"


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.attributes["connection"] = connection
    return config


#: The tables of the baseline, made by ``create_all`` before migrations existed.
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


def upgrade(engine: sa.Engine, *, legacy: bool) -> None:
    """Bring the database to ``head``; ``legacy``: it was made before migrations and already
    has the baseline's tables (it is marked as the baseline first)."""
    with engine.begin() as conn:
        config = _config(conn)
        if legacy:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
