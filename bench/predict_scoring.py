"""``leadscore score --model``'s work, timed: every lead of the 365 Data Science project
scored by a trained model, with its probability and three reasons
(``predict.scoring.predict``).

    python bench/predict_scoring.py --project /tmp/p365 --runs 3

The first run builds the project from ../shared/data (kept in ``--project``) and trains a
model of trees alone there (a format every tree since the registry reads); later runs reuse
both. To compare two trees, run it with ``PYTHONPATH=<tree>/src`` for each, alternating, on
the same ``--project``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leadscore import Project
from leadscore.predict import behaviour, history, registry
from leadscore.predict.scoring import predict
from leadscore.predict.trees import train
from tests.predict import learn365

NAME = "buyers"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = args.project
    if not (root / "leadscore.toml").exists():
        learn365.build(root)
    project = Project.open(root)
    with project.store() as store:
        end = history.data_end(store)
        assert end is not None
        if not registry.names(root):
            last = (end - 30 * history.DAY_US) // history.DAY_US * history.DAY_US
            window = history.Window(last, 6, 14, 30)
            data = history.snapshots(store, window)
            kinds = behaviour.event_kinds(store.events_arrow(), last)
            try:  # the trees alone: a model every tree can load
                model, _ = train(data, seed=0, family=False)  # type: ignore[call-arg]
            except TypeError:
                model, _ = train(data, seed=0)
            registry.save(root, NAME, model, kinds=kinds, from_history=True, metrics={})
        loaded = registry.load(root, NAME)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            table = predict(store, loaded, end)
            times.append(time.perf_counter() - started)
    each = ", ".join(f"{t:.2f}" for t in times)
    print(
        f"predict: {table.num_rows:,} leads with 3 reasons each in "
        f"{statistics.median(times):.2f} s (median of {args.runs}: {each})"
    )


if __name__ == "__main__":
    main()
