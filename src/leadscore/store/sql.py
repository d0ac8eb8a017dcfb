"""The store's shared SQL: the Arrow shapes of its reads, the queries more than one module
runs, and the helpers every reader and writer needs (lists of ids bound as one parameter or
in chunks, bulk inserts, one-statement upserts)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

LEADS_SCHEMA = pa.schema(
    [("lead_id", pa.string()), ("attributes", pa.string()), ("account_id", pa.string())]
)
VERSIONS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("valid_from", pa.int64()),
        ("id", pa.int64()),
        ("attributes", pa.string()),
        ("account_id", pa.string()),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("type", pa.string()),
        ("event", pa.string()),
        ("timestamp", pa.int64()),
        ("properties", pa.string()),
    ]
)

#: Events whose lead is known directly or through an identify that linked its anonymous id.
RESOLVED_EVENTS = (
    "SELECT COALESCE(e.lead_id, i.lead_id) AS lead_id, e.type, e.event, e.timestamp, "
    "e.properties, e.message_id FROM events e LEFT JOIN identities i "
    "ON e.lead_id IS NULL AND i.anonymous_id = e.anonymous_id "
    "WHERE COALESCE(e.lead_id, i.lead_id) IS NOT NULL"
)

#: The events of some leads, resolved as ``RESOLVED_EVENTS`` resolves them: by their own lead
#: id, or through an anonymous id linked to the lead (each half uses an index). ``{leads}`` is
#: ``:ids`` (an expanding parameter) or a parenthesised subquery.
EVENTS_OF_LEADS = (
    "SELECT lead_id, type, event, timestamp, properties, message_id FROM events "
    "WHERE lead_id IN {leads} UNION ALL SELECT i.lead_id, e.type, e.event, e.timestamp, "
    "e.properties, e.message_id FROM identities i JOIN events e "
    "ON e.anonymous_id = i.anonymous_id AND e.lead_id IS NULL WHERE i.lead_id IN {leads}"
)

#: ``valid_from`` of a lead's first attributes: they count from the start of time.
EARLIEST = -(2**62)

#: Each lead's attribute version at or before ``{as_of}`` (an integer, written in).
VERSIONS_AS_OF = (
    "SELECT lead_id, attributes, account_id FROM (SELECT lead_id, attributes, account_id, "
    "ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY valid_from DESC, id DESC) AS rn "
    "FROM lead_versions WHERE valid_from <= {as_of}) v WHERE rn = 1"
)


def chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``size``: an IN list stays under the database's limit on
    bound parameters."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def among(conn: sa.Connection, column: str, mark: str | None = None) -> str:
    """SQL testing ``column`` against a list given as one parameter (``listed``): one
    statement for any number of ids, where an IN list is bound to the database's limit on
    parameters (``chunks``). ``mark``: the parameter's placeholder (default: the driver's,
    for ``exec_driver_sql``; ``among_named`` gives ``:name``)."""
    if conn.dialect.name == "postgresql":
        return f"{column} = ANY({mark or '%s'})"
    return f"{column} IN (SELECT value FROM json_each({mark or '?'}))"


def listed(conn: sa.Connection, ids: Sequence[Any]) -> Any:
    """``ids`` as the one parameter ``among`` tests against: an array for PostgreSQL, a JSON
    list for SQLite."""
    return list(ids) if conn.dialect.name == "postgresql" else json.dumps(list(ids))


def one_of(
    conn: sa.Connection, column: sa.ColumnElement[Any], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """``column`` is one of ``values``, all bound as one parameter (``among`` for SQLAlchemy
    expressions): one statement however many there are, where ``column.in_`` binds one
    parameter a value, and PostgreSQL parses a cast for each (2,000 ids took 10-20 ms)."""
    given = listed(conn, values)
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, given, type_=ARRAY(column.type)))
    return column.in_(sa.select(sa.func.json_each(given).table_valued("value").c.value))


def among_named(
    conn: sa.Connection, column: str, name: str, values: Sequence[str]
) -> tuple[str, sa.BindParameter[Any]]:
    """``among`` for ``sa.text``: SQL testing ``column`` against the parameter ``:name``, and
    that parameter bound to ``values`` (strings)."""
    array = conn.dialect.name == "postgresql"
    value = sa.bindparam(name, listed(conn, values), ARRAY(sa.String) if array else sa.String())
    return among(conn, column, f":{name}"), value


def insert_rows(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keys: Sequence[str] = (),
    replace: bool = False,
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) in bulk, in ``conn``'s
    transaction, and return how many rows were written.

    With ``keys``, a row whose keys are stored already is skipped (``ON CONFLICT DO
    NOTHING``: the stored row wins, so no lookup is needed first) or, with ``replace``, has
    its other columns replaced (then no two rows may share keys). SQLite and PostgreSQL both
    spell it so, and both count only the rows written. On SQLite the rows go through one
    prepared statement; on PostgreSQL many rows are copied (``COPY``) into a temporary table
    first, a tenth of the round trips of one statement a row. For plain columns (text,
    numbers): the values go to the driver as given, without SQLAlchemy's per-row parameter
    processing."""
    if not rows:
        return 0
    names = ", ".join(columns)
    conflict = ""
    if keys:
        others = [name for name in columns if name not in keys]
        action = (
            "DO UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in others)
            if replace and others
            else "DO NOTHING"
        )
        conflict = f" ON CONFLICT ({', '.join(keys)}) {action}"
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_ROWS:
        return _copied(conn, table, names, rows, conflict)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    values = ", ".join([mark] * len(columns))
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({values}){conflict}"
    return int(conn.exec_driver_sql(statement, list(rows)).rowcount)


#: From how many rows ``insert_rows`` copies them into PostgreSQL rather than inserting.
COPY_ROWS = 50


def _copied(
    conn: sa.Connection, table: sa.Table, names: str, rows: Sequence[Sequence[Any]], conflict: str
) -> int:
    """``rows`` copied into a temporary table shaped like ``table`` (made once a session,
    emptied at commit), then inserted from it with ``conflict``."""
    stage = f"copy_into_{table.name}"
    driver: Any = conn.connection.driver_connection  # psycopg's, in the same transaction
    cursor = driver.cursor()
    try:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage}{conflict}")
        written = int(cursor.rowcount)
        cursor.execute(f"TRUNCATE {stage}")  # a second call in this transaction starts empty
    finally:
        cursor.close()
    return written


def upsert(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows``, replacing the other columns of rows whose ``keys`` exist already, in
    one statement (SQLite and PostgreSQL both have ``ON CONFLICT ... DO UPDATE``)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        statement: Any = postgresql_insert(table)
    else:
        statement = sqlite_insert(table)
    others = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in others}
    )
    conn.execute(statement, list(rows))
