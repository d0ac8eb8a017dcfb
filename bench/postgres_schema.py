"""A store in a PostgreSQL schema of its own, made for one benchmark and dropped after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from leadscore import Store

#: The server the PostgreSQL benchmarks use unless told otherwise (the machine's own).
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_store(url: str, schema: str) -> Iterator[Store]:
    """A new, empty store in ``schema`` on the server at ``url``; the schema is dropped on
    leaving, whatever happened."""
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in url else "?"
    store = Store.open(f"{url}{joiner}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
