"""``leadscore --help`` lists every command without importing the scoring stack, and what it
lists is each command's own help (read from the source, held here to the imported command)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import COMMANDS, _help_of, app, command_of

HEAVY = ("duckdb", "sqlalchemy", "pyarrow", "lightgbm", "sklearn", "scipy", "numpy")


def test_help_imports_none_of_the_scoring_stack() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom leadscore.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\nassert result.exit_code == 0\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\nprint(result.output)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    loaded, _, shown = found.stdout.partition("\n")
    assert loaded == "[]"
    for name in COMMANDS:
        assert f" {name} " in shown, name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = command_of(name)
    assert command.name == name
    assert (command.help or "").strip() == _help_of(*COMMANDS[name]).strip()


def test_validate_in_a_project_reads_event_names_without_the_database_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    webinar = {"type": "track", "userId": "L1", "event": "Webinar Atended", "messageId": "w"}
    (tmp_path / "e.jsonl").write_text(
        json.dumps({**webinar, "timestamp": "2026-01-05T10:00:00Z"}) + "\n", encoding="utf-8"
    )
    assert runner.invoke(app, ["import", "events", "e.jsonl"]).exit_code == 0
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom leadscore.cli import app\n"
        "result = CliRunner().invoke(app, ['validate'])\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
        "print(result.exit_code)\nprint(' '.join(result.output.split()))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert found.returncode == 0, found.stderr
    loaded, code_line, said = found.stdout.splitlines()[:3]
    assert loaded == "[]" and code_line == "0"
    # the misspelt stored name is found, so the model's own name is reported as unseen
    assert "Webinar Attended" in said and "did you mean 'Webinar Atended'" in said
