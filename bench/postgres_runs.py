"""Scoring every lead on PostgreSQL, run after run: from scratch (what every run was before
PostgreSQL had a change mark) against a kept preparation brought up to date, in one run.

    python bench/postgres_runs.py --leads 100000 --events 1000000 --runs 3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The leads (with an email, a job title and a company size, for the brief model's fit rules)
and their events (the brief's mix) are written once into a new schema, dropped at the end.
Each round times three ``score_all`` calls under the brief model, as ``leadscore score``
makes them: from scratch (no kept preparation: every lead read and prepared), kept with
nothing new since the last run, and kept after 1,000 new events of 1,000 leads. Reported:
the median of each, and the ratios to from scratch.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from postgres_schema import DEFAULT_URL, scratch_store

from leadscore import Preparations, Store, default_model, score_all
from leadscore.store import schema
from leadscore.store.events import EVENT_COLUMNS
from leadscore.store.sql import insert_rows
from leadscore.store.store import StoredEvent

NAMES = ["Email Opened", "Email Link Clicked", "Webinar Attended", "Form Submitted", None]
TITLES = ["CEO", "VP Sales", "Engineer", "Student", "Head of Marketing", "Analyst"]
AS_OF = 1_700_000_000_000_000 + 400 * 86_400_000_000


def fill(store: Store, leads: int, events: int) -> None:
    rng = random.Random(1)
    people = [
        (
            f"L{n}",
            {
                "email": f"p{n}@co{n % 20_000}.example",
                "job_title": rng.choice(TITLES),
                "company_size": rng.choice([5, 50, 500, 5000]),
            },
            None,
        )
        for n in range(leads)
    ]
    for start in range(0, leads, 20_000):
        store.upsert_leads(people[start : start + 20_000])
    rows = []
    for number in range(events):
        name = rng.choice(NAMES)
        rows.append(
            (
                f"m{number}",
                f"L{rng.randrange(leads)}",
                None,
                "page" if name is None else "track",
                name,
                AS_OF - rng.randrange(365 * 86_400_000_000),
                json.dumps({"path": "/pricing"} if name is None else {}),
                0,
            )
        )
    with store.engine.begin() as conn:
        for start in range(0, events, 100_000):
            insert_rows(conn, schema.events, EVENT_COLUMNS, rows[start : start + 100_000])
        conn.exec_driver_sql("ANALYZE")


def new_events(leads: int, round_: int) -> list[StoredEvent]:
    rng = random.Random(round_)
    return [
        StoredEvent(
            f"new-{round_}-{n}", f"L{rng.randrange(leads)}", None, "track", "Demo Requested",
            AS_OF - 3_600_000_000, {},
        )
        for n in range(1_000)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=DEFAULT_URL)
    args = parser.parse_args()
    models = [default_model()]
    times: dict[str, list[float]] = {"scratch": [], "unchanged": [], "1,000 new events": []}
    with scratch_store(args.postgres, "bench_runs") as store:
        fill(store, args.leads, args.events)
        with tempfile.TemporaryDirectory() as folder:
            kept = Preparations(Path(folder))
            score_all(store, models, AS_OF, preparations=kept)  # the first run keeps it
            for round_ in range(args.runs):
                started = time.perf_counter()
                expected = score_all(store, models, AS_OF)
                times["scratch"].append(time.perf_counter() - started)
                started = time.perf_counter()
                found = score_all(store, models, AS_OF, preparations=kept)
                times["unchanged"].append(time.perf_counter() - started)
                assert found.to_pylist() == expected.to_pylist()
                store.add_events(new_events(args.leads, round_))
                started = time.perf_counter()
                found = score_all(store, models, AS_OF, preparations=kept)
                times["1,000 new events"].append(time.perf_counter() - started)
                assert found.num_rows == expected.num_rows
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    data = f"{args.leads:,} leads, {args.events:,} events on PostgreSQL"
    print(f"data: {data}; median of {args.runs}")
    scratch = statistics.median(times["scratch"])
    for way, found in times.items():
        median = statistics.median(found)
        runs = ", ".join(f"{t:.2f}" for t in found)
        print(f"{way:17} {median:6.2f} s  {scratch / median:5.1f}x from scratch  [{runs}]")


if __name__ == "__main__":
    main()
