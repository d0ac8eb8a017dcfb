"""Fast Arrow reads of the embedded SQLite database, in a child process.

The ADBC SQLite driver reads several times faster than row-by-row fetching, but it bundles its
own copy of SQLite. Two SQLite copies in one process cancel each other's POSIX locks on the
same file (sqlite.org/howtocorrupt.html, 2.2.1): with WAL this showed as stale reads and
"disk I/O error" here. So the driver runs in a child process, SQLite's supported way to
share a file, and streams the result back as Arrow IPC.

The child runs ``_CHILD``: it imports only pyarrow and the driver's low-level module (not
leadscore, nor the driver's DB-API module, which pulls in pandas), so it starts in about a
tenth of a second. It takes the database path as its argument and a JSON list of queries on
stdin, and writes one Arrow IPC stream per query, one after the other: several reads cost one
start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

import pyarrow as pa

_CHILD = """
import json
import sys

import adbc_driver_manager as adbc
import adbc_driver_sqlite
import pyarrow as pa

queries = json.load(sys.stdin)
with adbc_driver_sqlite.connect(sys.argv[1]) as database, adbc.AdbcConnection(database) as conn:
    for query in queries:
        with adbc.AdbcStatement(conn) as statement:
            statement.set_sql_query(query)
            handle, _ = statement.execute_query()
            reader = pa.RecordBatchReader.from_stream(handle)
            with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
"""


def read_arrow(database: str, queries: Sequence[str]) -> list[pa.Table]:
    """Each query's result, read in turn by the ADBC driver in one child process."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, database],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    child.stdin.write(json.dumps(list(queries)).encode("utf-8"))
    child.stdin.close()
    tables: list[pa.Table] = []
    try:
        for _ in queries:  # the streams follow each other: each reader stops at its end
            tables.append(pa.ipc.open_stream(child.stdout).read_all())
    except pa.ArrowInvalid:
        pass  # the child failed part way: its error is on stderr
    child.stdout.close()
    errors = child.stderr.read().decode("utf-8", "replace")
    child.stderr.close()
    if child.wait() != 0 or len(tables) != len(queries):
        raise RuntimeError(f"reading {database} failed: {errors.strip()}")
    return tables
