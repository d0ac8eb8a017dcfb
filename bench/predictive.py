"""Predictive scoring on the real datasets in ../shared/data, every model beside its baselines
in the same run (the data is never copied into the project).

    python bench/predictive.py                       # every dataset, 3 seeds, 20 tuning trials
    python bench/predictive.py --datasets xeducation --seeds 1 --tune 10

Datasets (``--datasets``: xeducation, shoppers, learn365, learn365-first-day): X Education
leads without the sales team's leaky columns (the honest headline) and, labelled apart, with
them; UCI Online Shoppers; the 365 Data Science event logs taken point in time (a project:
students as leads, activities as events, purchases as outcomes; cut-offs every 7 days, label
"buys within 30 days", leads who bought before a cut-off left out), and the same students each
at the end of the day they registered (same-day buyers counted apart). Then the time to train
on 50,000 rows of the 365 history. Prints Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from leadscore.predict import behaviour, history
from leadscore.predict.dataset import Dataset, read_table
from leadscore.predict.evaluation import evaluate
from leadscore.predict.point_scores import point_scores
from leadscore.predict.trees import train
from leadscore.spec.loader import default_model
from tests.predict import learn365

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LEAKY = ["Tags", "Lead Quality", "Last Activity", "Last Notable Activity"]
COLUMNS = ("roc_auc", "pr_auc", "lift_top_10", "capture_top_20", "brier", "ece", "train_seconds")


def xeducation(leaky: bool) -> Dataset:
    drop = ["Lead Number"] + ([] if leaky else LEAKY)
    return read_table(
        DATA / "xeducation_leads" / "Leads.csv",
        "Converted",
        id_column="Prospect ID",
        drop=drop,
        missing=["Select"],
    )


def shoppers() -> Dataset:
    return read_table(DATA / "online_shoppers" / "online_shoppers_intention.csv", "Revenue")


def run(
    name: str, data: Dataset, seeds: int, tune: int, store: Any = None, kinds: Any = None
) -> dict[str, Any]:
    runs = []
    for seed in range(seeds):
        started = time.perf_counter()
        result = evaluate(
            data,
            seed=seed,
            hand_models=[default_model()],
            score_points=lambda m, rows: point_scores(m, rows, store),
            kinds=kinds,
            tune_trials=tune,
        )
        report = result.report
        print(f"  {name} seed {seed}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        runs.append(report)
    return {"name": name, "runs": runs}


def table(result: dict[str, Any]) -> str:
    runs = result["runs"]
    first = runs[0]
    lines = [
        f"**{result['name']}**: {first['train_rows']:,} rows learned from, {first['test_rows']:,} "
        f"test rows ({first['test_conversions']:,} conversions), {first['split']}; medians of "
        f"{len(runs)} seed(s).",
        "",
        "| model | ROC AUC | PR AUC | lift top 10 % | capture top 20 % | Brier | ECE | train s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model in first["models"]:
        measured = [r["models"][model] for r in runs]
        if "roc_auc" not in measured[0]:
            lines.append(f"| {model} | {measured[0]['note']} | | | | | | |")
            continue
        cells = []
        for column in COLUMNS:
            values = [m.get(column) for m in measured]
            values = [v for v in values if v is not None]
            cells.append(f"{statistics.median(values):.3f}" if values else "n/a")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    chosen = [m["chosen"] for r in runs for m in r["models"].values() if "chosen" in m]
    if chosen:
        lines += ["", "The default model chose, by seed: " + "; ".join(chosen) + "."]
    if first["warnings"]:
        lines += ["", "Warnings: " + "; ".join(first["warnings"])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        nargs="*",
        default=["xeducation", "shoppers", "learn365", "learn365-first-day"],
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tune", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write every number here")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"the datasets are not at {DATA}; see its README")
    results = []
    if "xeducation" in args.datasets:
        results.append(
            run("X Education, without leaky columns", xeducation(False), args.seeds, args.tune)
        )
        results.append(
            run(
                "X Education, WITH the leaky columns (not honest)",
                xeducation(True),
                args.seeds,
                args.tune,
            )
        )
    if "shoppers" in args.datasets:
        results.append(run("Online Shoppers", shoppers(), args.seeds, args.tune))
    if "learn365-first-day" in args.datasets:
        with tempfile.TemporaryDirectory() as folder:
            project = learn365.build(Path(folder) / "project")
            with project.store() as store:
                started = time.perf_counter()
                taken = history.after_first_touch(store, 0, 30)
                built = time.perf_counter() - started
                print(
                    f"\n365, each student at the end of the day they registered (read in "
                    f"{built:.1f} s): {len(taken.data.label):,} students, "
                    f"{taken.data.conversions:,} buy within 30 days after; left out: "
                    f"{taken.converted_before:,} who bought on the day they registered (the "
                    f"trivially easy ones, reported apart), {taken.too_recent:,} registered "
                    "too late for their 30 days to be known."
                )
                results.append(
                    run(
                        "365 Data Science, end of registration day",
                        taken.data,
                        args.seeds,
                        args.tune,
                        store,
                        taken.kinds,
                    )
                )
    if "learn365" in args.datasets:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            project = learn365.build(Path(folder) / "project")
            print(f"  365 project built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            with project.store() as store:
                end = history.data_end(store)
                assert end is not None
                last = (end - 30 * history.DAY_US) // history.DAY_US * history.DAY_US
                window = history.Window(last, 30, 7, 30)
                started = time.perf_counter()
                data = history.snapshots(store, window)
                built = time.perf_counter() - started
                kinds = behaviour.event_kinds(store.events_arrow(), last)
                print(
                    f"  365 snapshots: {len(data.label):,} rows in {built:.1f} s", file=sys.stderr
                )
                results.append(
                    run(
                        "365 Data Science, point in time", data, args.seeds, args.tune, store, kinds
                    )
                )
                rng = np.random.default_rng(0)
                rows = np.sort(rng.choice(len(data.label), 50_000, replace=False))
                sample = data.subset(rows)
                timings = []
                for seed in range(3):
                    started = time.perf_counter()
                    train(sample, seed=seed)
                    timings.append(time.perf_counter() - started)
                each = ", ".join(f"{t:.2f}" for t in timings)
                columns = sample.behaviour.shape[1] + sample.raw.shape[1]
                print(
                    f"\nTraining on 50,000 rows of the 365 history ({sample.conversions} "
                    f"conversions, {columns} input columns): median "
                    f"{statistics.median(timings):.2f} s of 3 ({each}); snapshots built in "
                    f"{built:.1f} s for {len(data.label):,} rows"
                )
    for result in results:
        print()
        print(table(result))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
