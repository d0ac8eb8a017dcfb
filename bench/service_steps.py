"""The service's steps for one batch, in process: parse, store, score a round, keep it.

    python bench/service_steps.py --batches 40
    python bench/service_steps.py --batches 40 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

A fresh project (on PostgreSQL: in a schema of its own, dropped at the end) with the default
model gets 2,000 identified leads, ten to a company, as `bench/ingest.py` makes them. Then each
of `--batches` batches of 500 events (`bench/ingest.py`'s messages) goes through what the
service does with it, one step after the other, each timed: `parse_messages`,
`store_messages`, `score_marked` of the leads it touched (a rescoring round, with the kept
preparations of the rounds before) and `keep_results`. Medians leave out the first two
batches (imports, the first reads). Where `bench/ingest.py` says how the service does, this
says which step costs what, without the client and the HTTP server on the same cores.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ingest import database, message

from leadscore._types import now_us
from leadscore.app.ingestion import parse_messages, store_messages
from leadscore.app.preparations import Preparations
from leadscore.app.project import Project, open_store
from leadscore.app.scoring import keep_results, score_marked

LEADS = 2_000
STEPS = ("parse", "store", "score", "keep")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: the embedded SQLite)"
    )
    args = parser.parse_args()
    with database(args.database_url) as url:
        run(args.batches, url)


def run(batches: int, url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="leadscore-steps-"))
    project = Project.init(folder)
    store = open_store(url or project.database_url)
    models = project.models()
    identify = [
        {
            "type": "identify",
            "userId": f"L{n}",
            "traits": {"email": f"p{n}@co{n // 10}.example", "job_title": "Manager"},
        }
        for n in range(LEADS)
    ]
    preparations = Preparations()
    for start in range(0, LEADS, 500):  # identified and scored, as the service would
        pending, _, _ = parse_messages(identify[start : start + 500], None, now_us())
        touched = sorted(store_messages(store, [pending]))
        at = now_us()
        marks, results = score_marked(store, models, touched, at, preparations)
        keep_results(store, models, results, at, lead_ids=touched, marks=marks)
    rng = random.Random(3)
    seconds: dict[str, list[float]] = {step: [] for step in STEPS}
    for number in range(batches):
        items = [message(rng, LEADS, number * 500 + i) for i in range(500)]
        started = time.perf_counter()
        pending, _, _ = parse_messages(items, None, now_us())
        parsed = time.perf_counter()
        touched = sorted(store_messages(store, [pending]))
        stored = time.perf_counter()
        at = now_us()
        marks, results = score_marked(store, models, touched, at, preparations)
        scored = time.perf_counter()
        keep_results(store, models, results, at, lead_ids=touched, marks=marks)
        kept = time.perf_counter()
        for step, begin, end in zip(
            STEPS, (started, parsed, stored, scored), (parsed, stored, scored, kept), strict=True
        ):
            seconds[step].append(end - begin)
    store.close()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; {LEADS:,} leads, "
        f"default model, {'PostgreSQL' if url else 'SQLite'}; {batches} batches of 500 events"
    )
    for step in STEPS:
        print(f"{step}: median {statistics.median(seconds[step][2:]) * 1000:.1f} ms a batch")


if __name__ == "__main__":
    main()
