"""One Spark session in local mode for every Spark test (a JVM takes seconds to start).

Without PySpark or Java the tests skip, saying what is missing, except in CI, where that is
a failure. The tests are marked ``spark`` (``-m "not spark"`` leaves them out of a quick
local run). Each xdist worker that runs one starts its own JVM (``--dist loadgroup`` did not
keep them on one worker with pytest-xdist 3.8 here)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from leadscore.app.project import Project
from leadscore.cli import app
from leadscore.settings import Lake
from leadscore.store.ingest import import_events, import_leads, import_outcomes
from tests.conftest import IN_CI
from tests.predict import synthetic


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = None
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        reason = "PySpark is not installed (pip install -e '.[test]' installs it)"
    if reason is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "Java is not installed (Spark needs Java 17)"
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason}; CI must have it")
        pytest.skip(reason)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("leadscore-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Lake]]:
    """A synthetic company in a project's database and, the same rows, in Parquet files."""
    root = tmp_path_factory.mktemp("company")
    files = synthetic.write(root, leads=500)
    project = Project.init(root / "project")
    lake = root / "lake"
    lake.mkdir()
    with project.store() as store:
        import_leads(store, files.leads)
        import_events(store, files.events)
        import_outcomes(store, files.outcomes)
        pq.write_table(store.leads_arrow(), lake / "leads.parquet")
        pq.write_table(store.events_arrow(), lake / "events.parquet")
        outcomes = store.arrow(
            "SELECT lead_id, outcome, at FROM outcomes",
            pa.schema([("lead_id", pa.string()), ("outcome", pa.string()), ("at", pa.int64())]),
        )
        pq.write_table(outcomes, lake / "outcomes.parquet")
    yield (
        project,
        Lake(
            leads=str(lake / "leads.parquet"),
            events=str(lake / "events.parquet"),
            outcomes=str(lake / "outcomes.parquet"),
            results=str(lake / "results"),
            partitions=3,
        ),
    )


def lake_project(folder: Path, lake: Lake) -> Path:
    """A new project in ``folder`` whose leadscore.toml names ``lake``: its own database is
    empty, so whatever a command finds comes from the lake."""
    assert CliRunner().invoke(app, ["init", str(folder)]).exit_code == 0
    with (folder / "leadscore.toml").open("a") as config:
        config.write(
            f'\n[lake]\nleads = "{lake.leads}"\nevents = "{lake.events}"\n'
            f'outcomes = "{lake.outcomes}"\nresults = "{lake.results}"\n'
        )
    return folder
