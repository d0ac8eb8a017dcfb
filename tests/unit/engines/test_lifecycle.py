"""Lifecycle by hand: forward-only stages, withdraw rules and recycles, through both engines.

Each case starts from a recorded stage (and maybe a recycle instant), as ``Store.lifecycle``
gives them; ``score_both`` also asserts the two engines agree.
"""

from __future__ import annotations

from leadscore import Event
from leadscore.spec.model import ScoringModel
from leadscore.testing.strategies import DAY, NOW
from tests.conftest import model, page, score_both, track

MQL_LEAD = {"company_size": 50, "job_title": "Marketing Manager"}


def test_an_mql_whose_conditions_lapse_stays_an_mql(brief: ScoringModel) -> None:
    # Last activity 40 days ago: the brief's MQL needs activity within 30 days, so its entry
    # conditions fail, but stages only move forward: still MQL, no change recorded.
    events = [page("L", "/blog", NOW - 40 * DAY, 1)]
    result = score_both(brief, {"L": MQL_LEAD}, events, NOW, {"L": ("MQL", None)})["L"]
    assert (result.stage, result.previous_stage, result.transition) == ("MQL", "MQL", None)
    mql = next(check for check in result.stages if check.stage == "MQL" and check.kind == "enter")
    assert not mql.holds


def test_an_mql_inactive_for_more_than_90_days_is_withdrawn(brief: ScoringModel) -> None:
    # brief.yaml: MQL withdraw when days_since_activity > 90, back to Lead.
    leads = {"A": MQL_LEAD, "B": MQL_LEAD}
    events = [page("A", "/blog", NOW - 90 * DAY, 1), page("B", "/blog", NOW - 91 * DAY, 1)]
    recorded = {"A": ("MQL", None), "B": ("MQL", None)}
    result = score_both(brief, leads, events, NOW, recorded)
    assert (result["A"].stage, result["A"].transition) == ("MQL", None)  # 90 is not > 90
    assert (result["B"].stage, result["B"].transition) == ("Lead", "withdraw")
    withdraw = next(check for check in result["B"].stages if check.kind == "withdraw")
    assert (withdraw.stage, withdraw.holds) == ("MQL", True)
    assert [(c.condition, c.value) for c in withdraw.checks] == [
        ("days since any activity > 90", "91 days")
    ]


def _sql_ready_events() -> list[Event]:
    # Five pricing visits today and a demo request: web 5 + pricing 25 = 30, demo +15.
    events = [page("L", "/pricing", NOW - i * 60_000_000, i) for i in range(5)]
    return [*events, track("L", "Demo Requested", NOW - 3_600_000_000, 9)]


SQL_LEAD = {
    "job_title": "CEO",  # leadership +20
    "company_size": 250,  # 100+ employees +15
    "industry": "software",  # +5
    "country": "DK",  # +5
    "phone": "+45 1234",  # +5
}


def test_stage_reached_counts_the_recorded_stage(brief: ScoringModel) -> None:
    # Fit 50 + engagement 45 = 95 > 70, pricing viewed, demo requested: SQL's own conditions
    # hold. SQL also needs MQL, whose conditions do not (no premium downloads, 5 pages < 10).
    fresh = score_both(brief, {"L": SQL_LEAD}, _sql_ready_events(), NOW)["L"]
    assert (fresh.fit, fresh.engagement, fresh.score) == (50_000, 45_000, 95_000)
    assert (fresh.stage, fresh.transition) == ("Lead", None)
    # Recorded as MQL earlier: stage_reached MQL holds, so the lead advances to SQL.
    recorded = score_both(brief, {"L": SQL_LEAD}, _sql_ready_events(), NOW, {"L": ("MQL", None)})
    assert (recorded["L"].stage, recorded["L"].transition) == ("SQL", "advance")


