"""Training rows built on Spark from a lake (``app.lake_history``) are the rows the database
path builds (``history.snapshots``) from the same company: same leads, labels, cut-offs,
attributes and every behaviour and account feature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.app.lake_history import lake_point_scores, lake_snapshots
from leadscore.app.project import Project
from leadscore.cli import app
from leadscore.errors import ConfigError
from leadscore.predict import behaviour, history
from leadscore.predict.dataset import Dataset
from leadscore.predict.point_scores import point_scores
from leadscore.settings import Lake
from leadscore.spec.loader import parse_model
from tests.spark.conftest import lake_project
from tests.spark.test_lake_backtest import MODEL as BACKTEST_MODEL

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def database_rows(company: tuple[Project, Lake]) -> tuple[history.Window, Dataset]:
    """The window ``train --snapshots 3`` takes by default (three cut-offs two weeks apart,
    the last a 30-day horizon before the data's end), and the rows the database path builds
    over it: built once, compared with the lake's by every test here."""
    with company[0].store() as store:
        end = history.data_end(store)
        assert end is not None
        last = (end - 30 * history.DAY_US) // history.DAY_US * history.DAY_US
        window = history.Window(last, 3, 14, 30)
        return window, history.snapshots(store, window)


def test_the_lake_gives_the_rows_the_database_gives(
    spark: Any, company: tuple[Project, Lake], database_rows: tuple[history.Window, Dataset]
) -> None:
    project, lake = company
    window, expected = database_rows
    with project.store() as store:
        expected_kinds = behaviour.event_kinds(store.events_arrow(), window.last_cutoff)
    data, kinds = lake_snapshots(lake, window, session=spark)
    assert kinds == expected_kinds
    assert data.ids == expected.ids and len(data.ids) > 500  # three cut-offs
    assert np.array_equal(data.label, expected.label) and data.conversions > 10
    assert np.array_equal(data.order, expected.order)
    assert data.eventual is not None and expected.eventual is not None
    assert np.array_equal(data.eventual, expected.eventual)
    pd.testing.assert_frame_equal(data.raw, expected.raw)
    pd.testing.assert_frame_equal(data.behaviour, expected.behaviour)
    # the account facts were computed with every colleague in the partition
    colleagues = expected.behaviour["people at the same company"]
    assert (colleagues > 1).sum() > 100


def test_training_from_a_lake_without_outcomes_says_what_is_missing(
    spark: Any, company: tuple[Project, Lake]
) -> None:
    _, lake = company
    window = history.Window(20_000 * history.DAY_US, 2, 7, 30)
    with pytest.raises(ConfigError, match=r"lake\.outcomes"):
        lake_snapshots(lake.model_copy(update={"outcomes": None}), window, session=spark)


def test_train_learns_from_the_lake(
    spark: Any,
    company: tuple[Project, Lake],
    database_rows: tuple[history.Window, Dataset],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, lake = company
    rows = len(database_rows[1].label)
    runner = CliRunner()
    fresh = lake_project(tmp_path / "fresh", lake)  # an empty database of its own
    monkeypatch.chdir(fresh)
    args = ["train", "--lake", "--name", "buyers", "--snapshots", "3", "--min-conversions", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"Trained buyers v1 (active): {rows:,} rows" in said
    refused = runner.invoke(app, ["train", "--lake", "--after-first-touch", "1"])
    assert refused.exit_code != 0 and "--after-first-touch" in refused.output


def test_point_models_score_the_lake_rows_as_the_database_rows(
    spark: Any, company: tuple[Project, Lake], database_rows: tuple[history.Window, Dataset]
) -> None:
    """``evaluate``'s hand-model baseline: each row scored as of just before its cut-off."""
    project, lake = company
    model = parse_model(BACKTEST_MODEL)
    window, rows = database_rows
    with project.store() as store:
        expected = point_scores(model, rows, store)
    data, _ = lake_snapshots(lake, window, session=spark)
    scores, tiers = lake_point_scores(lake, model, data, session=spark)
    assert np.array_equal(scores, expected[0]) and tiers == expected[1]
    assert len(set(tiers)) == 3 and scores.max() > 20  # every tier met, fit and engagement


def test_evaluate_and_learn_points_read_the_lake(
    spark: Any,
    company: tuple[Project, Lake],
    database_rows: tuple[history.Window, Dataset],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, lake = company
    rows = len(database_rows[1].label)
    runner = CliRunner()
    fresh = lake_project(tmp_path / "fresh", lake)  # an empty database of its own
    (fresh / "models" / "brief.yaml").unlink()
    (fresh / "models" / "in_use.yaml").write_text(BACKTEST_MODEL)
    monkeypatch.chdir(fresh)
    common = ["--lake", "--snapshots", "3", "--min-conversions", "5"]
    measured = runner.invoke(app, ["evaluate", *common, "--no-points"])
    assert measured.exit_code == 0, measured.output
    report = json.loads((fresh / "evaluation" / "evaluation.json").read_text())
    assert report["train_rows"] + report["test_rows"] == rows
    assert "roc_auc" in report["models"]["hand model 'in_use'"]  # scored from the lake
    learned = runner.invoke(app, ["learn-points", *common])
    assert learned.exit_code == 0, learned.output
    assert f"rules learned from {rows:,} rows" in " ".join(learned.output.split())
    assert parse_model((fresh / "models" / "learned.yaml").read_text()).name == "learned"
