"""The timeline's tables at their edges: days folded together before the first step, windows,
decays that settle, and ``once`` rules, each worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from leadscore.engines.plan import RuleStep
from leadscore.engines.prepared import Series
from leadscore.engines.semantics import decay_ppm
from leadscore.engines.timeline import Timeline, constant_from, recycle_rows
from leadscore.spec.decay import HalfLife, Linear, NoDecay, Steps

DAY = 86_400_000_000
FIRST = 20_000  # the first step's day


def _rule(**given: object) -> RuleStep:
    values: dict[str, object] = {
        "index": 0, "name": "r", "matcher": 0, "points": 10_000, "group": None, "once": False,
        "daily_cap": None, "cap": None, "within_days": None, "decay": None,
    }  # fmt: skip
    values.update(given)
    return RuleStep(**values)  # type: ignore[arg-type]


def _points(rule: RuleStep, event_days: list[int], steps: int = 3) -> list[int]:
    """One lead's points at the end of days FIRST .. FIRST + steps - 1."""
    ts = np.array(sorted(d * DAY + 3_600_000_000 for d in event_days), np.int64)
    series = Series(np.zeros(len(ts), np.int32), ts)
    days = list(range(FIRST, FIRST + steps))
    empty = np.zeros(0, np.int64)
    timeline = Timeline(days, recycle_rows(1, empty, empty, np.array(days, np.int64)))
    found = timeline.rule_points(series, rule)
    assert found is not None
    return [int(v) for v in found[:, 0]]


def test_an_event_before_the_first_step_and_outside_a_window_counts_nothing() -> None:
    # window 0 days: only the step's own day; the event a day (and a year) before is out
    assert _points(_rule(within_days=0), [FIRST - 1]) == [0, 0, 0]
    assert _points(_rule(within_days=0), [FIRST - 365, FIRST + 1]) == [0, 10_000, 0]


def test_a_window_keeps_old_days_until_they_pass_it() -> None:
    # within 2 days: an event on FIRST - 1 is 1, 2, 3 days old at the steps
    assert _points(_rule(within_days=2), [FIRST - 1]) == [10_000, 10_000, 0]


def test_decayed_points_of_old_days_folded_together() -> None:
    # steps of 30 days: 10 points up to 30 days old, 5 after; events 40 and 400 days back
    steps = Steps.model_validate({"type": "steps", "steps": [{"max_age_days": 30, "factor": 1}],
                                  "otherwise": 0.5})  # fmt: skip
    assert _points(_rule(decay=steps), [FIRST - 40, FIRST - 400, FIRST]) == [20_000] * 3
    half = HalfLife(type="half_life", days=1)
    # 10 points halving daily: 10, 5, 2.5 for an event on FIRST; 1000 days back: 0
    assert _points(_rule(decay=half), [FIRST, FIRST - 1000]) == [10_000, 5_000, 2_500]


def test_once_takes_the_latest_day_only() -> None:
    half = HalfLife(type="half_life", days=1)
    # the latest of FIRST - 3 and FIRST + 1: 1.25 points (3 days old), then 10, then 5
    assert _points(_rule(once=True, decay=half), [FIRST - 3, FIRST + 1]) == [1_250, 10_000, 5_000]


@pytest.mark.parametrize(
    "decay",
    [
        None,
        NoDecay(type="none"),
        Linear(type="linear", rate=0.25, period_days=10, floor=0.0),
        Linear(type="linear", rate=0.01, period_days=7, floor=0.3),
        HalfLife(type="half_life", days=30),
        Steps.model_validate({"type": "steps", "steps": [{"max_age_days": 30, "factor": 1},
                              {"max_age_days": 180, "factor": 0.75}], "otherwise": 0.5}),
    ],
)  # fmt: skip
def test_decays_settle_from_the_age_given(decay: object) -> None:
    """Folding older days together is exact only if no factor changes from there on."""
    settled = constant_from(decay)  # type: ignore[arg-type]
    factors = {decay_ppm(decay, settled + k) for k in range(2_000)}  # type: ignore[arg-type]
    assert len(factors) == 1
