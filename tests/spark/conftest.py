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
from typing import Any

import pytest

from tests.conftest import IN_CI


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
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
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
