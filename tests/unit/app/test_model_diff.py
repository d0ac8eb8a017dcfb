"""What changed between two model versions, said as a reviewer reads it (by hand)."""

from __future__ import annotations

from leadscore.app.model_diff import diff_models
from tests.conftest import model

BEFORE = """
name: m
groups: [{name: email, cap: 30}]
engagement:
  - {name: opens, event: Email Opened, points: 2, group: email}
  - {name: jobs page, type: page, points: -5}
tiers: [{name: hot, min: 50}, {name: cold}]
stages:
  - name: Lead
  - name: MQL
    when: {all: [{type: score, gt: 40}, {not: {type: days_since_activity, gt: 30}}]}
"""

AFTER = """
name: m
groups: [{name: email, cap: 30, daily_cap: 6}]
engagement:
  - {name: opens, event: Email Opened, points: 2, group: email, repeat_factor: 0.5}
  - {name: chat, event: Chat Started, points: 4}
tiers: [{name: hot, min: 50}, {name: cold}]
engagement_cap: 80
stages:
  - name: Lead
  - name: MQL
    when: {all: [{type: score, gt: 40}, {not: {type: days_since_activity, gt: 14}}]}
"""


def test_every_difference_is_one_line() -> None:
    lines = [change.line() for change in diff_models(model(BEFORE), model(AFTER))]
    assert lines == [
        "~ group 'email': daily cap none -> 6",
        "~ engagement rule 'opens': repeat factor none -> 0.5",
        "+ engagement rule 'chat': event Chat Started, points 4",
        "- engagement rule 'jobs page': type page, points -5",
        "~ engagement cap: none -> 80",
        "- stage 'MQL' entry conditions: last activity at most 30 days ago",
        "+ stage 'MQL' entry conditions: last activity at most 14 days ago",
    ]


def test_the_same_model_has_no_changes() -> None:
    assert diff_models(model(BEFORE), model(BEFORE)) == []
