"""A lake whose leads and events are Delta tables, written by another implementation
(``deltalake``), read at their current version: rows overwritten since are not scored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import deltalake
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from leadscore.app.lake import score_lake
from leadscore.errors import ConfigError
from leadscore.settings import Lake
from leadscore.spec.loader import parse_model
from tests.spark.test_lake import END, MODEL, START, results_at, write_lake

pytestmark = pytest.mark.spark


def delta_lake(folder: Path) -> Lake:
    """``write_lake``'s leads and events as Delta tables, events partitioned by type. The
    events table first held a demo request of cy's too, overwritten since: its Parquet file
    is still in the folder, and reading the folder as Parquet would count it."""
    parquet = write_lake(folder)
    leads = pq.read_table(parquet.leads)
    events = pq.read_table(parquet.events)
    deltalake.write_deltalake(str(folder / "leads_delta"), leads)
    stale = pa.concat_tables(
        [
            events,
            pa.Table.from_pylist(
                [
                    {
                        "message_id": "m9",
                        "lead_id": "cy",
                        "anonymous_id": None,
                        "type": "track",
                        "event": "Demo Requested",
                        "timestamp": START + 2,
                        "properties": "{}",
                    }
                ],
                events.schema,
            ),
        ]
    )
    deltalake.write_deltalake(str(folder / "events_delta"), stale, partition_by=["type"])
    deltalake.write_deltalake(str(folder / "events_delta"), events, mode="overwrite")
    return parquet.model_copy(
        update={
            "leads": f"delta:{folder / 'leads_delta'}",
            "events": str(folder / "events_delta"),  # a folder with a _delta_log: Delta
        }
    )


def test_the_current_version_of_delta_tables_is_scored(spark: Any, tmp_path: Path) -> None:
    lake = delta_lake(tmp_path)
    assert len(list((tmp_path / "events_delta").rglob("*.parquet"))) == 2  # the old one kept
    run = score_lake(lake, [parse_model(MODEL)], END, session=spark)
    assert run.rows == {"lake": 3}
    rows = results_at(tmp_path, END)
    # as in test_lake, by hand: cy's overwritten demo is not counted, only its phone
    assert {k: (r["score"], r["stage"]) for k, r in rows.items()} == {
        "ann": (10_000, "MQL"),
        "bob": (10_000, "MQL"),
        "cy": (1_000, "Lead"),
    }


def test_delta_tables_that_would_be_read_wrongly_are_named(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    mapped = tmp_path / "mapped"
    deltalake.write_deltalake(
        str(mapped),
        pq.read_table(lake.leads),
        configuration={"delta.columnMapping.mode": "name"},
    )
    with pytest.raises(ConfigError, match=r"lake.leads '.*mapped': .*column mapping \(name\)"):
        score_lake(lake.model_copy(update={"leads": str(mapped)}), [parse_model(MODEL)], END)
    nowhere = f"delta:{tmp_path / 'nowhere'}"
    with pytest.raises(ConfigError, match=r"lake.events '.*nowhere' cannot be read as a Delta"):
        score_lake(lake.model_copy(update={"events": nowhere}), [parse_model(MODEL)], END)
    with pytest.raises(ValidationError, match="not to a Delta path"):
        Lake(leads="a", events="b", results=f"delta:{tmp_path / 'results'}")
