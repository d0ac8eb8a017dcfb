"""Instants far from the events: both engines agree, and the batch engine's decay tables
cover only the ages events can have (a table of every day up to 2**62 microseconds, 53
million days, took minutes to build)."""

from __future__ import annotations

from leadscore.testing.strategies import DAY, NOW
from tests.conftest import model, score_both, track

HALF_LIFE = model(
    """
name: m
decay: {type: half_life, days: 30}
engagement:
  - {name: demo, event: Demo Requested, points: 100}
  - {name: open, event: Email Opened, points: 10, daily_cap: 10}
"""
)


def test_far_future_instant() -> None:
    events = [track("a", "Demo Requested", NOW, 1), track("a", "Email Opened", NOW - DAY, 2)]
    far = score_both(HALF_LIFE, {"a": {}}, events, 2**62)  # about 53 million days later
    assert far["a"].engagement == 0  # by hand: 100 x 0.5^(53e6/30) rounds to 0
    # and a month later, by hand: the demo is worth 50, the open (31 days) 10 x 0.5^(31/30)
    soon = score_both(HALF_LIFE, {"a": {}}, events, NOW + 30 * DAY)
    assert soon["a"].engagement == 50_000 + round(10_000 * 0.5 ** (31 / 30))
