"""Point model versions from the CLI: upload a candidate, read what changed, put it in use
(every lead rescored), roll back."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from leadscore.cli import app
from tests.integration.conftest import write

runner = CliRunner()

WEBINAR = "  - name: webinar attendance\n    event: Webinar Attended\n    points: 10"


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join((result.stdout + result.stderr).split())


def _score(project: Path) -> str:
    _ok("score", "--dry-run", "--output", "s.csv")
    (row,) = csv.DictReader((project / "s.csv").read_text().splitlines())
    return row["score"]


def test_upload_diff_activate_and_roll_back(project_on_each_database: Path) -> None:
    project = project_on_each_database
    brief = (project / "models" / "brief.yaml").read_text(encoding="utf-8")
    assert WEBINAR in brief and "  - {name: hot, min: 50}" in brief
    candidate = brief.replace(WEBINAR, WEBINAR.replace("10", "15")).replace(
        "  - {name: hot, min: 50}", "  - {name: hot, min: 60}"
    )
    candidate = candidate.replace(
        "        - {type: score, gt: 70}", "        - {type: score, gt: 75}"
    )
    (project / "candidate.yaml").write_text(candidate, encoding="utf-8")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()  # full points, no decay
    webinar = {"type": "track", "userId": "L1", "event": "Webinar Attended", "messageId": "w"}
    write(project / "e.jsonl", [{**webinar, "timestamp": yesterday}])
    _ok("import", "events", "e.jsonl")

    assert "Kept candidate.yaml as brief v2 (not in use)." in _ok(
        "models", "upload", "candidate.yaml"
    )
    table = runner.invoke(app, ["models", "list"]).stdout
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines()
            if line.startswith("│ brief")]  # fmt: skip
    assert [row[:3] for row in rows] == [["brief", "v1", "yes"], ["brief", "v2", ""]]
    said = _ok("models", "diff", "brief", "2", "1")
    assert "brief v2 -> v1: 4 change(s)" in said
    assert "~ engagement rule 'webinar attendance': points 15 -> 10" in said
    assert "~ tier 'hot': min 60 -> 50" in said
    assert "- stage 'SQL' entry conditions: score is more than 75" in said
    assert "+ stage 'SQL' entry conditions: score is more than 70" in said

    assert _score(project) == "10"  # the webinar, v1
    said = _ok("models", "activate", "brief", "2")
    assert "brief v2 is in use; 1 leads to rescore." in said and "Rescored 1 results" in said
    assert (project / "models" / "brief.yaml").read_text(encoding="utf-8") == candidate
    assert _score(project) == "15"
    said = _ok("models", "rollback", "brief")
    assert "brief v1 is in use" in said
    assert _score(project) == "10"
    first = runner.invoke(app, ["models", "rollback", "brief"])
    assert first.exit_code == 1 and "model 'brief' has no version before v1" in first.stderr


def test_refusals_name_what_is_wrong(project_on_each_database: Path) -> None:
    project = project_on_each_database
    (project / "bad.yaml").write_text("name: brief\nfit: [{name: x, points: many}]\n")
    bad = runner.invoke(app, ["models", "upload", "bad.yaml"])
    assert bad.exit_code == 1 and "bad.yaml:2:" in bad.stderr
    missing = runner.invoke(app, ["models", "diff", "brief", "7"])
    assert missing.exit_code == 1 and "model 'brief' has no version 7" in missing.stderr


def test_a_file_with_windows_line_ends_is_kept_and_found_again(
    project_on_each_database: Path,
) -> None:
    """A browser's form (and a file saved on Windows) sends \\r\\n: the version is kept with
    \\n and found again, uploading it twice is one version (it raised StopIteration)."""
    project = project_on_each_database
    from leadscore.app.model_versions import upload
    from leadscore.app.project import Project

    text = (
        (project / "models" / "brief.yaml").read_text().replace("points: 10\n", "points: 11\n", 1)
    )
    crlf = text.replace("\n", "\r\n")
    first = upload(Project.find(project), crlf)
    again = upload(Project.find(project), crlf)
    assert (first.version, again.version) == (2, 2)
    assert b"\r" not in first.path.read_bytes()


def test_a_name_both_kinds_share_asks_which(project_on_each_database: Path) -> None:
    project = project_on_each_database
    trained = project / "models" / "predictive" / "brief"
    (trained / "v1").mkdir(parents=True)
    (trained / "v1" / "model.json").write_text("{}", encoding="utf-8")
    (trained / "v2").mkdir()
    (trained / "v2" / "model.json").write_text('{"v": 2}', encoding="utf-8")
    (trained / "ACTIVE").write_text("2\n", encoding="utf-8")
    _ok("models", "upload", "models/brief.yaml")  # the point model's v1

    asked = runner.invoke(app, ["models", "activate", "brief", "1"])
    assert asked.exit_code == 1
    assert "'brief' is both a point model and a trained model: say which" in asked.stderr
    assert (trained / "ACTIVE").read_text(encoding="utf-8") == "2\n"  # nothing changed

    broken = runner.invoke(app, ["models", "activate", "brief", "1", "--kind", "trained"])
    assert broken.exit_code == 1 and "brief/v1: model format None is not 1" in broken.stderr
    assert (trained / "ACTIVE").read_text(encoding="utf-8") == "2\n"  # it cannot serve: kept out
    assert "brief v1 is in use; 0 leads to rescore." in _ok(
        "models", "activate", "brief", "1", "--kind", "points", "--no-rescore"
    )
    wrong = runner.invoke(app, ["models", "activate", "brief", "1", "--kind", "bayes"])
    assert wrong.exit_code == 2 and "'bayes' is not points or trained" in wrong.stderr
