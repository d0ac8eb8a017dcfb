"""The point-in-time training rows of a data lake, built on Spark: what ``history.snapshots``
builds from the project's database, for ``leadscore train --lake``.

One feature builder, not a second copy: the rows are ``history.snapshot_rows`` (the same
DuckDB queries) run in Spark's executors on whole accounts, the way ``engines.spark`` runs
the batch engine. Each lead, its events and its first conversion go to the partition of its
account (a lead without one is its own), so the account facts (people at the same company,
their recent events) are complete there. The kinds of behaviour counted are chosen as the
database path chooses them: each partition counts its events by kind with the same query
(``behaviour.kind_counts``), and Spark adds the counts up.

The lake holds the leads' current attributes, not their history: every cut-off sees today's
attributes (the database keeps each version and sees the attributes as they were). Sales
verdicts are not read from the lake.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.app.lake import lake_outcomes, leads_and_events
from leadscore.engines.plan import compile_plan
from leadscore.engines.spark import (
    EVENT_COLUMNS,
    by_account,
    narrowed,
    partition_inputs,
    score_frames,
    spark_session,
)
from leadscore.errors import ConfigError, InputError
from leadscore.predict import behaviour, history
from leadscore.predict.dataset import Dataset
from leadscore.predict.feedback import no_verdicts
from leadscore.predict.point_scores import placed
from leadscore.settings import Lake
from leadscore.spec.model import ScoringModel

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CONVERSION_COLUMNS = ("lead_id", "first_at")
#: The columns of a training row before the behaviour's own.
HEAD = (("lead_id", "string"), ("label", "int"), ("cutoff", "bigint"), ("attributes", "string"))
TAIL = (("said_before", "string"), ("heard_after", "string"))


def lake_snapshots(
    lake: Lake, window: history.Window, *, session: SparkSession | None = None
) -> tuple[Dataset, list[str]]:
    """Every lead of the lake seen before each of the window's cut-offs and not yet
    converted, labelled by the horizon, and the kinds of behaviour its features count."""
    from pyspark.sql import functions as F

    if lake.outcomes is None:
        raise ConfigError(
            "training from the lake needs lake.outcomes in leadscore.toml: a table of "
            "lead_id, outcome and at saying who converted and when"
        )
    spark = session or spark_session()
    leads, events = leads_and_events(spark, lake)
    outcomes = lake_outcomes(spark, lake.outcomes)
    conversions = (
        outcomes.where(F.col("outcome").isin(*history.POSITIVE_OUTCOMES))
        .groupBy("lead_id")
        .agg(F.min("at").alias("first_at"))
    )
    kinds = _kinds(events, window.last_cutoff)
    gathered = by_account(leads, {"event": events, "conversion": conversions}, lake.partitions)
    names = list(behaviour.behaviour_names(kinds))
    ddl = ", ".join(
        f"{name} {kind}" for name, kind in (*HEAD, *((n, "double") for n in names), *TAIL)
    )
    built = gathered.mapInArrow(partial(_partition_rows, window, kinds, names), ddl)
    table = built.toArrow()
    if table.num_rows == 0:
        raise InputError(
            "no lead of the lake was seen before the cut-offs: nothing to learn from "
            "(move the cut-off with --cutoff, or check lake.events)"
        )
    rows = table.to_pandas().sort_values(["cutoff", "lead_id"], ignore_index=True)
    ever = {row["lead_id"] for row in conversions.select("lead_id").toLocalIterator()}
    data = history.snapshot_dataset(rows, kinds, window, ever, source="the lake")
    return data, kinds


def lake_end(lake: Lake, *, session: SparkSession | None = None) -> int | None:
    """The latest instant the lake knows anything about (an event or an outcome), as
    ``history.data_end`` for the database."""
    from pyspark.sql import functions as F

    spark = session or spark_session()
    _, events = leads_and_events(spark, lake)
    found = [events.agg(F.max("timestamp")).first()]
    if lake.outcomes is not None:
        found.append(lake_outcomes(spark, lake.outcomes).agg(F.max("at")).first())
    known = [int(row[0]) for row in found if row is not None and row[0] is not None]
    return max(known) if known else None


def _kinds(events: DataFrame, before: int) -> list[str]:
    """``behaviour.event_kinds`` over the lake's events: each partition counted by the same
    query, the counts added up, the same order and the same cut."""
    from pyspark.sql import functions as F

    counted = events.mapInArrow(partial(_kind_counts, before), "kind string, n bigint")
    totals = counted.groupBy("kind").agg(F.sum("n").alias("n"))
    top = totals.orderBy(F.desc("n"), F.asc("kind")).limit(behaviour.TOP_EVENT_KINDS)
    return [str(row["kind"]) for row in top.collect()]


def _kind_counts(before: int, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """In the executor: this partition's events before ``before``, counted by kind."""
    received = list(batches)
    if not received:
        return
    events = narrowed(pa.Table.from_batches(received).select(list(EVENT_COLUMNS)))
    found = behaviour.kind_counts(events, before)
    yield from pa.table(
        {"kind": found["kind"].astype(str).tolist(), "n": found["n"].astype("int64").tolist()},
        schema=pa.schema([("kind", pa.string()), ("n", pa.int64())]),
    ).to_batches()


def _partition_rows(
    window: history.Window,
    kinds: Sequence[str],
    names: Sequence[str],
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """In the executor: ``history.snapshot_rows`` for this partition's accounts."""
    found = partition_inputs(batches, {"event": EVENT_COLUMNS, "conversion": CONVERSION_COLUMNS})
    if found is None:
        return
    leads, inputs = found
    events, conversions = inputs["event"], inputs["conversion"]
    assert events is not None and conversions is not None
    rows = history.snapshot_rows(
        events, conversions, no_verdicts(), lambda _cutoff: leads, window, kinds
    )
    if rows.empty:
        return
    columns: dict[str, object] = {
        "lead_id": rows["lead_id"].astype(str).tolist(),
        "label": rows["label"].astype("int32").to_numpy(),
        "cutoff": rows["cutoff"].astype("int64").to_numpy(),
        "attributes": [v if isinstance(v, str) else None for v in rows["attributes"]],
    }
    for name in names:
        columns[name] = pd.to_numeric(rows[name], errors="coerce").astype(float).to_numpy()
    for name, _ in TAIL:
        columns[name] = [v if isinstance(v, str) else None for v in rows[name]]
    yield from pa.table(columns).to_batches()


def lake_point_scores(
    lake: Lake, model: ScoringModel, data: Dataset, *, session: SparkSession | None = None
) -> tuple[np.ndarray, list[str | None]]:
    """``point_scores`` of rows built from the lake (``lake_snapshots``): each row's score
    (points) and tier as of just before its cut-off, from the lake's events before it, scored
    on Spark; a lead the model does not apply to scores 0, tier none."""
    from pyspark.sql import functions as F

    spark = session or spark_session()
    leads, events = leads_and_events(spark, lake)
    plan = compile_plan(model)
    scores = np.zeros(len(data.label))
    tiers: list[str | None] = [None] * len(data.label)
    for cutoff in np.unique(data.order):
        rows = np.flatnonzero(data.order == cutoff)
        wanted = {data.ids[i]: int(i) for i in rows}
        before = events.where(F.col("timestamp") < int(cutoff))
        frame = score_frames([plan], leads, before, int(cutoff) - 1, partitions=lake.partitions)
        result = frame.select("lead_id", "score", "tier").toArrow()
        result = result.filter(pc.is_in(result["lead_id"], pa.array(list(wanted), pa.string())))
        placed(result, wanted, scores, tiers)
    return scores, tiers
