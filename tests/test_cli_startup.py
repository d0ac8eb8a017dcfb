"""``leadscore --help`` lists every command without importing the scoring stack, and what it
lists is each command's own help (read from the source, held here to the imported command)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from leadscore.cli import COMMANDS, _help_of, command_of

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
