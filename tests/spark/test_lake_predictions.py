"""A trained model's predictions for a lake's leads, made on Spark (``app.lake_predictions``),
are those ``leadscore score --model NAME`` makes from the database holding the same company:
same leads, probabilities, scores and reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from leadscore.app.lake_predictions import predict_lake
from leadscore.app.project import Project
from leadscore.cli import app
from leadscore.errors import InputError
from leadscore.predict import history, registry
from leadscore.predict.scoring import predict
from leadscore.settings import Lake
from tests.spark.conftest import lake_project
from tests.spark.test_lake import END, write_lake

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def trained(
    spark: Any, company: tuple[Project, Lake], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A project reading the company's lake, with a model trained there (``buyers``)."""
    _, lake = company
    folder = lake_project(tmp_path_factory.mktemp("trained") / "project", lake)
    args = ["train", "--lake", "--name", "buyers", "--snapshots", "3", "--min-conversions", "5"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return folder


def test_the_lake_gets_the_predictions_the_database_gets(
    spark: Any, company: tuple[Project, Lake], trained: Path, tmp_path: Path
) -> None:
    project, lake = company
    lake = lake.model_copy(update={"predictions": str(tmp_path / "predictions")})
    loaded = registry.load(trained, "buyers")
    with project.store() as store:
        end = history.data_end(store)
        assert end is not None
        as_of = end - 10 * history.DAY_US  # events after it must be left out
        expected = predict(store, loaded, as_of)
    run = predict_lake(lake, loaded, as_of, top=5, session=spark)
    assert run.rows == expected.num_rows == 500  # every lead, with events or not
    assert run.best.to_pylist() == expected.slice(0, 5).to_pylist()
    written = pq.read_table(tmp_path / "predictions" / f"as_of={as_of}")  # model=buyers
    found = {row["lead_id"]: row for row in written.to_pylist()}
    assert len(found) == 500
    for row in expected.to_pylist():
        assert found[row["lead_id"]] == row, row["lead_id"]
    assert len({row["score"] for row in found.values()}) > 20  # the leads told apart


def test_score_names_a_trained_model_on_the_lake(
    spark: Any, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(trained)
    runner = CliRunner()
    args = [
        "score",
        "--engine",
        "spark",
        "--model",
        "buyers",
        "--as-of",
        "2025-01-01",
        "--top",
        "3",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "buyers v1: 500 leads as of 2025-01-01 23:59:59 UTC" in said
    place = Project.find(trained).settings.lake
    assert place is not None
    assert f"Wrote the predictions to {place.results}-predictions" in said
    refused = runner.invoke(app, [*args, "--explain"])
    assert refused.exit_code != 0 and "reasons column" in refused.output


def test_bad_json_in_the_lake_is_named_by_lead(spark: Any, trained: Path, tmp_path: Path) -> None:
    lake = write_lake(tmp_path)
    pq.write_table(
        pa.table({"lead_id": ["ann", "bob"], "attributes": ["{}", "{not json"]}),
        tmp_path / "leads.parquet",
    )
    loaded = registry.load(trained, "buyers")
    with pytest.raises(InputError, match="lead 'bob': attributes is not JSON"):
        predict_lake(lake, loaded, END, session=spark)
