"""validate says what a file alone cannot: two files with one model name (both named), and
rules counting events that no stored event has (a typo that would score nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from tests.integration.conftest import write

runner = CliRunner()


@pytest.fixture
def project(project_on_each_database: Path) -> Path:
    """Every test here runs on SQLite and on PostgreSQL."""
    return project_on_each_database


TYPO = """\
name: typo
engagement:
  - {name: email open, event: Email Openned, points: 2}
  - {name: webinar, event: Webinar Attended, points: 10}
stages:
  - name: Lead
  - name: MQL
    when: {type: events, event: Demo Requestd, gte: 1}
"""


def test_an_event_no_stored_event_has_is_warned_of(project: Path) -> None:
    (project / "models" / "typo.yaml").write_text(TYPO, encoding="utf-8")
    quiet = runner.invoke(app, ["validate"])  # no events stored yet: nothing to compare with
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.stderr
    events = [
        {"type": "track", "userId": "L1", "event": name, "messageId": name,
         "timestamp": "2026-03-01T09:00:00Z"}
        for name in ("Email Opened", "Webinar Attended", "Demo Requested")
    ]  # fmt: skip
    runner.invoke(app, ["import", "events", str(write(project / "e.jsonl", events))])
    result = runner.invoke(app, ["validate", "models/typo.yaml"])
    assert result.exit_code == 0, result.output  # a warning, not an error
    said = " ".join(result.stderr.split())
    assert (
        "warning: model 'typo': engagement rule 'email open' counts 'Email Openned' events, "
        "and no stored event has that name; did you mean 'Email Opened'?"
    ) in said
    assert "stage MQL counts 'Demo Requestd' events" in said
    assert "did you mean 'Demo Requested'?" in said
    assert "'Webinar Attended'" not in said


def test_two_files_with_one_name_are_both_named(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief = (project / "models" / "brief.yaml").read_text(encoding="utf-8")
    (project / "models" / "copy.yaml").write_text(brief, encoding="utf-8")
    for command in (["validate"], ["score"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert "brief.yaml and " in result.stderr and "copy.yaml both name their model" in (
            " ".join(result.stderr.split())
        )
    # files checked outside any project: the same rule, no event check
    outside = tmp_path_factory.mktemp("elsewhere")  # not below the project
    monkeypatch.chdir(outside)
    (outside / "a.yaml").write_text(TYPO, encoding="utf-8")
    result = runner.invoke(app, ["validate", "a.yaml"])
    assert result.exit_code == 0, result.output
