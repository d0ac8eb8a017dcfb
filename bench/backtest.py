"""Backtest benchmark: a year of daily steps replayed at once vs the batch engine run per day.

    python bench/backtest.py --leads 100000 --events 10000000 --runs 3

Both variants start from the same batch preparation of the brief's model over the same
Parquet data (bench/data.py) and score the 365 days before AS_OF, each at the end of its day,
the stage of each step starting from the one before. ``replay`` is ``leadscore backtest``'s
engine (engines/replay.py); ``per-day`` loops ``BatchEngine.score`` over the days with the
lifecycle carried in memory. The loop is timed on every ``--sample``-th day and its median
step is multiplied by 365 (the loop over every day takes minutes a run); the two are
checked equal on the sampled days. Each variant runs in its own process (peak memory is its
own). Reported: median seconds of each, the ratio, peak RSS, and the preparation's time.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import data

DAYS = 365


def _inputs(leads_path: Path, events_path: Path) -> tuple[object, object, list[int], float]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadscore import compile_plan, default_model
    from leadscore.app.backtest import judged_versions
    from leadscore.engines.registry import get_preparing_engine
    from leadscore.engines.replay import Recorded

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    plan = compile_plan(default_model())
    started = time.perf_counter()
    prepared = get_preparing_engine().prepare(plan, leads, events)
    preparing = time.perf_counter() - started
    rows = leads.append_column(
        "valid_from", pa.array(np.full(leads.num_rows, -(2**62)), pa.int64())
    ).append_column("id", pa.array(np.arange(leads.num_rows), pa.int64()))
    versions = judged_versions(plan, rows, prepared)
    empty = np.zeros(0, np.int64)
    recorded = Recorded(np.zeros(prepared.size, np.int64), empty, empty, empty, empty, empty)
    last = data.AS_OF // data.DAY_US
    days = list(range(last - DAYS + 1, last + 1))
    return prepared, (versions, recorded), days, preparing


def replay_year(leads_path: Path, events_path: Path, sample: int) -> dict[str, float]:
    from leadscore.engines.replay import replay

    prepared, (versions, recorded), days, preparing = _inputs(leads_path, events_path)
    started = time.perf_counter()
    replay(prepared, versions, recorded, days)  # type: ignore[arg-type]
    return {"seconds": time.perf_counter() - started, "prepare": preparing}


def per_day_loop(leads_path: Path, events_path: Path, sample: int) -> dict[str, float]:
    import numpy as np
    import pyarrow as pa

    from leadscore.engines.registry import get_preparing_engine
    from leadscore.engines.replay import replay
    from leadscore.engines.timeline import end_of_day

    prepared, (versions, recorded), days, preparing = _inputs(leads_path, events_path)
    engine = get_preparing_engine()
    step_seconds = []
    stage: dict[str, str] = {}
    results = {}
    for k, day in enumerate(days):
        if k % sample:
            continue  # the stage carried from a sampled step: the check below compares those
        lifecycle = pa.table(
            {
                "lead_id": pa.array(list(stage), pa.string()),
                "stage": pa.array(list(stage.values()), pa.string()),
                "recycled_at": pa.nulls(len(stage), pa.int64()),
            }
        )
        started = time.perf_counter()
        table = engine.score(prepared, end_of_day(day), lifecycle=lifecycle)  # type: ignore[arg-type]
        step_seconds.append(time.perf_counter() - started)
        stage = dict(zip(table["lead_id"].to_pylist(), table["stage"].to_pylist(), strict=True))
        results[k] = table
    # equal on the sampled days when the replay steps on those same days
    sampled = [d for k, d in enumerate(days) if k % sample == 0]
    again = replay(prepared, versions, recorded, sampled)  # type: ignore[arg-type]
    for column, k in enumerate(sorted(results)):
        assert np.array_equal(again.score[column], results[k]["score"].to_numpy())
        names = [stage.name for stage in again.plan.stages]
        stages = [names[i] if i >= 0 else None for i in again.stage[column].tolist()]
        assert stages == results[k]["stage"].to_pylist()
    return {"seconds": statistics.median(step_seconds) * len(days), "prepare": preparing}


VARIANTS = {"replay": replay_year, "per-day": per_day_loop}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=30, help="time the loop every Nth day")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    leads_path, events_path = data.make(args.leads, args.events)
    if args.variant:
        found = VARIANTS[args.variant](leads_path, events_path, args.sample)
        found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(found))
        return
    print(
        f"{platform.processor() or platform.machine()}, {args.leads:,} leads, "
        f"{args.events:,} events, {DAYS} daily steps, {args.runs} runs"
    )
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    for run in range(args.runs):
        for name in VARIANTS:  # alternated, so both see the same machine
            output = (
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--leads",
                        str(args.leads),
                        "--events",
                        str(args.events),
                        "--sample",
                        str(args.sample),
                        "--variant",
                        name,
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            measured[name].append(json.loads(output))
            print(f"run {run + 1} {name}: {measured[name][-1]}", file=sys.stderr)
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in measured.items()
    }
    for name, values in medians.items():
        print(
            f"{name:8} {values['seconds']:8.1f} s  peak {values['peak_mb']:7.0f} MB  "
            f"(preparation {values['prepare']:.1f} s, not counted)"
        )
    ratio = medians["per-day"]["seconds"] / medians["replay"]["seconds"]
    print(f"replay is {ratio:.1f}x faster than the per-day loop")


if __name__ == "__main__":
    main()
