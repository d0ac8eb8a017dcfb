"""A daily cap on a group of rules, by hand from docs/model-file.md: per day, the group's
rules' points for the day are added, limited to the daily cap, and the day's sum is decayed
once by the group's decay; the explanation shows each rule's own points and one line for the
group's daily cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore import Event
from leadscore.errors import ModelFileError
from leadscore.spec.loader import load_model
from leadscore.testing.strategies import NOW
from tests.conftest import model, score_both

DAY = 86_400 * 1_000_000

MODEL = """
name: m
groups:
  - name: email
    daily_cap: 5
    decay: {type: steps, steps: [{max_age_days: 30, factor: 1}], otherwise: 0.5}
engagement:
  - {name: opens, event: Email Opened, points: 2, group: email}
  - {name: clicks, event: Email Clicked, points: 3, group: email}
  - {name: webinar, event: Webinar Attended, points: 10}
"""


def _track(name: str, days_ago: int, n: int) -> Event:
    return Event(f"{name}{days_ago}-{n}", "L", "track", name, NOW - days_ago * DAY - n * 60_000_000)


def test_a_group_day_is_capped_then_decayed_once() -> None:
    events = [
        # today: opens 2 + 2, clicks 3: 7 -> capped at 5
        _track("Email Opened", 0, 1), _track("Email Opened", 0, 2), _track("Email Clicked", 0, 3),
        # 40 days ago (factor 0.5): clicks 3 + 3 = 6 -> 5 -> 2.5
        _track("Email Clicked", 40, 1), _track("Email Clicked", 40, 2),
        # yesterday: one open, 2, under the cap
        _track("Email Opened", 1, 1),
        _track("Webinar Attended", 0, 9),
    ]  # fmt: skip
    result = score_both(model(MODEL), {"L": {}}, events, NOW)["L"]
    # email 5 + 2.5 + 2 = 9.5; webinar 10 -> 19.5
    assert result.engagement == 19_500
    lines = {(c.kind, c.name): c.points for c in result.contributions}
    # the rules as if uncapped: opens 2+2+2 = 6, clicks 3 + (3+3) x 0.5 = 6; the cap line
    # takes the rest: 9.5 - 12 = -2.5
    assert lines[("engagement", "opens")] == 6_000
    assert lines[("engagement", "clicks")] == 6_000
    assert lines[("group_daily_cap", "email")] == -2_500
    assert sum(c.points for c in result.contributions) == result.score


def test_its_rules_may_not_decay_or_cap_on_their_own(tmp_path: Path) -> None:
    text = MODEL.replace(
        "{name: clicks, event: Email Clicked, points: 3, group: email}",
        "{name: clicks, event: Email Clicked, points: 3, group: email, cap: 9}",
    )
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as raised:
        load_model(path)
    (issue,) = raised.value.issues
    assert (issue.line, issue.path) == (9, "engagement[1].cap")  # MODEL opens with a newline
    assert "group 'email', which has a daily_cap: its rules take the group's decay" in issue.message
