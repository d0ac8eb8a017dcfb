"""Fast Arrow reads of the embedded SQLite database, in a child process.

The ADBC SQLite driver reads several times faster than row-by-row fetching, but it bundles its
own copy of SQLite. Two SQLite copies in one process cancel each other's POSIX locks on the
same file (sqlite.org/howtocorrupt.html, 2.2.1): with WAL this showed as stale reads and
"disk I/O error" here. So the driver runs in a child process, SQLite's supported way to
share a file, and streams the result back as Arrow IPC.

The child runs ``_CHILD`` (it imports only pyarrow and the driver, not leadscore, so it starts
fast), with the database path as its argument and the query on stdin.
"""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa

_CHILD = """
import sys
import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa

query = sys.stdin.read()
with adbc.connect(sys.argv[1]) as connection, connection.cursor() as cursor:
    cursor.execute(query)
    reader = cursor.fetch_record_batch()
    with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
"""


def read_arrow(database: str, query: str) -> pa.Table:
    """The query's result, read by the ADBC driver in a child process."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, database],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    child.stdin.write(query.encode("utf-8"))
    child.stdin.close()
    try:
        table = pa.ipc.open_stream(child.stdout).read_all()
    except pa.ArrowInvalid:
        table = None
    child.stdout.close()
    errors = child.stderr.read().decode("utf-8", "replace")
    child.stderr.close()
    if child.wait() != 0 or table is None:
        raise RuntimeError(f"reading {database} failed: {errors.strip()}")
    return table
