"""A lake run under several models at once (one shuffle, each model's stages continued on
their own) and with explanations on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from leadscore.app.lake import leads_and_events, score_lake
from leadscore.engines.plan import compile_plan
from leadscore.engines.spark import score_frames
from leadscore.spec.loader import parse_model
from tests.spark.test_lake import DAY, END, MODEL, write_lake

pytestmark = pytest.mark.spark

#: A second model with a higher bar: a demo (10 points) is not enough for its MQL.
STRICT = MODEL.replace("name: lake", "name: strict").replace("gte: 5", "gte: 11")


def by_model(folder: Path, as_of: int) -> dict[tuple[str, str], dict[str, Any]]:
    table = pq.read_table(folder / "results" / f"as_of={as_of}")
    return {(row["model"], row["lead_id"]): row for row in table.to_pylist()}


def test_each_model_continues_its_own_stages(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    models = [parse_model(MODEL), parse_model(STRICT)]
    first = score_lake(lake, models, END, session=spark)
    assert first.rows == {"lake": 3, "strict": 3}
    rows = by_model(tmp_path, END)
    # ann's demo is 10 points: MQL at 5, not at 11
    assert (rows["lake", "ann"]["stage"], rows["strict", "ann"]["stage"]) == ("MQL", "Lead")
    later = END + 3 * DAY
    score_lake(lake, models, later, session=spark)
    rows = by_model(tmp_path, later)
    # decayed to 1.25 points: "lake" keeps the MQL it recorded, "strict" its Lead
    assert {
        (m, r["previous_stage"], r["stage"]) for (m, lead), r in rows.items() if lead == "ann"
    } == {
        ("lake", "MQL", "MQL"),
        ("strict", "Lead", "Lead"),
    }


def test_a_run_of_one_model_leaves_the_others_where_they_were(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    loose, strict = parse_model(MODEL), parse_model(STRICT)
    score_lake(lake, [loose, strict], END, session=spark)
    # a day later only "strict" runs (score --model strict)
    assert score_lake(lake, [strict], END + DAY, session=spark).continued == {"strict": END}
    # two days after that each model continues from its own latest run: "lake" keeps the
    # MQL it recorded at END (decayed to 1.25 points, a run from nothing would say Lead)
    third = score_lake(lake, [loose, strict], END + 3 * DAY, session=spark)
    assert third.continued == {"lake": END, "strict": END + DAY}
    rows = by_model(tmp_path, END + 3 * DAY)
    assert (rows["lake", "ann"]["previous_stage"], rows["lake", "ann"]["stage"]) == ("MQL", "MQL")
    # "lake" alone at an instant where "strict" ran: the rows of "strict" stay
    score_lake(lake, [loose], END + DAY, session=spark)
    assert {model for model, _ in by_model(tmp_path, END + DAY)} == {"lake", "strict"}


def test_results_kept_in_a_table_are_replaced_by_instant_and_model(
    spark: Any, tmp_path: Path
) -> None:
    lake = write_lake(tmp_path).model_copy(update={"results": "table:lake_results"})
    loose, strict = parse_model(MODEL), parse_model(STRICT)
    score_lake(lake, [loose, strict], END, session=spark)  # creates the table
    score_lake(lake, [strict], END + DAY, session=spark)  # inserted by position
    score_lake(lake, [strict], END + DAY, session=spark)  # replaces its own rows
    table = spark.table("lake_results")
    counted = {
        (row["as_of"], row["model"]): row["count"]
        for row in table.groupBy("as_of", "model").count().collect()
    }
    assert counted == {(END, "lake"): 3, (END, "strict"): 3, (END + DAY, "strict"): 3}
    rows = {r["lead_id"]: r for r in table.where(table.as_of == END + DAY).collect()}
    assert (rows["ann"]["previous_stage"], rows["ann"]["stage"]) == ("Lead", "Lead")
    assert rows["cy"]["score"] == 1_000  # the columns in their places: cy's phone point
    spark.sql("DROP TABLE lake_results")


def test_every_model_is_scored_after_one_shuffle(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    leads, events = leads_and_events(spark, lake)
    plans = [compile_plan(parse_model(MODEL)), compile_plan(parse_model(STRICT))]
    frame = score_frames(plans, leads, events, END, partitions=3)
    physical = frame._jdf.queryExecution().executedPlan().toString()
    assert physical.count("Exchange hashpartitioning(leadscore_part") == 1, physical
    assert {row["model"] for row in frame.collect()} == {"lake", "strict"}


def test_explanations_on_request(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    score_lake(lake, [parse_model(MODEL)], END, session=spark, explain=True)
    rows = by_model(tmp_path, END)
    said = {lead: json.loads(row["explanation"]) for (_, lead), row in rows.items()}
    # by hand, as in test_lake: a demo the same day is 10 points; cy's phone is 1 fit point
    assert {lead: (s["score"], s["stage"]) for lead, s in said.items()} == {
        "ann": (10.0, "MQL"),
        "bob": (10.0, "MQL"),
        "cy": (1.0, "Lead"),
    }
    demo = next(c for c in said["bob"]["contributions"] if c["name"] == "demo")
    assert (demo["points"], demo["matches"]) == (10.0, 1)  # the visitor's demo, linked
    assert [c["name"] for c in said["cy"]["contributions"] if c["points"]] == ["has phone"]
    score_lake(lake, [parse_model(MODEL)], END + DAY, session=spark)
    assert "explanation" not in by_model(tmp_path, END + DAY)["lake", "ann"]
