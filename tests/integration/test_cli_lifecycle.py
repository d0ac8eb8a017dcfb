"""The lifecycle through the CLI: stages recorded by score, kept, withdrawn, recycled."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from leadscore.cli import app
from tests.integration.conftest import write

runner = CliRunner()


def _stage(project: Path, as_of: str, *extra: str) -> tuple[str, str]:
    out = project / "scores.csv"
    result = runner.invoke(app, ["score", "--as-of", as_of, "--output", str(out), *extra])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(out.read_text().splitlines())
    return row["stage"], result.stderr


def _history(project: Path, as_of: str) -> list[tuple[str, str, str, str]]:
    result = runner.invoke(app, ["explain", "L1", "--as-of", as_of, "--json"])
    assert result.exit_code == 0, result.output
    (explained,) = json.loads(result.stdout)
    return [(h["at"][:10], h["from"], h["to"], h["kind"]) for h in explained["history"]]


def test_stages_are_recorded_kept_withdrawn_and_recycled(project_on_each_database: Path) -> None:
    project = project_on_each_database
    leads = project / "leads.csv"
    leads.write_text(
        "lead_id,email,job_title,company_size\nL1,ann@acme.example,Marketing Manager,50\n"
    )
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    day = "2026-06-01T09:00:"
    events = (
        [
            {
                "type": "page",
                "userId": "L1",
                "properties": {"path": f"/p{i}"},
                "messageId": f"p{i}",
                "timestamp": f"{day}{10 + i}Z",
            }
            for i in range(10)
        ]
        + [
            {
                "type": "track",
                "userId": "L1",
                "event": "Content Downloaded",
                "messageId": f"d{i}",
                "properties": {"premium": True},
                "timestamp": f"{day}3{i}Z",
            }
            for i in range(2)
        ]
        + [
            {
                "type": "track",
                "userId": "L1",
                "event": "Email Opened",
                "messageId": "o",
                "timestamp": f"{day}40Z",
            }
        ]
    )
    path = write(project / "events.jsonl", events)
    assert runner.invoke(app, ["import", "events", str(path)]).exit_code == 0

    # The brief's MQL: size > 10, marketing profile, 2 premium downloads, 10 pages, active.
    stage, messages = _stage(project, "2026-06-02", "--dry-run")  # found, not recorded
    assert (stage, "Recorded" in messages) == ("MQL", False)
    assert _history(project, "2026-06-03") == []
    stage, messages = _stage(project, "2026-06-02")
    assert (stage, "Recorded 1 stage change." in messages) == ("MQL", True)
    stage, messages = _stage(project, "2026-06-02")  # the same run again records nothing
    assert (stage, "Recorded" in messages) == ("MQL", False)
    # 44 days inactive: MQL's conditions fail, but stages only move forward.
    assert _stage(project, "2026-07-15")[0] == "MQL"
    # 96 days inactive (> 90): the brief's withdraw rule sends the MQL back to Lead.
    stage, messages = _stage(project, "2026-09-05")
    assert (stage, "Recorded 1 stage change." in messages) == ("Lead", True)
    # Scoring the past reads the history as it was then, and rewrites nothing.
    stage, messages = _stage(project, "2026-06-10")
    assert stage == "MQL"
    assert "under model 'brief' were not recorded: its history already goes past" in messages
    assert _history(project, "2026-09-06") == [
        ("2026-06-02", "Lead", "MQL", "advance"),
        ("2026-09-05", "MQL", "Lead", "withdraw"),
    ]
    assert _history(project, "2026-08-01") == [("2026-06-02", "Lead", "MQL", "advance")]

    # A recycle cannot go before the last recorded change.
    result = runner.invoke(app, ["recycle", "L1", "--at", "2026-09-01"])
    assert result.exit_code == 1
    assert "a recycle cannot be earlier than the lead's last recorded change" in result.stderr
    result = runner.invoke(app, ["recycle", "L1", "--at", "2026-09-10", "--reason", "no budget"])
    assert result.exit_code == 0, result.output
    assert "L1 under brief: Lead -> Lead (recycled at 2026-09-10 23:59:59 UTC)." in result.stderr
    result = runner.invoke(app, ["explain", "L1", "--as-of", "2026-09-11", "--json"])
    (explained,) = json.loads(result.stdout)
    # Every event came before the recycle: engagement restarts from zero, events kept.
    assert explained["engagement"] == 0
    views = next(c for c in explained["contributions"] if c["name"] == "page view")
    assert (views["matches"], views["filtered"]) == (0, 10)
    assert explained["history"][-1]["reason"] == "no budget"

    result = runner.invoke(app, ["recycle", "nobody"])
    assert result.exit_code == 1
    assert "lead 'nobody' is not in the database" in result.stderr
