"""The README documents every command and every setting (datasette's test_docs habit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def _commands() -> list[str]:
    """Every command of the CLI, groups expanded ('import leads'), read from the app itself."""
    from typer.core import TyperGroup

    from leadscore.cli import COMMANDS, command_of

    names = []
    for name in COMMANDS:
        command = command_of(name)
        if isinstance(command, TyperGroup):
            names.extend(f"{name} {sub}" for sub in command.commands)
        else:
            names.append(name)
    return sorted(names)


def test_every_command_is_in_the_readme() -> None:
    commands = _commands()
    assert {"import events", "recycle", "score"} <= set(commands)  # the walk finds them
    for command in commands:
        assert f"`leadscore {command}" in README, command


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"`{name}`" in README and f"`LEADSCORE_{name.upper()}`" in README, name


def test_readme_has_the_two_setup_commands() -> None:
    assert "pip install -e . && leadscore demo" in README
    assert "pip install -e '.[test]' && pytest" in README


def test_the_readme_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command of the 30-second tour, read from the README and run as written, on a
    leads file and an events file like the ones it names."""
    from typer.testing import CliRunner

    from leadscore.cli import app

    tour = README[README.index("## 30-second tour") :]
    tour = tour[: tour.index("\n\n", tour.index("leadscore init"))]
    commands = [line.split("#")[0].split() for line in tour.splitlines() if "leadscore " in line]
    assert [c[:2] for c in commands] == [
        ["leadscore", "init"], ["leadscore", "import"], ["leadscore", "import"],
        ["leadscore", "score"], ["leadscore", "explain"],
    ]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text(
        "lead_id,email,job_title,company_size,country\nL-1042,ann@acme.example,CEO,250,DK\n"
    )
    (tmp_path / "events.jsonl").write_text(
        '{"type": "track", "userId": "L-1042", "event": "Webinar Attended", '
        '"messageId": "m1", "timestamp": "2026-01-20T09:00:00Z"}\n'
    )
    runner = CliRunner()
    outputs = []
    for command in commands:
        result = runner.invoke(app, command[1:])
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.stdout)
    # by hand: CEO +20, 250 employees +15, Denmark +5 = fit 40; a webinar 11 days old +10
    scores = (tmp_path / "scores.csv").read_text().splitlines()
    assert scores[1].startswith('"L-1042","acme.example","brief",40,10,50,"hot","A","Lead"')
    assert "L-1042" in outputs[-1] and "score 50 (fit 40 + engagement 10)" in outputs[-1]
