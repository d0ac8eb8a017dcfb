"""Diminishing returns within a day (``repeat_factor``), computed by hand from
docs/model-file.md: each repeat earns the previous one's points times the factor, rounded half
away from zero to a milli-point; the day's sum is capped, then decayed once."""

from __future__ import annotations

from leadscore import Event
from leadscore.testing.strategies import NOW
from tests.conftest import model, score_both

DAY = 86_400 * 1_000_000

MODEL = """
name: m
engagement:
  - {name: views, type: page, points: 10, repeat_factor: 0.5}
  - {name: opens, event: Email Opened, points: 3, repeat_factor: 0.3, daily_cap: 4}
  - {name: clicks, event: Email Clicked, points: 0.001, repeat_factor: 0.5}
decay: {type: steps, steps: [{max_age_days: 30, factor: 1}], otherwise: 0.5}
"""


def _events(kind: str, days_ago: int, n: int, start: int = 0) -> list[Event]:
    page = kind == "page"
    return [
        Event(f"{kind}{days_ago}-{start + i}", "L", "page" if page else "track",
              None if page else kind, NOW - days_ago * DAY - i * 1_000_000)
        for i in range(n)
    ]  # fmt: skip


def test_repeats_earn_less_the_same_day_and_start_afresh_the_next() -> None:
    events = _events("page", 1, 4) + _events("page", 2, 1)
    result = score_both(model(MODEL), {"L": {}}, events, NOW)["L"]
    # day 1: 10 + 5 + 2.5 + 1.25 = 18.75; day 2: 10 afresh -> 28.75
    assert result.engagement == 28_750


def test_the_daily_cap_limits_the_diminished_sum_which_is_decayed_once() -> None:
    # 200 days ago (factor 0.5): 3 + 0.9 + 0.27 = 4.17, capped at 4, decayed: 2
    events = _events("Email Opened", 200, 3)
    result = score_both(model(MODEL), {"L": {}}, events, NOW)["L"]
    assert result.engagement == 2_000


def test_a_milli_point_never_halves_to_nothing() -> None:
    # 0.001 x 0.5 = 0.0005 rounds half away from zero to 0.001: each of 5 clicks earns it
    events = _events("Email Clicked", 0, 5)
    result = score_both(model(MODEL), {"L": {}}, events, NOW)["L"]
    assert result.engagement == 5
