"""The README documents every command and every setting (datasette's test_docs habit)."""

from __future__ import annotations

from pathlib import Path

from leadscore.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_command_is_in_the_readme() -> None:
    for command in (
        "init",
        "validate",
        "import leads",
        "import events",
        "score",
        "explain",
        "demo",
    ):
        assert f"`leadscore {command}" in README, command


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"`{name}`" in README and f"`LEADSCORE_{name.upper()}`" in README, name


def test_readme_has_the_two_setup_commands() -> None:
    assert "pip install -e . && leadscore demo" in README
    assert "pip install -e '.[test]' && pytest" in README
