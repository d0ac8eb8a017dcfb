"""The embedded engine and Spark local mode on the same data: the scaling of issue 18.

    python bench/spark.py --leads 100000 --events 1000000 10000000 --runs 3

For each size, each variant runs in its own process (so peak memory is its own), on the
same Parquet files (bench/data.py), scoring every lead with the brief model from scratch:

- embedded: read the Parquet files, ``BatchEngine.score_many``, write the results as Parquet;
- spark: ``leadscore.app.lake.score_lake`` in Spark local mode (``local[2]``, 2 GB of driver
  memory): read the same files, score on Spark, write the results partition. The session's
  start is not counted (it is reported apart).

Reported: median wall seconds, events per second and per core, and peak memory (the
process's own; for Spark also the JVM's. The executors' Python workers are not counted: each
holds one partition, about a partition's share of the embedded engine's peak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import data

CORES = 2


def embedded(leads_path: Path, events_path: Path, out: Path) -> dict[str, float]:
    import pyarrow.parquet as pq

    from leadscore import compile_plan, default_model
    from leadscore.engines.registry import get_engine

    started = time.perf_counter()
    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    result = get_engine("duckdb").score_many(
        compile_plan(default_model()), leads, events, data.AS_OF
    )
    pq.write_table(result, out / "results.parquet")
    return {"seconds": time.perf_counter() - started, "rows": result.num_rows}


def spark(leads_path: Path, events_path: Path, out: Path, partitions: int) -> dict[str, float]:
    from pyspark.sql import SparkSession

    from leadscore import default_model
    from leadscore.app.lake import score_lake
    from leadscore.settings import Lake

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    begun = time.perf_counter()
    session = (
        SparkSession.builder.master(f"local[{CORES}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    start_up = time.perf_counter() - begun
    lake = Lake(
        leads=str(leads_path),
        events=str(events_path),
        results=str(out / "results"),
        partitions=partitions,
    )
    started = time.perf_counter()
    run = score_lake(lake, [default_model()], data.AS_OF, session=session)
    seconds = time.perf_counter() - started
    jvm = _peak_mb(session.sparkContext._gateway.proc.pid)  # type: ignore[union-attr]
    session.stop()
    return {"seconds": seconds, "rows": sum(run.rows.values()), "start_up": start_up, "jvm_mb": jvm}


def _peak_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(args: argparse.Namespace) -> None:
    leads_path, events_path = data.make(args.leads, args.events[0])
    with tempfile.TemporaryDirectory() as folder:
        if args.variant == "embedded":
            found = embedded(leads_path, events_path, Path(folder))
        else:
            found = spark(leads_path, events_path, Path(folder), args.partitions)
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec
    found["peak_mb"] = _peak_mb(os.getpid())
    # the executors' Python workers are children of the JVM, not of this process
    print(json.dumps(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--partitions",
        type=int,
        default=0,
        help="Spark partitions (default: events / 1 M, at least 4)",
    )
    parser.add_argument("--variant", choices=["embedded", "spark"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        child(args)
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for events in args.events:
        data.make(args.leads, events)
        partitions = args.partitions or max(4, events // 1_000_000)
        print(
            f"data: {args.leads:,} leads, {events:,} events; {partitions} Spark partitions; "
            f"median of {args.runs}"
        )
        medians = {}
        for variant in ("embedded", "spark"):
            runs = []
            for _ in range(args.runs):
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--variant",
                        variant,
                        "--leads",
                        str(args.leads),
                        "--events",
                        str(events),
                        "--partitions",
                        str(partitions),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            seconds = statistics.median(r["seconds"] for r in runs)
            medians[variant] = seconds
            peak = max(r["peak_mb"] for r in runs)
            extra = ""
            if variant == "spark":
                start = statistics.median(r["start_up"] for r in runs)
                jvm = max(r["jvm_mb"] for r in runs)
                extra = f"  JVM peak {jvm:,.0f} MB  session start {start:.1f} s"
            print(
                f"  {variant:9s} {seconds:7.2f} s  {events / seconds:12,.0f} events/s  "
                f"{events / seconds / CORES:10,.0f} per core  peak {peak:,.0f} MB{extra}  "
                f"runs {[round(r['seconds'], 2) for r in runs]}  rows {runs[0]['rows']:,}"
            )
        print(f"  spark: {medians['embedded'] / medians['spark']:.2f}x the embedded engine's rate")


if __name__ == "__main__":
    main()
