"""Incremental scoring benchmark: latency of IncrementalScorer.update_one per event.

    python bench/incremental.py --leads 10000 --events 300000 --runs 3

Events arrive in time order, each scored as of its own timestamp with the default (brief)
model, explanation included. The baseline, measured in the same run on the first events,
is the naive real-time approach: rebuild the lead's state from all its events on every event.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import data

from leadscore import Event, IncrementalScorer, compile_plan, default_model


def load(leads: int, events: int) -> tuple[dict[str, dict[str, object]], list[Event]]:
    import pyarrow.parquet as pq

    lead_path, event_path = data.make(leads, events)
    lead_rows = pq.read_table(lead_path).to_pylist()
    event_table = pq.read_table(event_path).sort_by("timestamp")
    attributes = {row["lead_id"]: json.loads(row["attributes"]) for row in lead_rows}
    stream = [
        Event(
            f"m{i}",
            row["lead_id"],
            row["type"],
            row["event"],
            row["timestamp"],
            json.loads(row["properties"]),
        )
        for i, row in enumerate(event_table.to_pylist())
    ]
    return attributes, stream


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_incremental(attributes: dict[str, dict[str, object]], stream: list[Event]) -> list[float]:
    scorer = IncrementalScorer(compile_plan(default_model()))
    states = {}
    latencies = []
    for event in stream:
        started = time.perf_counter_ns()
        state = states.get(event.lead_id)
        if state is None:
            state = states[event.lead_id] = scorer.new_state(
                event.lead_id, attributes[event.lead_id]
            )
        scorer.update_one(state, event)
        latencies.append((time.perf_counter_ns() - started) / 1e6)
    return latencies


def run_naive(attributes: dict[str, dict[str, object]], stream: list[Event]) -> list[float]:
    scorer = IncrementalScorer(compile_plan(default_model()))
    history: dict[str, list[Event]] = {}
    latencies = []
    for event in stream:
        started = time.perf_counter_ns()
        history.setdefault(event.lead_id, []).append(event)
        state = scorer.new_state(event.lead_id, attributes[event.lead_id])
        for past in history[event.lead_id]:
            scorer.add_one(state, past)
        scorer.score_one(state, event.timestamp)
        latencies.append((time.perf_counter_ns() - started) / 1e6)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--naive-events", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    attributes, stream = load(args.leads, args.events)
    per_lead = len(stream) / len({e.lead_id for e in stream})
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}; "
        f"{len(stream):,} events over {args.leads:,} leads ({per_lead:.0f} per active lead)"
    )
    for name, runner, events in (
        ("leadscore", run_incremental, stream),
        ("naive replay", run_naive, stream[: args.naive_events]),
    ):
        p50s, p99s, rates = [], [], []
        for _ in range(args.runs):
            latencies = runner(attributes, events)
            p50s.append(percentile(latencies, 0.5))
            p99s.append(percentile(latencies, 0.99))
            rates.append(len(latencies) / (sum(latencies) / 1000))
        print(
            f"{name:13s} on {len(events):,} events: p50 {statistics.median(p50s):.3f} ms, "
            f"p99 {statistics.median(p99s):.3f} ms, {statistics.median(rates):,.0f} events/s "
            f"(median of {args.runs} runs)"
        )


if __name__ == "__main__":
    main()
