"""Scoring on Apache Spark: the batch engine run inside the executors, partitioned by account.

One semantics, not another copy of it: Spark moves the rows and the batch engine scores them.
Each lead is given a partition key, its account (a lead without one is its own key), and its
events and recorded lifecycle follow it there, so whatever an account rule reads (the
account's leads, their engagement, their events) is in one partition. Each partition is then
scored by ``BatchEngine`` in its executor (``mapInArrow``), so a lead's row is the batch
engine's row by construction, and ``leadscore.testing.check_engine`` holds it to the oracle.

PySpark is an optional extra (``pip install 'leadscore[spark]'``); this module is imported
only when a project chooses ``engine = "spark"``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engines.batch import RESULT_SCHEMA, BatchEngine
from leadscore.engines.batch_accounts import with_account_ids
from leadscore.engines.plan import Plan
from leadscore.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The partition key column: the lead's account, else the lead itself.
PART = "leadscore_part"
#: Which input a row of the combined table is.
KIND = "leadscore_kind"
#: The result rows' Spark type, ``batch.RESULT_SCHEMA`` spelt in DDL.
RESULT_DDL = (
    "lead_id string, account_id string, model string, fit bigint, engagement bigint, "
    "score bigint, tier string, grade string, stage string, previous_stage string, "
    "transition string"
)
LEAD_COLUMNS = ("lead_id", "attributes", "account_id")
EVENT_COLUMNS = ("lead_id", "type", "event", "timestamp", "properties")
LIFECYCLE_COLUMNS = ("lead_id", "stage", "recycled_at")
#: A partition's lifecycle rows carry their model: one shuffle serves every model.
MODEL_LIFECYCLE_COLUMNS = ("lead_id", "model", "stage", "recycled_at")
#: Explanations on request: given a plan, a partition's leads, events and lifecycle (the
#: ``Engine`` contract's tables) and the instant, a table of ``lead_id`` and ``explanation``
#: (JSON text). Run in the executors, so it must pickle (a module-level function).
Explainer = Callable[[Plan, pa.Table, pa.Table | None, pa.Table | None, int], pa.Table]


def spark_session() -> SparkSession:
    """The active Spark session, else a local one on every core (no web UI). Executors run
    this interpreter unless ``PYSPARK_PYTHON`` says otherwise, so they import the same
    leadscore."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "engine 'spark' needs PySpark: pip install 'leadscore[spark]' (and Java 17)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder: Any = SparkSession.builder
    session: SparkSession = (
        builder.master("local[*]")
        .appName("leadscore")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")  # the progress is leadscore's to show
    return session


class SparkEngine:
    """The ``Engine`` contract on Spark: Arrow in and out, scored in Spark's executors.

    ``score_frames`` is the same work on Spark DataFrames, for data that never leaves the
    cluster (``leadscore score --engine spark`` over Parquet or Delta)."""

    def __init__(self, session: SparkSession | None = None, *, partitions: int | None = None):
        self._session = session
        #: how many partitions the leads are spread over (None: the session's
        #: ``spark.sql.shuffle.partitions``)
        self.partitions = partitions

    @property
    def session(self) -> SparkSession:
        if self._session is None:
            self._session = spark_session()
        return self._session

    def score_many(
        self,
        plan: Plan,
        leads: pa.Table,
        events: pa.Table | None,
        as_of: int,
        *,
        lifecycle: pa.Table | None = None,
    ) -> pa.Table:
        """Every lead's row as ``BatchEngine.score_many`` gives it, computed by Spark."""
        spark = self.session
        if "account_id" not in leads.column_names:
            leads = with_account_ids(leads, compute=plan.uses_accounts)
        if lifecycle is not None:
            lifecycle = lifecycle.select(list(LIFECYCLE_COLUMNS))
            lifecycle = lifecycle.add_column(
                1, "model", pa.array([plan.model] * lifecycle.num_rows, pa.string())
            )
        frames = score_frames(
            [plan],
            spark.createDataFrame(leads.select(list(LEAD_COLUMNS))),
            None if events is None else spark.createDataFrame(events.select(list(EVENT_COLUMNS))),
            as_of,
            lifecycle=None if lifecycle is None else spark.createDataFrame(lifecycle),
            partitions=self.partitions,
        )
        return frames.toArrow().cast(RESULT_SCHEMA)


def score_frames(
    plans: Sequence[Plan],
    leads: DataFrame,
    events: DataFrame | None,
    as_of: int,
    *,
    lifecycle: DataFrame | None = None,
    partitions: int | None = None,
    explain: Explainer | None = None,
) -> DataFrame:
    """The result rows (``RESULT_DDL``, and ``explanation`` with an ``explain``) of scoring
    Spark DataFrames shaped as the ``Engine`` contract's tables (leads with their account_id
    column; lifecycle rows with their model), under every plan, after one shuffle. Nothing is
    computed until the result is written or collected."""
    followers = {}
    if events is not None:
        followers["event"] = events.select(*EVENT_COLUMNS)
    if lifecycle is not None:
        followers["lifecycle"] = lifecycle.select(*MODEL_LIFECYCLE_COLUMNS)
    gathered = by_account(leads, followers, partitions)
    ddl = RESULT_DDL if explain is None else f"{RESULT_DDL}, explanation string"
    return gathered.mapInArrow(partial(score_partition, list(plans), as_of, explain), ddl)


def by_account(
    leads: DataFrame, followers: dict[str, DataFrame], partitions: int | None
) -> DataFrame:
    """The leads (``LEAD_COLUMNS``) and the rows of each follower (tables with a lead_id,
    their name in ``KIND``) in one frame, every account's rows in one partition: what
    ``partition_table`` takes apart in the executor."""
    from pyspark.sql import functions as F

    keyed = leads.select(
        *LEAD_COLUMNS, F.coalesce(F.col("account_id"), F.col("lead_id")).alias(PART)
    )
    parts = keyed.select("lead_id", PART)
    combined = keyed.withColumn(KIND, F.lit("lead"))
    for name, rows in followers.items():
        follow = rows.join(parts, "lead_id")
        combined = combined.unionByName(
            follow.withColumn(KIND, F.lit(name)), allowMissingColumns=True
        )
    count = partitions or int(combined.sparkSession.conf.get("spark.sql.shuffle.partitions") or 8)
    return combined.repartition(count, PART)


def partition_table(table: pa.Table, name: str, columns: Sequence[str]) -> pa.Table | None:
    """In the executor: the rows of one input (``KIND`` ``name``) of a partition made by
    ``by_account``, with Spark's large strings as strings; None when the frame had no such
    input at all."""
    if columns[-1] not in table.column_names:
        return None
    return narrowed(table.filter(pc.equal(table[KIND], name)).select(list(columns)))


def partition_inputs(
    batches: Iterator[pa.RecordBatch], inputs: Mapping[str, Sequence[str]]
) -> tuple[pa.Table, dict[str, pa.Table | None]] | None:
    """In the executor: a partition made by ``by_account`` taken apart, its leads
    (``LEAD_COLUMNS``) and each other input's rows (``partition_table``: None for an input
    the frame did not have); None for an empty partition."""
    received = list(batches)
    if not received:
        return None
    table = pa.Table.from_batches(received)
    leads = partition_table(table, "lead", LEAD_COLUMNS)
    if leads is None or leads.num_rows == 0:
        return None
    return leads, {name: partition_table(table, name, columns) for name, columns in inputs.items()}


def score_partition(
    plans: list[Plan],
    as_of: int,
    explain: Explainer | None,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """One partition's rows (whole accounts) scored by the batch engine under every plan, in
    the executor; each row with its explanation when ``explain`` is given."""
    found = partition_inputs(
        batches, {"event": EVENT_COLUMNS, "lifecycle": MODEL_LIFECYCLE_COLUMNS}
    )
    if found is None:
        return
    leads, inputs = found
    events, recorded = inputs["event"], inputs["lifecycle"]
    for plan in plans:
        lifecycle = None
        if recorded is not None:
            mine = recorded.filter(pc.equal(recorded["model"], plan.model))
            lifecycle = mine.select(list(LIFECYCLE_COLUMNS))
        try:
            result = BatchEngine(threads=1).score_many(
                plan, leads, events, as_of, lifecycle=lifecycle
            )
            result = result.cast(RESULT_SCHEMA)
            if explain is not None:
                result = _with_explanations(result, explain(plan, leads, events, lifecycle, as_of))
        except Exception:
            named_bad_json(leads, "attributes")
            if events is not None:
                named_bad_json(events, "properties")
            raise
        yield from result.to_batches()


def _with_explanations(result: pa.Table, explained: pa.Table) -> pa.Table:
    """The result rows with each lead's explanation beside them, in the rows' order."""
    by_lead = dict(
        zip(explained["lead_id"].to_pylist(), explained["explanation"].to_pylist(), strict=True)
    )
    texts = [by_lead.get(lead) for lead in result["lead_id"].to_pylist()]
    return result.append_column("explanation", pa.array(texts, pa.string()))


#: What begins the message of an error in the data, raised in an executor, for the driver
#: to find in Spark's report of the failed task (``data_error``).
DATA_ERROR = "leadscore data error: "


def named_bad_json(table: pa.Table, column: str) -> None:
    """Raise, naming the lead and the column, if a row's ``column`` is not a JSON object:
    looked for only once a partition has failed, so good data pays nothing for it."""
    for lead_id, text in zip(table["lead_id"].to_pylist(), table[column].to_pylist(), strict=True):
        if text is None:
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValueError(
                f"{DATA_ERROR}lead {lead_id!r}: {column} is not JSON ({exc})"
            ) from None
        if not isinstance(value, dict):
            raise ValueError(f"{DATA_ERROR}lead {lead_id!r}: {column} is not a JSON object")


def data_error(exc: Exception) -> str | None:
    """The data error an executor named (``named_bad_json``) in a failed job's report, else
    None."""
    for line in reversed(str(exc).splitlines()):
        at = line.find(DATA_ERROR)
        if at >= 0:
            return line[at + len(DATA_ERROR) :].strip()
    return None


def narrowed(table: pa.Table) -> pa.Table:
    """Spark's large strings as the strings the batch engine and DuckDB queries take."""
    return table.cast(
        pa.schema(
            f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f
            for f in table.schema
        )
    )
