"""The CLI end to end on a temporary project: exit codes, messages and files written."""

from __future__ import annotations

import csv
import json
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


def test_init_writes_the_default_model(project: Path) -> None:
    assert (project / "leadscore.toml").exists()
    assert "name: brief" in (project / "models" / "brief.yaml").read_text()
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 1
    assert "already a project" in again.stderr


def test_import_score_and_explain(project: Path) -> None:
    leads = project / "leads.csv"
    leads.write_text(
        "lead_id,email,job_title,company_size\n"
        "L1,ceo@acme.example,CEO,250\n"
        "L2,kid@gmail.com,Student,\n"
    )
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    events = write(
        project / "events.jsonl",
        [
            {
                "type": "track",
                "userId": "L1",
                "event": "Webinar Attended",
                "messageId": "w1",
                "timestamp": "2026-01-01T09:00:00Z",
            },
            {
                "type": "page",
                "userId": "L1",
                "messageId": "p1",
                "properties": {"path": "/pricing"},
                "timestamp": "2026-07-10T09:00:00Z",
            },
        ],
    )
    result = runner.invoke(app, ["import", "events", str(events)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 events" in result.stderr

    out = project / "scores.csv"
    result = runner.invoke(app, ["score", "--as-of", "2026-07-20", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = {row["lead_id"]: row for row in csv.DictReader(out.read_text().splitlines())}
    # L1: fit CEO 20 + 100+ employees 15 = 35; webinar 200 days old: 10 * 0.5 = 5;
    # pricing 10 days old: page view 1 + pricing 5 = 6; engagement 11; score 46 -> warm.
    assert (rows["L1"]["fit"], rows["L1"]["engagement"], rows["L1"]["score"]) == ("35", "11", "46")
    assert (rows["L1"]["tier"], rows["L1"]["grade"], rows["L1"]["stage"]) == ("warm", "A", "Lead")
    # L2: student -20, free mail -10 -> fit -30, clipped to 0.
    assert (rows["L2"]["fit"], rows["L2"]["score"], rows["L2"]["tier"]) == ("-30", "0", "cold")

    result = runner.invoke(app, ["explain", "L1", "--as-of", "2026-07-20", "--json"])
    assert result.exit_code == 0, result.output
    (explained,) = json.loads(result.stdout)
    assert explained["score"] == 46
    assert sum(c["points"] for c in explained["contributions"]) == 46
    webinar = next(c for c in explained["contributions"] if c["name"] == "webinar attendance")
    assert (webinar["raw"], webinar["decayed"]) == (10, 5)

    result = runner.invoke(app, ["explain", "L1", "--as-of", "2026-07-20"])
    assert result.exit_code == 0
    assert "conditions to enter MQL: do not hold" in result.stdout


def test_rejected_lines_exit_3_unless_allowed(project: Path) -> None:
    events = write(
        project / "events.jsonl",
        [
            {
                "type": "track",
                "userId": "L1",
                "event": "Email Opened",
                "messageId": "x",
                "timestamp": "2026-01-01T09:00:00Z",
            },
            {
                "type": "track",
                "userId": "L1",
                "messageId": "y",
                "timestamp": "2026-01-01T09:00:00Z",
            },
        ],
    )
    result = runner.invoke(app, ["import", "events", str(events)])
    assert result.exit_code == 3
    assert "events.jsonl:2: 'event' is required for track calls" in result.stderr
    assert "rejected 1" in result.stderr
    assert runner.invoke(app, ["import", "events", str(events), "--allow-rejects"]).exit_code == 0


def test_invalid_model_exits_1_with_location(project: Path) -> None:
    bad = project / "models" / "bad.yaml"
    bad.write_text("name: bad\ntiers:\n  - {name: hot, min: fifty}\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml:3:22: tiers[0].min: Input should be a valid number" in result.stderr
    assert "Traceback" not in result.output
    # score validates every model file too
    assert runner.invoke(app, ["score"]).exit_code == 1


def test_score_with_no_leads_says_what_to_do(project: Path) -> None:
    result = runner.invoke(app, ["score"])
    assert result.exit_code == 0
    assert "No leads to score: import some with 'leadscore import leads FILE'" in result.stderr


def test_outside_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["score"])
    assert result.exit_code == 1
    assert "no leadscore.toml" in result.stderr


def test_bad_as_of_and_unknown_lead(project: Path) -> None:
    result = runner.invoke(app, ["score", "--as-of", "2026-01-01T10:00"])
    assert result.exit_code == 1
    assert "--as-of: '2026-01-01T10:00' has no UTC offset" in result.stderr
    result = runner.invoke(app, ["explain", "nobody"])
    assert result.exit_code == 1
    assert "lead 'nobody' is not in the database" in result.stderr


def test_every_command_has_help() -> None:
    for command in (
        ["init"],
        ["validate"],
        ["import", "leads"],
        ["import", "events"],
        ["score"],
        ["explain"],
        ["recycle"],
        ["accounts"],
        ["demo"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.stdout


@pytest.mark.parametrize("command", ["score", "backtest", "train", "evaluate", "learn-points"])
def test_help_names_the_lake_section(command: str) -> None:
    """``[lake]`` is printed as written, not taken for Rich markup and dropped."""
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "[lake]" in " ".join(result.stdout.split())


def test_demo_scores_a_synthetic_company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "shop", "--leads", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "brief: 200 leads" in result.stdout
    assert "became customers" in result.stdout
    assert (tmp_path / "shop" / "leadscore.db").exists()


def test_scores_of_the_past_use_the_attributes_of_then(project: Path) -> None:
    identify = {"type": "identify", "userId": "L1"}
    events = write(
        project / "identify.jsonl",
        [
            {
                **identify,
                "messageId": "i1",
                "timestamp": "2026-01-01T09:00:00Z",
                "traits": {"job_title": "Engineer", "email": "l1@acme.example"},
            },
            {
                **identify,
                "messageId": "i2",
                "timestamp": "2026-06-01T09:00:00Z",
                "traits": {"job_title": "CEO"},
            },
        ],
    )
    assert runner.invoke(app, ["import", "events", str(events)]).exit_code == 0
    fits = {}
    for day in ("2025-12-01", "2026-05-31", "2026-06-01"):
        out = project / f"{day}.csv"
        result = runner.invoke(app, ["score", "--as-of", day, "-o", str(out), "--dry-run"])
        assert result.exit_code == 0, result.output
        (row,) = csv.DictReader(out.read_text().splitlines())
        fits[day] = row["fit"]
    # An engineer (no fit rule) until the identify of 1 June made L1 a CEO: leadership +20.
    # The first traits count from the start, so 2025-12-01 is an engineer too.
    assert fits == {"2025-12-01": "0", "2026-05-31": "0", "2026-06-01": "20"}
    result = runner.invoke(app, ["explain", "L1", "--as-of", "2026-05-31", "--json"])
    (explained,) = json.loads(result.stdout)
    assert explained["fit"] == 0


def test_import_events_counts_calls_apart_and_reads_semicolons(project: Path) -> None:
    messages = [
        {"type": "identify", "userId": "L1", "traits": {"email": "a@x.example"},
         "messageId": "i1", "timestamp": "2026-03-01T09:00:00Z"},
        {"type": "track", "userId": "L1", "event": "Email Opened", "messageId": "m1",
         "timestamp": "2026-03-01T09:00:00Z"},
    ]  # fmt: skip
    write(project / "events.jsonl", messages)
    runner = CliRunner()
    result = runner.invoke(app, ["import", "events", "events.jsonl"])
    assert result.exit_code == 0, result.output
    assert (
        "Imported 1 events and 1 identify, group or alias calls from events.jsonl "
        "(1 new, 0 already stored)." in " ".join(result.output.split())
    )
    (project / "leads.csv").write_text("Email;Job Title\nb@y.example;CEO\n")
    result = runner.invoke(app, ["import", "leads", "leads.csv"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["import", "leads", "leads.csv", "--separator", ";;"])
    assert result.exit_code == 1
    assert "--separator: ';;' must be one character" in result.output