def test_nothing_recorded_and_conditions_hold_is_an_advance() -> None:
    m = model(
        """
name: m
engagement: [{name: open, event: Email Opened, points: 2}]
stages: [{name: Lead}, {name: Engaged, when: {type: score, gte: 4}}]
"""
    )
    events = [track("L", "Email Opened", NOW - i * DAY, i) for i in range(2)]
    result = score_both(m, {"L": {}, "Q": {}}, events, NOW)
    assert (result["L"].stage, result["L"].previous_stage, result["L"].transition) == (
        "Engaged",
        None,
        "advance",
    )
    assert (result["Q"].stage, result["Q"].transition) == ("Lead", None)  # nothing to record


WITHDRAW_AND_ADVANCE = """
name: m
engagement: [{name: open, event: Email Opened, points: 2}]
stages:
  - {name: Lead}
  - name: MQL
    when: {type: score, gte: 2}
    withdraw: {when: {type: events, event: Email Opened, gte: 3}}
  - {name: SQL, when: {type: score, gte: 6}}
"""


def test_a_withdrawal_wins_over_an_advance_in_the_same_run() -> None:
    # Three opens: 6 points, SQL's conditions hold, but MQL's withdraw holds too: back to Lead.
    events = [track("L", "Email Opened", NOW - i * DAY, i) for i in range(3)]
    result = score_both(model(WITHDRAW_AND_ADVANCE), {"L": {}}, events, NOW, {"L": ("MQL", None)})
    assert (result["L"].stage, result["L"].transition) == ("Lead", "withdraw")


def test_a_stage_the_model_no_longer_has_counts_as_the_first() -> None:
    events = [track("L", "Email Opened", NOW - DAY, 1)]
    result = score_both(model(WITHDRAW_AND_ADVANCE), {"L": {}}, events, NOW, {"L": ("Old", None)})
    assert (result["L"].stage, result["L"].previous_stage, result["L"].transition) == (
        "MQL",
        "Old",
        "advance",
    )


def _opens_then_webinar() -> list[Event]:
    # Ten opens five days ago (a minute apart: no scanner burst), a webinar yesterday.
    opens = [track("L", "Email Opened", NOW - 5 * DAY + i * 60_000_000, i) for i in range(10)]
    return [*opens, track("L", "Webinar Attended", NOW - DAY, 99)]


def test_a_recycle_restarts_engagement_from_zero(brief: ScoringModel) -> None:
    # Without a recycle: opens 10 x 2 = 20 (email cap 30) + webinar 10 = 30.
    assert score_both(brief, {"L": {}}, _opens_then_webinar(), NOW)["L"].engagement == 30_000
    # Recycled three days ago: only the webinar counts; the opens are kept but not counted.
    recycled = {"L": ("Lead", NOW - 3 * DAY)}
    result = score_both(brief, {"L": {}}, _opens_then_webinar(), NOW, recycled)["L"]
    assert result.engagement == 10_000
    opens = next(c for c in result.contributions if c.name == "email open")
    assert (opens.matches, opens.filtered, opens.points) == (0, 10, 0)


def test_an_event_at_the_recycle_instant_does_not_count(brief: ScoringModel) -> None:
    # Webinar +10 exactly at the recycle instant (excluded) and one microsecond after it.
    at = NOW - 2 * DAY
    events = [track("L", "Webinar Attended", at, 1), track("L", "Webinar Attended", at + 1, 2)]
    result = score_both(brief, {"L": {}}, events, NOW, {"L": ("Lead", at)})["L"]
    assert result.engagement == 10_000


def test_a_recycle_without_restart_keeps_engagement(brief: ScoringModel) -> None:
    kept = ScoringModel.model_validate(
        {**brief.model_dump(by_alias=True), "recycle": {"restart_engagement": False}}
    )
    recycled = {"L": ("Lead", NOW - 3 * DAY)}
    result = score_both(kept, {"L": {}}, _opens_then_webinar(), NOW, recycled)["L"]
    assert result.engagement == 30_000
