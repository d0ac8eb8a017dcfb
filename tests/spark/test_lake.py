"""``score --engine spark`` over a data lake: Parquet in, results out, each run continuing
the stages of the one before; checked against scores worked out by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from leadscore.app.lake import score_lake
from leadscore.cli import app
from leadscore.errors import ConfigError, InputError
from leadscore.settings import Lake
from leadscore.spec.loader import parse_model

pytestmark = pytest.mark.spark

DAY = 86_400_000_000
START = 20_000 * DAY  # a UTC midnight: 2024-10-04T00:00:00Z
END = START + DAY - 1  # the end of that day, the first run's instant

MODEL = """
name: lake
decay: {type: half_life, days: 1}
fit:
  - {name: has phone, points: 1, when: [{type: present, field: phone}]}
engagement:
  - {name: demo, event: Demo Requested, points: 10}
tiers: [{name: hot, min: 5}, {name: cold}]
stages:
  - {name: Lead}
  - {name: MQL, when: {type: score, gte: 5}}
"""


def write_lake(folder: Path) -> Lake:
    """Three leads: ann asked for a demo; bob did too, as an anonymous visitor the
    identities link to him; cy did nothing and has a phone."""
    pq.write_table(
        pa.table(
            {
                "lead_id": ["ann", "bob", "cy"],
                "attributes": ["{}", "{}", json.dumps({"phone": "555"})],
            }
        ),
        folder / "leads.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "message_id": ["m1", "m2", "m1"],  # m1 twice: counted once
                "lead_id": ["ann", None, "ann"],
                "anonymous_id": [None, "visitor-7", None],
                "type": ["track"] * 3,
                "event": ["Demo Requested"] * 3,
                "timestamp": [START + 1] * 3,
                "properties": ["{}"] * 3,
            }
        ),
        folder / "events.parquet",
    )
    pq.write_table(
        pa.table({"anonymous_id": ["visitor-7"], "lead_id": ["bob"]}),
        folder / "identities.parquet",
    )
    return Lake(
        leads=str(folder / "leads.parquet"),
        events=str(folder / "events.parquet"),
        identities=str(folder / "identities.parquet"),
        results=str(folder / "results"),
        partitions=3,
    )


def results_at(folder: Path, as_of: int) -> dict[str, dict[str, Any]]:
    table = pq.read_table(folder / "results" / f"as_of={as_of}")
    return {row["lead_id"]: row for row in table.to_pylist()}


def test_runs_continue_the_stages_of_the_run_before(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    model = parse_model(MODEL)
    first = score_lake(lake, [model], END, session=spark)
    assert (first.rows, first.transitions, first.continued) == ({"lake": 3}, 2, {})
    rows = results_at(tmp_path, END)
    # the same day: 10 demo points undecayed, so ann and bob reach MQL (score 10 >= 5)
    assert {k: (r["score"], r["stage"], r["transition"]) for k, r in rows.items()} == {
        "ann": (10_000, "MQL", "advance"),
        "bob": (10_000, "MQL", "advance"),
        "cy": (1_000, "Lead", None),
    }
    later = END + 3 * DAY
    second = score_lake(lake, [model], later, session=spark)
    assert (second.transitions, second.continued) == (0, {"lake": END})
    rows = results_at(tmp_path, later)
    # three days at a half-life of one day: 10 x 0.125 = 1.25 points, below MQL's 5, but
    # stages only move forward, so ann and bob stay MQL (a first run would say Lead)
    assert {k: (r["engagement"], r["stage"], r["previous_stage"]) for k, r in rows.items()} == {
        "ann": (1_250, "MQL", "MQL"),
        "bob": (1_250, "MQL", "MQL"),
        "cy": (0, "Lead", "Lead"),
    }
    again = score_lake(lake, [model], later, session=spark)  # the same instant: replaced
    assert again.rows == {"lake": 3}
    assert pq.read_table(tmp_path / "results").num_rows == 6


def test_a_missing_column_is_named_with_its_place(spark: Any, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    pq.write_table(pa.table({"lead_id": ["ann"]}), tmp_path / "leads.parquet")
    with pytest.raises(ConfigError, match=r"lake.leads '.*leads.parquet' has no column attributes"):
        score_lake(lake, [parse_model(MODEL)], START, session=spark)
    missing = Lake(leads=str(tmp_path / "nowhere"), events="x", results="y")
    with pytest.raises(ConfigError, match=r"lake.leads '.*nowhere' cannot be read"):
        score_lake(missing, [parse_model(MODEL)], START, session=spark)


def test_the_command_scores_the_lake(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = write_lake(tmp_path)
    project = tmp_path / "project"
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    (project / "models" / "brief.yaml").unlink()
    (project / "models" / "lake.yaml").write_text(MODEL)
    with (project / "leadscore.toml").open("a") as config:
        config.write(
            "\n[lake]\n"
            f'leads = "{lake.leads}"\nevents = "{lake.events}"\n'
            f'identities = "{lake.identities}"\nresults = "{lake.results}"\n'
        )
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["score", "--engine", "spark", "--as-of", "2024-10-04"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # as read, whatever the terminal's width
    assert "lake: 3 leads scored" in said
    assert "2 stage changes" in said and "the first run there" in said
    refused = runner.invoke(app, ["score", "--engine", "spark", "--dry-run"])
    assert refused.exit_code != 0 and "lake.results" in refused.output


@pytest.mark.parametrize(
    ("column", "text", "said"),
    [
        ("attributes", "{not json", "lead 'ann': attributes is not JSON"),
        ("attributes", "[1, 2]", "lead 'ann': attributes is not a JSON object"),
    ],
)
def test_bad_json_in_the_lake_is_named_by_lead_and_column(
    spark: Any, tmp_path: Path, column: str, text: str, said: str
) -> None:
    lake = write_lake(tmp_path)
    if column == "attributes":
        pq.write_table(
            pa.table({"lead_id": ["ann"], "attributes": [text]}), tmp_path / "leads.parquet"
        )
    else:
        events = pq.read_table(tmp_path / "events.parquet").to_pylist()
        events[0]["properties"] = text
        pq.write_table(pa.Table.from_pylist(events), tmp_path / "events.parquet")
    with pytest.raises(InputError, match="the lake's data cannot be scored: " + re.escape(said)):
        score_lake(lake, [parse_model(MODEL)], END, session=spark)


def test_an_event_whose_properties_are_not_json_counts_without_them(
    spark: Any, tmp_path: Path
) -> None:
    """As in the batch engine: a rule without a property condition still counts the event."""
    lake = write_lake(tmp_path)
    events = pq.read_table(tmp_path / "events.parquet").to_pylist()
    for event in events:
        event["properties"] = '{"a": '
    pq.write_table(pa.Table.from_pylist(events), tmp_path / "events.parquet")
    score_lake(lake, [parse_model(MODEL)], END, session=spark)
    assert results_at(tmp_path, END)["ann"]["engagement"] == 10_000
