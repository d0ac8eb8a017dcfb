"""Reading every event as Arrow from PostgreSQL: the ADBC driver against fetching rows
through SQLAlchemy (the fallback, and the only way before), alternated in one run.

    python bench/postgres_reads.py --events 1000000 --runs 3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The events (the brief's mix over 100,000 leads) are written once into a new schema, which is
dropped at the end. Reported: median seconds of ``Store.events_arrow()`` each way, and the
ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time

from postgres_schema import DEFAULT_URL, scratch_store

from leadscore import Store
from leadscore.store import database, schema
from leadscore.store.events import EVENT_COLUMNS
from leadscore.store.sql import insert_rows

NAMES = ["Email Opened", "Email Link Clicked", "Webinar Attended", "Form Submitted", None]


def fill(store: Store, events: int) -> None:
    rng = random.Random(1)
    rows = []
    for number in range(events):
        name = rng.choice(NAMES)
        rows.append(
            (
                f"m{number}",
                f"L{rng.randrange(100_000)}",
                None,
                "page" if name is None else "track",
                name,
                1_700_000_000_000_000 + number * 1_000_000,
                json.dumps({"path": "/pricing"} if name is None else {}),
                0,
            )
        )
    with store.engine.begin() as conn:
        for start in range(0, events, 100_000):
            insert_rows(conn, schema.events, EVENT_COLUMNS, rows[start : start + 100_000])
        conn.exec_driver_sql("ANALYZE events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=DEFAULT_URL)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"adbc": [], "rows": []}
    with scratch_store(args.postgres, "bench_reads") as store:
        fill(store, args.events)
        fast = database.postgresql_arrow.available
        try:
            for _ in range(args.runs):
                for way in times:
                    database.postgresql_arrow.available = fast if way == "adbc" else lambda: False
                    started = time.perf_counter()
                    read = store.events_arrow()
                    times[way].append(time.perf_counter() - started)
                    assert read.num_rows == args.events
        finally:
            database.postgresql_arrow.available = fast
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"data: {args.events:,} events on PostgreSQL; median of {args.runs}")
    medians = {way: statistics.median(found) for way, found in times.items()}
    for way, found in times.items():
        runs = ", ".join(f"{t:.2f}" for t in found)
        print(
            f"{way:5} {medians[way]:6.2f} s  {args.events / medians[way]:12,.0f} events/s  [{runs}]"
        )
    print(f"adbc: {medians['rows'] / medians['adbc']:.1f}x faster than fetching rows")


if __name__ == "__main__":
    main()
