"""What PostgreSQL's change mark costs a write: events copied into a table shaped like
``events`` with and without ``written_xid`` (the column and its index, migration 0010),
alternated in one run.

    python bench/postgres_write_cost.py --rows 200000 --runs 3 \\
        --postgres postgresql://postgres@127.0.0.1:5432/test

Each round makes the table anew (its primary key and the two indexes ``events`` has) and
times one ``COPY`` of the rows in one transaction, as ``store.sql.insert_rows`` writes many
rows. Reported: the median of each way and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

COLUMNS = "message_id, lead_id, anonymous_id, type, event, timestamp, properties, received_at"


def make(cursor: psycopg.Cursor[object], marked: bool) -> None:
    cursor.execute("DROP TABLE IF EXISTS bench_write_cost")
    cursor.execute(
        "CREATE TABLE bench_write_cost (message_id varchar(255) PRIMARY KEY, "
        "lead_id varchar(255), anonymous_id varchar(255), type varchar(16) NOT NULL, "
        "event varchar(255), timestamp bigint NOT NULL, properties text NOT NULL, "
        "received_at bigint NOT NULL)"
    )
    cursor.execute("CREATE INDEX ON bench_write_cost (lead_id, timestamp)")
    cursor.execute("CREATE INDEX ON bench_write_cost (anonymous_id)")
    if marked:
        cursor.execute(
            "ALTER TABLE bench_write_cost ADD COLUMN written_xid xid8 NOT NULL "
            "DEFAULT pg_current_xact_id()"
        )
        cursor.execute("CREATE INDEX ON bench_write_cost (written_xid)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = [
        (
            f"m{n}",
            f"L{n % 10_000}",
            None,
            "track",
            "Email Opened",
            1_700_000_000_000_000 + n,
            "{}",
            0,
        )
        for n in range(args.rows)
    ]
    times: dict[str, list[float]] = {"without the mark": [], "with written_xid": []}
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        cursor = conn.cursor()
        try:
            for _ in range(args.runs):
                for way in times:
                    make(cursor, marked=way == "with written_xid")
                    started = time.perf_counter()
                    with (
                        conn.transaction(),
                        cursor.copy(f"COPY bench_write_cost ({COLUMNS}) FROM STDIN") as copy,
                    ):
                        for row in rows:
                            copy.write_row(row)
                    times[way].append(time.perf_counter() - started)
        finally:
            cursor.execute("DROP TABLE IF EXISTS bench_write_cost")
    medians = {way: statistics.median(found) for way, found in times.items()}
    for way, found in times.items():
        runs = ", ".join(f"{t:.2f}" for t in found)
        print(f"{way:17} {medians[way]:6.2f} s  [{runs}]")
    ratio = medians["with written_xid"] / medians["without the mark"]
    print(f"{args.rows:,} rows: the mark takes {ratio:.2f}x the time")


if __name__ == "__main__":
    main()
