"""The lab's backtest over a data lake, on Spark: ``leadscore backtest --lake``.

One replay, not a second copy: each partition of whole accounts (``engines.spark.by_account``)
is replayed by ``engines.replay`` in its executor, under every model, as ``app.backtest`` does
over the database, and measured there by ``backtest_metrics.measured``. The driver adds the
partitions' numbers up (``merged``): counts and weeks add, the medians are taken over every
partition's hand-overs, and the leads the models treat differently are ranked together.

As for training from the lake, the lake holds each lead's current attributes, which every
step sees (the database keeps each version). The stages a replay starts from are those of the
latest lake run (``lake.results``) at or before the first step; a lake has no CRM stages or
recycles to replay.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from leadscore.app.backtest import Backtest, backtest_steps, judged_versions, recorded
from leadscore.app.backtest_metrics import (
    Difference,
    ModelResult,
    TierRate,
    Week,
    differences,
    first_conversions,
    measured,
    ranked,
)
from leadscore.app.lake import lake_outcomes, leads_and_events, previous_stages
from leadscore.engines.batch import BatchEngine
from leadscore.engines.plan import compile_plan
from leadscore.engines.replay import Replay, Replayer
from leadscore.engines.spark import EVENT_COLUMNS, by_account, partition_inputs, spark_session
from leadscore.engines.timeline import end_of_day
from leadscore.errors import InputError
from leadscore.settings import Lake
from leadscore.spec.model import ScoringModel
from leadscore.store.sql import EARLIEST

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

OUTCOME_COLUMNS = ("lead_id", "outcome", "at")
STAGE_COLUMNS = ("lead_id", "model", "stage")
#: What the replay reads of the recorded moves: none in a lake.
NO_MOVES = pa.table(
    {
        "lead_id": pa.array([], pa.string()),
        "at": pa.array([], pa.int64()),
        "to_stage": pa.array([], pa.string()),
        "kind": pa.array([], pa.string()),
    }
)


def lake_backtest(
    lake: Lake,
    models: Sequence[tuple[str, ScoringModel]],
    start: int,
    end: int,
    *,
    every_days: int = 1,
    horizon_days: int = 90,
    stage: str | None = None,
    differences_limit: int | None = 50,
    session: SparkSession | None = None,
) -> Backtest:
    """``app.backtest.run_backtest`` over the lake: ``models`` (label, model; the candidate
    first) replayed from ``start`` to ``end`` on Spark, conversions read from
    ``lake.outcomes``."""
    from pyspark.sql import functions as F

    days = backtest_steps(start, end, every_days, horizon_days)
    spark = session or spark_session()
    leads, events = leads_and_events(spark, lake)
    followers = {"event": events}
    if lake.outcomes is not None:
        followers["outcome"] = lake_outcomes(spark, lake.outcomes)
    _, stages = previous_stages(spark, lake.results, end_of_day(days[0]) + 1)
    if stages is not None:
        followers["stage"] = stages.select(*STAGE_COLUMNS)
    gathered = by_account(leads, followers, lake.partitions)
    work = partial(
        _replayed_partition, [m for _, m in models], days, horizon_days, stage, differences_limit
    )
    rows = gathered.mapInArrow(work, "model int, part string").collect()
    parts: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        parts.setdefault(int(row["model"]), []).append(json.loads(row["part"]))
    if not parts:
        raise InputError("the lake has no lead to replay (check lake.leads)")
    results, found_differences = [], {}
    for index, (label, _) in enumerate(models):
        result, listed = merged(parts[index], differences_limit)
        results.append(result)
        if index > 0:
            found_differences[label] = listed
    ids = sorted({d.lead_id for listed in found_differences.values() for d in listed})
    instants = [end_of_day(day) for day in days]
    return Backtest(
        start=instants[0],
        end=instants[-1],
        step_days=every_days,
        horizon_days=horizon_days,
        labels=[label for label, _ in models],
        results=results,
        differences=found_differences,
        people=_people(leads.where(F.col("lead_id").isin(ids)).collect()) if ids else {},
    )


def _replayed_partition(
    models: list[ScoringModel],
    days: list[int],
    horizon_days: int,
    stage: str | None,
    limit: int | None,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """In the executor: this partition's accounts replayed under every model and measured;
    one row per model, its numbers as JSON (``_part``)."""
    found = partition_inputs(
        batches, {"event": EVENT_COLUMNS, "outcome": OUTCOME_COLUMNS, "stage": STAGE_COLUMNS}
    )
    if found is None:
        return
    leads, inputs = found
    events, outcomes, stages = inputs["event"], inputs["outcome"], inputs["stage"]
    if outcomes is None:
        outcomes = pa.table({name: pa.array([], pa.string()) for name in OUTCOME_COLUMNS[:2]})
        outcomes = outcomes.append_column("at", pa.array([], pa.int64()))
    versions = pa.table(
        {
            "lead_id": leads["lead_id"],
            "valid_from": pa.array([EARLIEST] * leads.num_rows, pa.int64()),
            "id": pa.array(range(leads.num_rows), pa.int64()),
            "attributes": leads["attributes"],
            "account_id": leads["account_id"],
        }
    )
    first: Replay | None = None
    numbered, parts = [], []
    for index, scoring_model in enumerate(models):
        plan = compile_plan(scoring_model)
        prepared = BatchEngine(threads=1).prepare(plan, leads, events)
        lifecycle = pa.table(
            {"lead_id": pa.array([], pa.string()), "stage": pa.array([], pa.string())}
        )
        if stages is not None:
            lifecycle = stages.filter(pc.equal(stages["model"], plan.model))
        start = recorded(plan, lifecycle, NO_MOVES, prepared.lead_ids, end_of_day(days[0]))
        replay = Replayer(prepared, judged_versions(plan, versions, prepared), start, days).run()
        numbers, to_next, to_sale = measured(
            replay, first_conversions(outcomes, replay.lead_ids), horizon_days, stage
        )
        listed = [] if first is None else differences(first, replay, limit)
        first = first or replay
        numbered.append(index)
        parts.append(json.dumps(_part(numbers, to_next, to_sale, listed)))
    yield pa.record_batch(
        [pa.array(numbered, pa.int32()), pa.array(parts, pa.string())], names=["model", "part"]
    )


def _part(
    numbers: ModelResult, to_next: list[float], to_sale: list[float], listed: list[Difference]
) -> dict[str, Any]:
    return {
        "numbers": asdict(numbers),
        "to_next": to_next,
        "to_sale": to_sale,
        "differences": [asdict(d) for d in listed],
    }


def merged(
    parts: Sequence[dict[str, Any]], limit: int | None
) -> tuple[ModelResult, list[Difference]]:
    """One model's numbers over every partition: what ``measure`` says of all the leads at
    once (the partitions hold whole accounts, the same steps and the same model), and the
    leads treated differently, ranked together."""
    results = [_numbers(part["numbers"]) for part in parts]
    head = results[0]
    weeks: dict[str, dict[str, int]] = {}
    for result in results:
        for week in result.weeks:
            into = weeks.setdefault(week.start, dict.fromkeys(week.entered, 0))
            for name, count in week.entered.items():
                into[name] += count
    mix: dict[str, dict[str, int]] = {}
    for result in results:
        for day, counts in result.tier_mix:
            into = mix.setdefault(day, dict.fromkeys(counts, 0))
            for name, count in counts.items():
                into[name] += count
    to_next = [days for part in parts for days in part["to_next"]]
    to_sale = [days for part in parts for days in part["to_sale"]]
    total = replace(
        head,
        weeks=[Week(start, entered) for start, entered in weeks.items()],
        handed_over=sum(r.handed_over for r in results),
        handed_over_converted=sum(r.handed_over_converted for r in results),
        conversions=sum(r.conversions for r in results),
        conversions_handed_over=sum(r.conversions_handed_over for r in results),
        days_to_next=statistics.median(to_next) if to_next else None,
        days_to_conversion=statistics.median(to_sale) if to_sale else None,
        tier_rates=[
            TierRate(
                rate.tier,
                sum(r.tier_rates[i].leads for r in results),
                sum(r.tier_rates[i].converted for r in results),
            )
            for i, rate in enumerate(head.tier_rates)
        ],
        tier_mix=list(mix.items()),
        censored=sum(r.censored for r in results),
    )
    listed = [
        Difference(d["lead_id"], tuple(d["first"]), tuple(d["second"]), d["reason"])
        for part in parts
        for d in part["differences"]
    ]
    return total, ranked(listed, limit)


def _numbers(found: dict[str, Any]) -> ModelResult:
    return ModelResult(
        **{
            **found,
            "weeks": [Week(w["start"], w["entered"]) for w in found["weeks"]],
            "tier_rates": [TierRate(**rate) for rate in found["tier_rates"]],
            "tier_mix": [(day, counts) for day, counts in found["tier_mix"]],
        }
    )


def _people(rows: list[Any]) -> dict[str, dict[str, Any]]:
    """Who the listed leads are (``people.person``), from the lake's attributes."""
    from leadscore.app.people import person

    found = {}
    for row in rows:
        try:
            attributes = json.loads(row["attributes"] or "{}")
        except ValueError:
            attributes = {}
        found[row["lead_id"]] = person(attributes if isinstance(attributes, dict) else {})
    return found
