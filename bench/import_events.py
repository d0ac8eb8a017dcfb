"""``leadscore import events`` against the bare baseline issue 19 names: ``json.loads`` per
line and ``sqlite3.executemany`` into the same events table, nothing checked.

    python bench/import_events.py --events 200000 --leads 10000 --runs 3 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Each run imports the same Segment JSON lines (track and page calls, as the demo company's
mix) into a new project's SQLite database, in this process (start-up not counted), and the
baseline writes the same lines into a copy of the schema made by a new project. With
``--postgres``, each run also imports the lines into a new schema of that server. Reports the
medians of the runs, events per second, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from postgres_schema import scratch_store

from leadscore import Project
from leadscore.app.imports import import_events
from leadscore.store import ingest

KINDS = [
    ("page", None, {"path": "/"}),
    ("page", None, {"path": "/pricing"}),
    ("page", None, {"path": "/blog/lead-scoring-101"}),
    ("track", "Email Opened", {"email_type": "newsletter"}),
    ("track", "Email Link Clicked", {}),
    ("track", "Webinar Attended", {}),
    ("track", "Form Submitted", {}),
    ("track", "Content Downloaded", {"premium": True}),
]


#: What analytics.js sends beside a call (``--browser``): Segment's own context.
CONTEXT = {
    "library": {"name": "analytics.js", "version": "5.2.0"},
    "ip": "203.0.113.7",
    "locale": "en-US",
    "page": {"path": "/", "referrer": "https://www.google.com/", "title": "Acme"},
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
}


def write_lines(
    path: Path, events: int, leads: int, seed: int = 1, *, browser: bool = False
) -> None:
    """``events`` Segment calls over ``leads`` leads; with ``browser``, each as analytics.js
    sends it: an anonymousId (one a lead), a context with the user agent, sentAt."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for number in range(events):
            kind, event, properties = rng.choice(KINDS)
            month, day, minute = rng.randrange(1, 10), rng.randrange(10, 29), rng.randrange(60)
            message = {
                "type": kind,
                "userId": f"L{rng.randrange(leads)}",
                "messageId": f"m{number}",
                "timestamp": f"2026-0{month}-{day}T10:{minute:02d}:00Z",
                "properties": properties,
            }
            if event is not None:
                message["event"] = event
            if browser:
                lead = message["userId"]
                message["anonymousId"] = f"anon-{lead}"
                message["context"] = CONTEXT
                message["sentAt"] = message["timestamp"]
            out.write(json.dumps(message) + "\n")


def leadscore_run(lines: Path, folder: Path) -> float:
    project = Project.init(folder)
    started = time.perf_counter()
    summary = import_events(project, lines)
    elapsed = time.perf_counter() - started
    assert summary.new > 0 and not summary.rejects, summary
    return elapsed


def postgres_run(lines: Path, url: str, run: int) -> float:
    """The same import into a new schema of a PostgreSQL server (dropped afterwards)."""
    with scratch_store(url, f"bench_import_{run}") as store:
        started = time.perf_counter()
        summary = ingest.import_events(store, lines)
        elapsed = time.perf_counter() - started
    assert summary.new > 0 and not summary.rejects, summary
    return elapsed


def baseline_run(lines: Path, folder: Path) -> float:
    """The bare path: a new project's empty database, then json.loads + executemany."""
    Project.init(folder)
    database = folder / "leadscore.db"
    started = time.perf_counter()
    conn = sqlite3.connect(database)
    rows = []
    with lines.open(encoding="utf-8") as handle:
        for line in handle:
            m = json.loads(line)
            rows.append(
                (
                    m["messageId"],
                    m["userId"],
                    m.get("anonymousId"),
                    m["type"],
                    m.get("event"),
                    0,
                    json.dumps(m["properties"]),
                    0,
                )
            )
    conn.executemany(
        "INSERT OR IGNORE INTO events (message_id, lead_id, anonymous_id, type, event, "
        "timestamp, properties, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL to import into as well")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="lines as analytics.js sends them (anonymousId, context, sentAt)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        lines = root / "events.jsonl"
        write_lines(lines, args.events, args.leads, browser=args.browser)
        times: dict[str, list[float]] = {"leadscore": [], "baseline": []}
        if args.postgres:
            times["postgresql"] = []
        for run in range(args.runs):  # alternating, so a slow minute hits each
            times["baseline"].append(baseline_run(lines, root / f"b{run}"))
            times["leadscore"].append(leadscore_run(lines, root / f"l{run}"))
            if args.postgres:
                times["postgresql"].append(postgres_run(lines, args.postgres, run))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    style = "analytics.js lines" if args.browser else "Segment lines"
    print(f"data: {args.events:,} {style} over {args.leads:,} leads; median of {args.runs}")
    medians = {name: statistics.median(found) for name, found in times.items()}
    for name, found in times.items():
        rate = args.events / medians[name]
        runs = ", ".join(f"{t:.2f}" for t in found)
        print(f"{name:10} {medians[name]:6.2f} s  {rate:9,.0f} events/s  runs [{runs}]")
    for name in times:
        if name != "baseline":
            ratio = medians["baseline"] / medians[name]
            print(f"{name}: {ratio:.2f}x the bare baseline's rate")


if __name__ == "__main__":
    main()
