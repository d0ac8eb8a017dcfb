"""A fresh project folder per CLI test, and a JSON-lines writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app


@pytest.fixture
def new_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``leadscore init`` in a temporary folder, which becomes the current one."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.fixture
def project(new_project: Path) -> Path:
    """A new project (``new_project``) on SQLite. A module whose every test should run on
    each database overrides this with ``project_on_each_database``."""
    return new_project


@pytest.fixture
def project_on_each_database(
    new_project: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A new project with its database on SQLite and, again, on PostgreSQL (the
    environment's ``LEADSCORE_DATABASE_URL`` wins over ``leadscore.toml``): a CLI test that
    takes it runs on both."""
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", database_url)
    return new_project


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
