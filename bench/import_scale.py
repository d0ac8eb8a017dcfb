"""An event import at scale into a new SQLite project, with a chosen page cache and number
of messages a transaction (what SQLite's index upkeep costs as the table grows):

    python bench/import_events.py ...   # for the same-run baseline at 200,000 lines
    python bench/import_scale.py --lines 3000000 --leads 300000 --cache-kib 65536 \
        --messages 100000

Writes the lines (``import_events.write_lines``) unless ``--file`` names them, imports
them with ``store.ingest.import_events`` (workers as the command uses), prints the wall time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from import_events import write_lines

from leadscore import Project
from leadscore.store import database, ingest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3_000_000)
    parser.add_argument("--leads", type=int, default=300_000)
    parser.add_argument("--cache-kib", type=int, default=database.SQLITE_CACHE_KIB)
    parser.add_argument("--messages", type=int, default=ingest.WRITE_MESSAGES)
    parser.add_argument("--file", type=Path, help="lines written before (skips writing)")
    args = parser.parse_args()
    database.SQLITE_CACHE_KIB = args.cache_kib
    ingest.WRITE_MESSAGES = args.messages
    folder = Path(tempfile.mkdtemp())
    try:
        lines = args.file or folder / "events.jsonl"
        if args.file is None:
            write_lines(lines, args.lines, args.leads)
        project = Project.init(folder / "project")
        started = time.perf_counter()
        summary = ingest.import_events(project.store(), lines)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(folder)
    print(
        f"page cache {args.cache_kib:,} KiB, {args.messages:,} messages a transaction: "
        f"{elapsed:.1f} s, {summary.new:,} new, {summary.new / elapsed:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
