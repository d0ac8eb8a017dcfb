"""The README documents every command and every setting (datasette's test_docs habit)."""

from __future__ import annotations

from pathlib import Path

from leadscore.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def _commands() -> list[str]:
    """Every command of the CLI, groups expanded ('import leads'), read from the app itself."""
    import typer
    from typer.core import TyperGroup

    from leadscore.cli import app

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    names = []
    for name, command in root.commands.items():
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
