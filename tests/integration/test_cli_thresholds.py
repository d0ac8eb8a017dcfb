"""``leadscore thresholds``: the hand-over threshold for a sales capacity, worked by hand on a
small history, the capacity no threshold can meet, and a candidate file that differs from the
model's only in the numbers proposed."""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.spec.loader import load_model
from tests.integration.conftest import write

runner = CliRunner()


@pytest.fixture
def project(project_on_each_database: Path) -> Path:
    """Every test here runs on SQLite and on PostgreSQL."""
    return project_on_each_database


DAY0 = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()) // 86_400  # a Monday

MODEL = """\
# a model for threshold advice
name: views
engagement:
  - {name: page view, type: page, points: 1}   # one point a view, no decay
tiers:
  - {name: hot, min: 50}     # the top tier
  - {name: warm, min: 20}    # the next
  - {name: cold}
stages:
  - name: Lead
  - name: MQL
    when:
      all:
        - {type: score, gte: 50}   # the threshold to move
        - {type: days_since_activity, lte: 400}
"""
#: Views on day 1 give L1..L6 3, 5, 7, 9, 11 and 13 points: a threshold X hands over every lead
#: with at least X points at day 1's step, over a period of two weeks.
POINTS = {"L1": 3, "L2": 5, "L3": 7, "L4": 9, "L5": 11, "L6": 13}


def _iso(day: int) -> str:
    return datetime.fromtimestamp((DAY0 + day) * 86_400 + 9 * 3_600, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


@pytest.fixture
def history(project: Path) -> Path:
    for old in (project / "models").glob("*.yaml"):
        old.unlink()
    (project / "models" / "views.yaml").write_text(MODEL)
    leads = "lead_id,email\n" + "".join(f"{k},{k.lower()}@acme.example\n" for k in POINTS)
    (project / "leads.csv").write_text(leads)
    assert runner.invoke(app, ["import", "leads", str(project / "leads.csv")]).exit_code == 0
    views = [
        {"type": "page", "userId": lead, "messageId": f"{lead}-{n}", "timestamp": _iso(1),
         "properties": {"path": f"/p{n}"}}
        for lead, count in POINTS.items()
        for n in range(count)
    ]  # fmt: skip
    imported = runner.invoke(app, ["import", "events", str(write(project / "e.jsonl", views))])
    assert imported.exit_code == 0, imported.output
    # L6 wins on day 5, L5 on day 9, L1 on day 6: three conversions in the period
    (project / "outcomes.csv").write_text(
        f"lead_id,outcome,at\nL6,won,{_iso(5)}\nL5,won,{_iso(9)}\nL1,won,{_iso(6)}\n"
    )
    assert runner.invoke(app, ["import", "outcomes", str(project / "outcomes.csv")]).exit_code == 0
    return project


def _advice(*extra: str) -> dict[str, object]:
    first = datetime.fromtimestamp(DAY0 * 86_400, UTC).strftime("%Y-%m-%d")
    last = datetime.fromtimestamp((DAY0 + 13) * 86_400, UTC).strftime("%Y-%m-%d")
    result = runner.invoke(
        app, ["thresholds", "--from", first, "--to", last, "--horizon", "30d", "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.stdout)
    return found


def test_one_a_week_hands_over_the_two_leads_of_ten_points_or_more(history: Path) -> None:
    advice = _advice("--capacity", "1/week")
    proposed = advice["proposed"]
    assert isinstance(proposed, dict)
    # at most 2 over two weeks: X = 10 hands over L5 and L6 (11 and 13 points); 9 adds L4
    assert (proposed["threshold"], proposed["handed_over"], proposed["per_week"]) == (10, 2, 1.0)
    # both converted within 30 days; of the 3 conversions, those two were handed over first
    assert (proposed["precision"], proposed["recall"]) == (1.0, pytest.approx(2 / 3))
    neighbours = {t["threshold"]: t["handed_over"] for t in advice["neighbours"]}  # type: ignore[attr-defined]
    assert neighbours == {8: 3, 9: 3, 11: 2, 12: 1}
    # twice the capacity (4 in two weeks): X = 6 (L3 to L6); today's 50 hands over none
    assert advice["warm"] == 6
    current = advice["current"]
    assert isinstance(current, dict)
    assert (current["threshold"], current["handed_over"]) == (50, 0)
    assert (advice["too_few"], advice["too_many"]) == (False, False)


def test_a_capacity_no_threshold_meets_says_so(history: Path) -> None:
    # six leads in two weeks are 3 a week at most: 5 a week cannot be filled; every threshold
    # up to 3 hands over all six, the highest of them is proposed
    advice = _advice("--capacity", "5/week")
    assert advice["too_few"] is True
    proposed = advice["proposed"]
    assert isinstance(proposed, dict)
    assert (proposed["threshold"], proposed["handed_over"]) == (3, 6)
    result = runner.invoke(app, ["thresholds", "--capacity", "5/week", "--horizon", "30d"])
    assert "No threshold hands over 5 a week" in result.stdout


def test_the_candidate_differs_only_in_the_numbers_proposed(history: Path) -> None:
    candidate = history / "candidate.yaml"
    _advice("--capacity", "1/week", "--write", str(candidate))
    before = (history / "models" / "views.yaml").read_text().splitlines()
    after = candidate.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        (
            "  - {name: hot, min: 50}     # the top tier",
            "  - {name: hot, min: 10}     # the top tier",
        ),
        ("  - {name: warm, min: 20}    # the next", "  - {name: warm, min: 6}    # the next"),
        (
            "        - {type: score, gte: 50}   # the threshold to move",
            "        - {type: score, gte: 10}   # the threshold to move",
        ),
    ], list(difflib.unified_diff(before, after))
    written = load_model(candidate)
    assert [tier.min for tier in written.tiers] == [10, 6, None]


def test_writing_over_the_model_itself_is_refused(history: Path) -> None:
    own = history / "models" / "views.yaml"
    result = runner.invoke(app, ["thresholds", "--capacity", "1/week", "--write", str(own)])
    assert result.exit_code == 1
    assert "that is the model's own file" in result.stderr
    assert own.read_text() == MODEL
