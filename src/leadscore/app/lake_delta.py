"""Delta tables read by path, without Delta's Spark jars: the table's current files come from
its transaction log (read by ``deltalake``, the Rust implementation, a PyPI package), and
Spark reads those Parquet files.

Reading a Delta folder as plain Parquet would be wrong: the folder keeps the files of older
versions (rows since deleted or overwritten) until a vacuum. The log says which files make
the current version. Two table features put rows or names outside the Parquet files, and a
table using them is refused with a message rather than read wrongly: deletion vectors (rows
deleted without rewriting their file) and column mapping (columns renamed in the log only).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pyarrow as pa

from leadscore.errors import ConfigError

if TYPE_CHECKING:
    from deltalake import DeltaTable
    from pyspark.sql import DataFrame, SparkSession

#: How a lake place names a Delta table by path (a local folder with a ``_delta_log`` is
#: recognised without it).
DELTA = "delta:"


def is_delta(place: str) -> bool:
    """Whether a place is a Delta table by path: ``delta:PATH``, or a local folder that
    holds a Delta log."""
    return place.startswith(DELTA) or os.path.isdir(os.path.join(place, "_delta_log"))


def read_delta(spark: SparkSession, place: str, what: str) -> DataFrame:
    """The current version of the Delta table at ``place`` as a Spark DataFrame; a
    ``ConfigError`` names the place when it is not a Delta table, cannot be read, or uses a
    feature that keeps rows or names outside its Parquet files."""
    try:
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError
    except ImportError:
        raise ConfigError(
            f"lake.{what} {place!r} is a Delta table, which needs the deltalake package: "
            "pip install 'leadscore[spark]'"
        ) from None
    path = place.removeprefix(DELTA)
    try:
        table = DeltaTable(path)
        files = table.file_uris()
        partitions = list(table.metadata().partition_columns)
        mapping = table.metadata().configuration.get("delta.columnMapping.mode", "none")
        deleted = _has_deletion_vectors(table)
        schema = pa.schema(table.schema().to_arrow())
    except (DeltaError, OSError) as exc:
        raise ConfigError(f"lake.{what} {place!r} cannot be read as a Delta table: {exc}") from None
    if mapping != "none":
        raise ConfigError(
            f"lake.{what} {place!r}: the Delta table uses column mapping ({mapping}), which "
            "leadscore cannot read without Delta's Spark jars; register it in the catalog "
            "and name it as table:NAME"
        )
    if deleted:
        raise ConfigError(
            f"lake.{what} {place!r}: the Delta table has deletion vectors (rows deleted "
            "outside its Parquet files); run OPTIMIZE ... (or REORG TABLE ... APPLY (PURGE)) "
            "first, or register it in the catalog and name it as table:NAME"
        )
    if not files:
        from pyspark.sql.pandas.types import from_arrow_schema

        return spark.createDataFrame([], from_arrow_schema(schema))
    frame = spark.read.option("basePath", path).parquet(*files)
    lost = [name for name in partitions if name not in frame.columns]
    if lost:
        raise ConfigError(
            f"lake.{what} {place!r}: the Delta table's partition column "
            f"{', '.join(lost)} is not in its file paths (name=value folders); register it "
            "in the catalog and name it as table:NAME"
        )
    return frame


def _has_deletion_vectors(table: DeltaTable) -> bool:
    """Whether any current file of the table has rows deleted by a deletion vector."""
    actions = pa.table(table.get_add_actions(flatten=True))
    columns = [name for name in actions.column_names if name.startswith("deletionVector")]
    return any(actions[name].null_count < actions.num_rows for name in columns)
