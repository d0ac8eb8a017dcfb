"""The lab's backtest run on Spark over a lake (``app.lake_backtest``) says what the backtest
over the database says of the same company: every number of every model, and the leads the
models treat differently, with who they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadscore._types import format_as_of
from leadscore.app.backtest import run_backtest
from leadscore.app.lake_backtest import lake_backtest
from leadscore.app.project import Project
from leadscore.cli import app
from leadscore.predict import history
from leadscore.settings import Lake
from leadscore.spec.loader import parse_model
from tests.spark.conftest import lake_project

pytestmark = pytest.mark.spark

#: A model of the synthetic company's behaviour (webinars, pricing pages, plans, accounts).
MODEL = """
name: in_use
decay: {type: half_life, days: 30}
fit:
  - {name: pro plan, points: 10, when: [{type: equals, field: plan, value: pro}]}
  - {name: team, points: 5, when: [{type: range, field: account.leads, gte: 3}]}
engagement:
  - {name: webinar, event: Webinar Attended, points: 8}
  - {name: pricing, type: page, points: 3}
tiers: [{name: hot, min: 40}, {name: warm, min: 20}, {name: cold}]
stages:
  - {name: Lead}
  - {name: MQL, when: {type: score, gte: 30}}
  - name: SQL
    when: {all: [{type: stage_reached, stage: MQL}, {type: score, gte: 60}]}
"""


def test_the_lake_backtest_is_the_database_backtest(
    spark: Any,
    company: tuple[Project, Lake],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, lake = company
    in_use = parse_model(MODEL)
    # a candidate that hands over at 20 points instead of 30, and to sales at 40 instead of 60
    candidate_text = (
        MODEL.replace("name: in_use", "name: candidate")
        .replace("gte: 30", "gte: 20")
        .replace("gte: 60", "gte: 40")
    )
    candidate = parse_model(candidate_text)
    models = [("candidate", candidate), ("in use", in_use)]
    with project.store() as store:
        end = history.data_end(store)
        assert end is not None
        start = end - 120 * history.DAY_US
        expected = run_backtest(store, models, start, end, every_days=7, horizon_days=30)
    got = lake_backtest(lake, models, start, end, every_days=7, horizon_days=30, session=spark)
    # numbers worth comparing: hand-overs, conversions, and leads the models differ on
    assert all(r.handed_over > 0 and r.conversions > 0 for r in expected.results)
    assert expected.differences["in use"]
    assert got.results == expected.results
    assert got.differences == expected.differences
    assert got.people == expected.people
    assert (got.start, got.end, got.labels) == (expected.start, expected.end, expected.labels)
    # the command, in a project whose own database is empty: everything from the lake
    runner = CliRunner()
    fresh = lake_project(tmp_path / "fresh", lake)  # an empty database of its own
    (fresh / "candidate.yaml").write_text(candidate_text)
    (fresh / "in_use.yaml").write_text(MODEL)
    monkeypatch.chdir(fresh)
    since, until = (format_as_of(at)[:10] for at in (start, end))
    args = ["backtest", "candidate.yaml", "--against", "in_use.yaml", "--lake", "--json"]
    args += ["--from", since, "--to", until, "--step", "7d", "--horizon", "30d"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert [r["handed_over"] for r in said["results"]] == [r.handed_over for r in expected.results]
