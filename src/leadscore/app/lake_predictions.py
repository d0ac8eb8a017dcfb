"""A trained model's predictions for every lead of a data lake, made on Spark: what
``leadscore score --model NAME`` gives from the project's database, for a lake.

One feature builder and one model, not copies: each account partition (``engines.spark``'s
``by_account``: a lead, its colleagues and their events before the instant) is turned into
the rows ``history.rows_as_of`` builds from the database, and scored by the registered
model (``predict.scoring.predictions``) inside the executors. The account facts (people at
the same company, their recent events) are complete in a partition, so each lead's
features, probability and reasons are those of the database path.

The lake holds the leads' current attributes and no sales verdicts: a model that learned
from verdicts sees none here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

from leadscore._types import format_as_of
from leadscore.app.lake import leads_and_events, read_place, write_run
from leadscore.engines.spark import (
    EVENT_COLUMNS,
    by_account,
    named_bad_json,
    partition_inputs,
    spark_session,
)
from leadscore.predict import history
from leadscore.predict.feedback import no_verdicts
from leadscore.predict.registry import Loaded
from leadscore.predict.scoring import PREDICTION_SCHEMA, predictions
from leadscore.settings import Lake

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The predictions' columns as Spark declares them (``PREDICTION_SCHEMA``).
PREDICTION_DDL = (
    "lead_id string, model string, version bigint, probability double, score double, reasons string"
)


@dataclass(frozen=True, slots=True)
class LakePredictions:
    """What a lake prediction run wrote: where, at which instant, how many leads, and the
    best of them (``PREDICTION_SCHEMA``, best first) to show."""

    place: str
    as_of: int
    rows: int
    best: pa.Table


def predict_lake(
    lake: Lake,
    loaded: Loaded,
    as_of: int,
    *,
    top: int = 10,
    session: SparkSession | None = None,
) -> LakePredictions:
    """Every lead of the lake scored by ``loaded`` as of ``as_of`` (its attributes, its
    events and its colleagues' before that instant), written as the ``as_of`` and model
    partition of ``lake.predictions_place()``; a rerun at the same instant replaces it."""
    from pyspark.sql import functions as F

    spark = session or spark_session()
    leads, events = leads_and_events(spark, lake)
    before = events.where(F.col("timestamp") < as_of)
    gathered = by_account(leads, {"event": before}, lake.partitions)
    scored = gathered.mapInArrow(partial(_partition_predictions, loaded, as_of), PREDICTION_DDL)
    place = lake.predictions_place()
    write_run(scored, as_of, place)
    written = read_place(spark, place, "predictions").where(
        (F.col("as_of") == as_of) & (F.col("model") == loaded.name)
    )
    rows = written.count()
    best = written.orderBy(F.desc("score"), F.asc("lead_id")).limit(top)
    table = best.select(*PREDICTION_SCHEMA.names).toArrow()
    return LakePredictions(place, as_of, rows, table.cast(PREDICTION_SCHEMA))


def _partition_predictions(
    loaded: Loaded, as_of: int, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """In the executor: this partition's leads as of ``as_of``, scored by the model."""
    found = partition_inputs(batches, {"event": EVENT_COLUMNS})
    if found is None:
        return
    leads, inputs = found
    events = inputs["event"]
    assert events is not None
    ids = sorted(leads.column("lead_id").to_pylist())
    try:
        data = history.rows_as_of(
            leads,
            events,
            ids,
            as_of,
            loaded.kinds,
            no_verdicts(),
            source=f"the lake as of {format_as_of(as_of)}",
        )
        found_rows = predictions(loaded, data)
    except Exception:
        named_bad_json(leads, "attributes")  # the driver names it (``write_run``)
        raise
    yield from found_rows.to_batches()
