"""The CLI on the files that once aborted it with a traceback (issue 14): each bad line is
rejected with its number and field, the good lines are imported, the exit code is 3.

The expected counts are those of the files written here: a line is good or bad by the rules
of docs/service.md ("Limits"), decided when the file was written, not by running the code.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app
from tests.unit.spec.test_hostile_models import alias_bomb

runner = CliRunner()


@pytest.fixture
def project(project_on_each_database: Path) -> Path:
    """Every test here runs on SQLite and on PostgreSQL."""
    return project_on_each_database


GOOD = {"type": "track", "event": "Webinar Attended", "timestamp": "2026-01-01T09:00:00Z"}


def good(n: int) -> str:
    return json.dumps({**GOOD, "userId": f"good-{n}", "messageId": f"m{n}"})


def said(result: Result) -> str:
    """What a command wrote on stderr, as one line (Rich boxes and wraps usage errors)."""
    return " ".join(result.stderr.replace("\u2502", " ").split())


def rejects(path: Path) -> list[dict[str, object]]:
    file = path.with_name(path.name + ".rejects.jsonl")
    return [json.loads(line) for line in file.read_text().splitlines()]


def stored_events(project: Path) -> int:
    with Project.open(project).store() as store:
        return len(store.events_arrow())


def test_hostile_event_lines_are_rejected_one_by_one(project: Path) -> None:
    bad = [
        '{"type":"track","userId":"x","event":"E","timestamp":"0001-01-01T00:00:00+01:00"}',
        '{"type":"track","userId":"x","event":"E","timestamp":"9999-12-31T23:59:59-01:00"}',
        '{"type":"track","userId":"\\ud800","event":"E","timestamp":"2026-01-01T00:00:00Z"}',
        '{"type":"track","userId":"x","event":"E","properties":{"n":' + "9" * 5000 + "}}",
        "[" * 200_000,
        '{"type":"track","userId":"x","event":"E","properties":{"n":NaN}}',
        '{"type":"identify","userId":false}',
        '{"type":"identify","userId":"a/b"}',
    ]
    path = project / "events.jsonl"
    path.write_text("\n".join([good(1), *bad, good(2)]) + "\n")
    started = time.perf_counter()
    result = runner.invoke(app, ["import", "events", str(path)])
    assert time.perf_counter() - started < 10
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Imported 2 events" in result.stderr
    found = rejects(path)
    assert [r["line"] for r in found] == list(range(2, 2 + len(bad)))
    assert [r["field"] for r in found] == [
        "timestamp",
        "timestamp",
        "userId",
        "properties.n",
        "",
        "properties.n",
        "userId",
        "userId",
    ]
    assert "too deeply" in str(found[4]["reason"])
    assert stored_events(project) == 2


def test_a_cp1252_byte_rejects_its_line_and_says_how_to_read_it(project: Path) -> None:
    path = project / "leads.csv"
    path.write_bytes(
        b"lead_id,job_title\n"
        b"L1,CEO\n"
        b"L2,\x93Head\x94 of Sales\n"  # Excel's curly quotes in cp1252
        b"L3,CTO\n"
    )
    result = runner.invoke(app, ["import", "leads", str(path)])
    assert result.exit_code == 3, result.output
    [reject] = rejects(path)
    assert (reject["line"], reject["field"]) == (3, "job_title")
    assert "byte 0x93" in str(reject["reason"])
    assert "--encoding cp1252" in str(reject["reason"])
    with Project.open(project).store() as store, store.begin() as conn:
        assert store.existing_leads(["L1", "L2", "L3"], conn) == {"L1", "L3"}

    again = runner.invoke(app, ["import", "leads", str(path), "--encoding", "cp1252"])
    assert again.exit_code == 0, again.output
    with Project.open(project).store() as store:
        lead = store.lead("L2")
    assert lead is not None and lead["job_title"] == "\u201cHead\u201d of Sales"


def test_a_non_utf8_event_line_is_rejected_and_the_rest_kept(project: Path) -> None:
    path = project / "events.jsonl"
    bad = b'{"type":"track","userId":"x","event":"Caf\xe9","timestamp":"2026-01-01T00:00:00Z"}'
    path.write_bytes(good(1).encode() + b"\n" + bad + b"\n" + good(2).encode() + b"\n")
    result = runner.invoke(app, ["import", "events", str(path)])
    assert result.exit_code == 3, result.output
    [reject] = rejects(path)
    assert reject["line"] == 2 and "byte 0xe9" in str(reject["reason"])
    assert stored_events(project) == 2


def test_an_unknown_encoding_is_an_error(project: Path) -> None:
    path = project / "leads.csv"
    path.write_text("lead_id\nL1\n")
    result = runner.invoke(app, ["import", "leads", str(path), "--encoding", "klingon"])
    assert result.exit_code == 1
    assert "'klingon' is not an encoding" in result.stderr


def test_lead_ids_no_api_could_address_are_rejected(project: Path) -> None:
    path = project / "leads.csv"
    path.write_text("lead_id,email\n../../x,a@b.example\nL1,c@d.example\n" + "y" * 300 + ",\n")
    result = runner.invoke(app, ["import", "leads", str(path)])
    assert result.exit_code == 3, result.output
    found = rejects(path)
    assert [(r["line"], r["field"]) for r in found] == [(2, "lead_id"), (4, "lead_id")]
    assert "contains '/'" in str(found[0]["reason"])


def test_an_output_path_that_cannot_be_written_is_refused_before_scoring(
    project: Path,
) -> None:
    path = project / "leads.csv"
    path.write_text("lead_id,job_title\nL1,CEO\n")
    assert runner.invoke(app, ["import", "leads", str(path)]).exit_code == 0
    result = runner.invoke(app, ["score", "--output", "/nonexistent/dir/x.csv"])
    assert result.exit_code == 2
    assert "the folder /nonexistent/dir does not exist" in said(result)
    assert "Traceback" not in result.output
    with Project.open(project).store() as store:
        assert store.transitions("L1", "brief") == [], "nothing may be recorded"


def test_validate_refuses_an_alias_bomb_at_once(project: Path) -> None:
    bomb = project / "bomb.yaml"
    bomb.write_text(alias_bomb())
    started = time.perf_counter()
    result = runner.invoke(app, ["validate", str(bomb)])
    assert time.perf_counter() - started < 2
    assert result.exit_code == 1
    assert "bomb.yaml:5:" in result.stderr and "expands to more than" in result.stderr


def test_validate_refuses_deep_nesting_without_a_traceback(project: Path) -> None:
    deep = project / "deep.yaml"
    deep.write_text("name: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = runner.invoke(app, ["validate", str(deep)])
    assert result.exit_code == 1
    assert "nested too deeply" in result.stderr
    assert "Traceback" not in result.output
