"""The track event names a database holds, read without the database layer's start-up.

``leadscore validate`` warns of rules counting an event no stored event has; it runs on every
edit of a model file, so it must stay quick. Opening a ``Store`` loads SQLAlchemy's dialects,
Alembic (to bring the schema up to date) and pyarrow: a second and more before the first
line. An SQLite database is read here with the standard library instead, read-only and as it
is (a database not made yet, or made before events were kept, has none). Other databases are
servers, read through the ``Store``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

_SQLITE = "sqlite:///"
_NAMES = "SELECT DISTINCT event FROM events WHERE event IS NOT NULL"


def stored_event_names(database_url: str) -> set[str]:
    """Every distinct track event name stored in the database at ``database_url``."""
    if not database_url.startswith(_SQLITE) or "?" in database_url:
        from leadscore.store.store import Store

        with Store.open(database_url) as store:
            return store.event_names()
    path = Path(database_url.removeprefix(_SQLITE))
    if not path.is_file():
        return set()
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        with sqlite3.connect(uri, uri=True) as conn:
            return {row[0] for row in conn.execute(_NAMES)}
    except sqlite3.OperationalError:  # no events table: nothing stored yet
        return set()
