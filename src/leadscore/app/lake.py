"""Scoring a data lake on Spark: leads and events read where they live, results written
beside them, each run continuing the stages of the run before.

The scoring is ``engines.spark.score_frames`` (the batch engine in Spark's executors). This
module reads what the ``Engine`` contract takes from Parquet or tables, gives anonymous
events their lead through the identities (a Spark join), takes each lead's stage from the
latest earlier run in the results folder, and writes this run's results there as the
partition of its instant, so a second run at the same instant replaces its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from leadscore.app.explain import explained_table
from leadscore.app.lake_delta import is_delta, read_delta
from leadscore.engines.batch_accounts import with_account_ids
from leadscore.engines.plan import compile_plan
from leadscore.engines.spark import data_error, named_bad_json, score_frames, spark_session
from leadscore.errors import ConfigError, InputError
from leadscore.settings import Lake
from leadscore.spec.model import ScoringModel

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

TABLE = "table:"
#: The columns each input must have (``Lake``'s descriptions say what they hold).
NEEDED = {
    "leads": ("lead_id", "attributes"),
    "events": ("lead_id", "type", "event", "timestamp", "properties"),
    "identities": ("anonymous_id", "lead_id"),
    "results": ("lead_id", "model", "stage", "as_of"),
    "outcomes": ("lead_id", "outcome", "at"),
}


@dataclass(frozen=True, slots=True)
class LakeRun:
    """What a lake run wrote: result rows (a lead and a model each) per model, the stage
    changes among them, and per model the instant of the earlier run whose stages it
    continued (a model missing there: its first run)."""

    results: str
    as_of: int
    rows: dict[str, int]
    transitions: int
    continued: dict[str, int]


def score_lake(
    lake: Lake,
    models: list[ScoringModel],
    as_of: int,
    *,
    session: SparkSession | None = None,
    explain: bool = False,
) -> LakeRun:
    """Score every lead of the lake under every model as of ``as_of`` and write the results
    (``batch.RESULT_SCHEMA`` and ``as_of``, with ``explain`` each row's explanation as JSON)
    as the ``as_of`` partition of ``lake.results``, one sub-partition per model. The data
    is shuffled by account once, whatever the number of models."""
    from pyspark.sql import functions as F

    if not models:
        raise ConfigError("the project has no model to score with")
    spark = session or spark_session()
    leads, events = leads_and_events(spark, lake)
    names = [model.name for model in models]
    continued, stages = previous_stages(spark, lake.results, as_of, names)
    lifecycle = None
    if stages is not None:
        lifecycle = stages.select(
            "lead_id", "model", "stage", F.lit(None).cast("bigint").alias("recycled_at")
        )
    result = score_frames(
        [compile_plan(model) for model in models],
        leads,
        events,
        as_of,
        lifecycle=lifecycle,
        partitions=lake.partitions,
        explain=explained_table if explain else None,
    )
    write_run(result, as_of, lake.results)
    written = read_place(spark, lake.results, "results").where(F.col("as_of") == as_of)
    counts = written.groupBy("model").agg(
        F.count("*").alias("rows"), F.count("transition").alias("transitions")
    )
    found = {row["model"]: (row["rows"], row["transitions"]) for row in counts.collect()}
    return LakeRun(
        results=lake.results,
        as_of=as_of,
        rows={model.name: found.get(model.name, (0, 0))[0] for model in models},
        transitions=sum(transitions for _, transitions in found.values()),
        continued=continued,
    )


def leads_and_events(spark: SparkSession, lake: Lake) -> tuple[DataFrame, DataFrame]:
    """The lake's leads and events as the ``Engine`` contract shapes them: leads with their
    account, events with their lead (anonymous ones through the identities)."""
    leads = _leads(read_place(spark, lake.leads, "leads"))
    events = _events(
        read_place(spark, lake.events, "events"),
        None if lake.identities is None else read_place(spark, lake.identities, "identities"),
    )
    return leads, events


def lake_outcomes(spark: SparkSession, place: str) -> DataFrame:
    """The lake's outcomes (``lake.outcomes``) as lead_id, outcome and at in UTC
    microseconds."""
    from pyspark.sql import functions as F

    found = read_place(spark, place, "outcomes")
    return found.select(
        F.col("lead_id").cast("string").alias("lead_id"),
        F.col("outcome").cast("string").alias("outcome"),
        micros(found, "at"),
    )


def read_place(spark: SparkSession, place: str, what: str) -> DataFrame:
    """A lake input: ``table:NAME`` from the session's catalog, a Delta table by path
    (``lake_delta``), else a Parquet path; a
    ``ConfigError`` names the place when it cannot be read or lacks a needed column."""
    from pyspark.errors import AnalysisException

    try:
        frame = _opened(spark, place, what)
    except AnalysisException as exc:
        raise ConfigError(f"lake.{what} {place!r} cannot be read: {_first_line(exc)}") from None
    return _checked(frame, place, what)


def _opened(spark: SparkSession, place: str, what: str) -> DataFrame:
    if place.startswith(TABLE):
        return spark.table(place.removeprefix(TABLE))
    if is_delta(place):
        return read_delta(spark, place, what)
    return spark.read.parquet(place)


def _checked(frame: DataFrame, place: str, what: str) -> DataFrame:
    missing = [name for name in NEEDED.get(what, ()) if name not in frame.columns]
    if missing:
        raise ConfigError(
            f"lake.{what} {place!r} has no column {', '.join(missing)} "
            f"(it has {', '.join(frame.columns)})"
        )
    return frame


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _leads(frame: DataFrame) -> DataFrame:
    """lead_id, attributes and account_id; the account computed as the store computes it at
    import (``spec.accounts.account_of``) when the lake has no account_id column."""
    from pyspark.sql import functions as F

    names = ["lead_id", "attributes"] + (["account_id"] if "account_id" in frame.columns else [])
    leads = frame.select(*(F.col(name).cast("string").alias(name) for name in names)).where(
        F.col("lead_id").isNotNull()
    )
    if "account_id" in names:
        return leads
    return leads.mapInArrow(_with_accounts, "lead_id string, attributes string, account_id string")


def _with_accounts(batches: Any) -> Any:
    """In the executors: each lead's account (``batch_accounts.with_account_ids``)."""
    for batch in batches:
        leads = pa.Table.from_batches([batch])
        try:
            table = with_account_ids(leads, compute=True)
        except Exception:
            named_bad_json(leads, "attributes")
            raise
        yield from table.to_batches()


def _events(frame: DataFrame, identities: DataFrame | None) -> DataFrame:
    """The contract's events: each with its lead (an anonymous one's through the
    identities, the least lead id when an anonymous id has several), timestamps in UTC
    microseconds, one row per message id when the lake has message ids."""
    from pyspark.sql import functions as F

    events = frame
    if "message_id" in frame.columns:
        events = events.dropDuplicates(["message_id"])
    lead = F.col("lead_id").cast("string")
    if identities is not None and "anonymous_id" in frame.columns:
        links = identities.groupBy(
            F.col("anonymous_id").cast("string").alias("link_anonymous")
        ).agg(F.min(F.col("lead_id").cast("string")).alias("link_lead"))
        events = events.join(
            links, events["anonymous_id"].cast("string") == links["link_anonymous"], "left"
        )
        lead = F.coalesce(lead, F.col("link_lead"))
    return events.select(
        lead.alias("lead_id"),
        F.col("type").cast("string").alias("type"),
        F.col("event").cast("string").alias("event"),
        micros(frame, "timestamp").alias("timestamp"),
        F.coalesce(F.col("properties").cast("string"), F.lit("{}")).alias("properties"),
    ).where(F.col("lead_id").isNotNull() & F.col("timestamp").isNotNull())


def micros(frame: DataFrame, column: str) -> Column:
    """An instant column as UTC microseconds: a Spark timestamp converted, a number taken as
    it is."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType, TimestampType

    kind = frame.schema[column].dataType
    if isinstance(kind, TimestampType | TimestampNTZType):
        return F.unix_micros(F.col(column).cast("timestamp")).alias(column)
    return F.col(column).cast("bigint").alias(column)


def previous_stages(
    spark: SparkSession, results: str, as_of: int, models: Sequence[str] | None = None
) -> tuple[dict[str, int], DataFrame | None]:
    """Per model (of ``models``, or every one found), the instant of its latest run before
    ``as_of`` in the results, and those runs' (lead_id, model, stage) rows; ({}, None)
    before the first run. Each model has its own: a run of one model (``--model``) leaves
    the others' stages where they were."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    try:
        found = _opened(spark, results, "results")
    except AnalysisException:
        return {}, None  # nothing written there yet: the first run
    earlier = _checked(found, results, "results").where(F.col("as_of") < as_of)
    if models is not None:
        earlier = earlier.where(F.col("model").isin(*models))
    latest = earlier.groupBy("model").agg(F.max("as_of").alias("latest")).collect()
    continued = {str(row["model"]): int(row["latest"]) for row in latest}
    if not continued:
        return {}, None
    runs = F.lit(False)
    for model, instant in continued.items():
        runs = runs | ((F.col("model") == model) & (F.col("as_of") == instant))
    return continued, earlier.where(runs).select("lead_id", "model", "stage")


def write_run(frame: DataFrame, as_of: int, place: str) -> None:
    """A run's rows (a ``model`` column each) as the partitions of its instant and their
    models: a rerun at the same instant replaces only the models it scored. A task that
    failed on the lake's data is an ``InputError`` naming it."""
    from pyspark.sql import functions as F

    rest = [name for name in frame.columns if name != "model"]
    ordered = frame.withColumn("as_of", F.lit(as_of).cast("bigint")).select(*rest, "as_of", "model")
    writer = ordered.write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
    try:
        if place.startswith(TABLE):
            name = place.removeprefix(TABLE)
            if ordered.sparkSession.catalog.tableExists(name):
                writer.insertInto(name, overwrite=True)  # by position: partitions last
            else:
                writer.partitionBy("as_of", "model").format("parquet").saveAsTable(name)
            return
        writer.partitionBy("as_of", "model").parquet(place)
    except Exception as exc:  # Spark reports a failed task as its own error types
        named = data_error(exc)
        if named is None:
            raise
        raise InputError(f"the lake's data cannot be scored: {named}") from None
