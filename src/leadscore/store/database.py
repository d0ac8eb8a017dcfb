"""The connection to a leadscore database: opening it (and migrating it to the newest schema),
SQLite's write-ahead log, transactions, and reading a query out as Arrow.

The tables' reads and writes are in ``leads``, ``events`` and ``stages``; ``store.Store``
puts them together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any, Self

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from leadscore.errors import ConfigError
from leadscore.store import migrate, postgresql_arrow, schema
from leadscore.store.sqlite_arrow import read_arrow

#: SQLite's page cache per connection, in KiB.
SQLITE_CACHE_KIB = 65_536


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 64 MiB of pages kept per connection (SQLite's default is 2 MiB): an import's index
    # inserts and a scoring run's reads stay in memory for a few million events
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class Database:
    """A leadscore database. Open with ``open(url)``; close with ``close()``."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str) -> Self:
        """Connect and bring the schema to the newest revision. ``sqlite:///path.db`` is the
        embedded default."""
        try:
            engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise ConfigError(f"database URL {url!r} cannot be used: {exc}") from None
        if engine.dialect.name == "sqlite":
            sa_event.listen(engine, "connect", _sqlite_pragmas)
        database = cls(engine, url)
        try:
            migrate.upgrade(engine)
            database._add_store_id()
        except BaseException as exc:  # the connections opened so far are closed, not left to GC
            engine.dispose()
            if isinstance(exc, sa.exc.OperationalError):
                raise ConfigError(f"database {url!r} cannot be opened: {exc.orig}") from None
            raise
        return database

    def _add_store_id(self) -> None:
        info = schema.store_info
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(info.c.value).where(info.c.key == "store_id")).first()
            if found is None:
                conn.execute(info.insert().values(key="store_id", value=uuid.uuid4().hex))

    @property
    def store_id(self) -> str:
        """This database's random id (see ``schema.store_info``)."""
        info = schema.store_info
        with self.engine.connect() as conn:
            query = sa.select(info.c.value).where(info.c.key == "store_id")
            return str(conn.execute(query).scalar_one())

    def defer_checkpoints(self) -> bool:
        """SQLite: stop this store's commits from copying the write-ahead log back into the
        database when it grows (a commit that does it waits ~100 ms for the disk); the caller
        runs ``checkpoint`` in the background instead. False on other databases."""
        if self.engine.dialect.name != "sqlite":
            return False
        sa_event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # pooled connections were opened with it
        return True

    def checkpoint(self) -> tuple[int, int]:
        """SQLite: copy the write-ahead log into the database without blocking readers or
        writers (a passive checkpoint); returns the pages in the log and those copied."""
        with self.engine.connect() as conn:
            _, logged, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(logged), int(copied)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def begin(self, conn: sa.Connection | None = None) -> Iterator[sa.Connection]:
        """A transaction: ``conn``'s own when one is given (the caller's transaction takes
        this write too), else a new one committed on leaving."""
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as new:
            yield new

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    def arrow(self, query: str, arrow_schema: pa.Schema) -> pa.Table:
        """The rows of a read-only ``query`` as an Arrow table of ``arrow_schema``, several
        times faster than fetching rows: on a SQLite file through the ADBC driver in a child
        process (``sqlite_arrow``), on PostgreSQL through its ADBC driver
        (``postgresql_arrow``)."""
        return self.arrows([(query, arrow_schema)])[0]

    def arrows(self, reads: Sequence[tuple[str, pa.Schema]]) -> list[pa.Table]:
        """Several ``arrow`` reads at once: on a SQLite file one child process reads them in
        turn (one start for all), on PostgreSQL each has its own ADBC connection and they
        run at the same time (each mostly waits on the server)."""
        database = self.engine.url.database
        queries = [query for query, _ in reads]
        found: list[pa.Table] | None = None
        if self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            found = read_arrow(str(database), queries) if queries else []
        elif self.engine.dialect.name == "postgresql" and postgresql_arrow.available():
            with ThreadPoolExecutor(max(len(queries), 1), thread_name_prefix="arrow") as pool:
                read = partial(postgresql_arrow.read_arrow, self.engine.url)
                found = list(pool.map(read, queries))
        if found is None:
            return [self._fetched(query, arrow_schema) for query, arrow_schema in reads]
        return [
            arrow_schema.empty_table()
            if table.num_rows == 0
            else table.rename_columns(arrow_schema.names).cast(arrow_schema)
            for table, (_, arrow_schema) in zip(found, reads, strict=True)
        ]

    def _fetched(self, query: str, arrow_schema: pa.Schema) -> pa.Table:
        """``arrow`` without a driver (an in-memory SQLite database, or PostgreSQL without
        the ``postgres`` extra): the rows fetched through SQLAlchemy."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(query)).all()
        columns = {name: [row[i] for row in rows] for i, name in enumerate(arrow_schema.names)}
        return pa.table(columns, schema=arrow_schema)
