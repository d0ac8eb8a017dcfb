"""The service over a fresh project, on each database (the ``database_url`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.test_ingestion import Service


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    running = Service(tmp_path, database_url)
    yield running
    running.store.close()
