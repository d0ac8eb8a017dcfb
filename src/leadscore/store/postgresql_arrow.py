"""Fast Arrow reads of a PostgreSQL database, through the ADBC PostgreSQL driver.

The driver reads a query's rows with PostgreSQL's binary ``COPY`` straight into Arrow, where
fetching them through SQLAlchemy makes a Python object of every value. It opens a connection
of its own (libpq, the same URL), which sees what is committed, as a new SQLAlchemy
connection would. Without the driver (it comes with the ``postgres`` extra) reads fall back
to fetching rows.
"""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa


def available() -> bool:
    """Whether the ADBC PostgreSQL driver is installed."""
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def read_arrow(url: sa.URL, query: str) -> pa.Table:
    """The rows of ``query`` as Arrow, read by the ADBC driver over a connection to ``url``
    (a SQLAlchemy URL, its driver name dropped for libpq's)."""
    import adbc_driver_postgresql.dbapi as adbc

    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        table: pa.Table = cursor.fetch_arrow_table()
    return table
