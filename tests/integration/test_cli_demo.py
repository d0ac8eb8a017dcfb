"""The demo shows what scoring is for: a hot tier a sales team can work through, a ranking
with no tie at the top, customers as outcomes so the predictive commands run right after."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app

runner = CliRunner()


def test_the_demo_ranks_and_feeds_the_predictive_commands(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", database_url)  # on SQLite, then PostgreSQL
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "co"])
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path / "co")
    scored = runner.invoke(app, ["score", "--dry-run", "--output", "scores.csv"])
    assert scored.exit_code == 0, scored.output
    rows = list(csv.DictReader((tmp_path / "co" / "scores.csv").read_text().splitlines()))
    assert len(rows) == 2000
    hot = sum(r["tier"] == "hot" for r in rows)
    assert 0.05 * 2000 <= hot <= 0.15 * 2000, hot  # a hot tier of 5-15 %, not half the list
    at_top = sum(float(r["score"]) == 100 for r in rows)
    assert at_top <= 0.05 * 2000, at_top

    # the top ten are ranked past the clip by fit + engagement, each with who they are
    table = [line for line in result.stdout.splitlines() if line.startswith("│ L-")]
    assert len(table) == 10
    cells = [[c.strip() for c in line.strip("│").split("│")] for line in table]
    assert all("@" in row[1] and row[2] for row in cells)  # name <email>, company
    ranks = [(float(row[3]), float(row[4]) + float(row[5])) for row in cells]
    assert ranks == sorted(ranks, reverse=True)
    # all ten read 100, yet they rank apart (an exact tie of two totals can happen by chance)
    assert len(set(ranks)) >= 8

    # customers are outcomes: evaluate, train and learn-points run at once
    for command in (["evaluate", "--no-points"], ["train"], ["learn-points"]):
        done = runner.invoke(app, command)
        assert done.exit_code == 0, (command, done.output)
