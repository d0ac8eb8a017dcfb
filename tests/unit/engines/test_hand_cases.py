"""The brief's numbers, computed by hand, through both engines (which must also agree)."""

from __future__ import annotations

from leadscore.spec.model import ScoringModel
from leadscore.testing.strategies import DAY, NOW
from tests.conftest import model, page, score_both, track

BRIEF_DECAY = """
decay:
  type: steps
  steps: [{max_age_days: 30, factor: 1.0}, {max_age_days: 180, factor: 0.75}]
  otherwise: 0.5
"""


def test_webinar_200_days_old_counts_half(brief: ScoringModel) -> None:
    # PRODUCT.md: webinar +10; 200 days old -> older than six months -> factor 0.5 -> 5 points.
    leads = {"L": {}}
    result = score_both(brief, leads, [track("L", "Webinar Attended", NOW - 200 * DAY, 1)], NOW)
    assert result["L"].engagement == 5_000


def test_decay_boundary_30_and_31_days(brief: ScoringModel) -> None:
    # Email open +2: 30 days old -> full 2; 31 days old -> 0.75 -> 1.5.
    events = [
        track("A", "Email Opened", NOW - 30 * DAY, 1),
        track("B", "Email Opened", NOW - 31 * DAY, 1),
    ]
    result = score_both(brief, {"A": {}, "B": {}}, events, NOW)
    assert result["A"].engagement == 2_000
    assert result["B"].engagement == 1_500


def test_group_cap_limits_email_and_is_explained(brief: ScoringModel) -> None:
    # 20 opens today at +2 = 40, email group capped at 30.
    events = [track("L", "Email Opened", NOW - i * 1_000_000, i) for i in range(20)]
    result = score_both(brief, {"L": {}}, events, NOW)["L"]
    assert result.engagement == 30_000
    caps = [c for c in result.contributions if c.kind == "group_cap"]
    assert [(c.name, c.points) for c in caps] == [("email", -10_000)]


def test_daily_cap_on_page_views(brief: ScoringModel) -> None:
    # 15 page views on one day at +1, at most 10 a day; 3 more the day before -> 13.
    events = [page("L", "/blog", NOW - i * 60_000_000, i) for i in range(15)]
    events += [page("L", "/blog", NOW - DAY - i * 60_000_000, 100 + i) for i in range(3)]
    assert score_both(brief, {"L": {}}, events, NOW)["L"].engagement == 13_000


def test_rule_cap_and_once(brief: ScoringModel) -> None:
    # Pricing: 6 visits today -> page view 6 + pricing 30 capped at 25 = 31.
    events = [page("L", "/pricing/enterprise", NOW - i * 1_000_000, i) for i in range(6)]
    # Trial requested twice (once: only the most recent counts): +25 once.
    events += [
        track("L", "Trial Requested", NOW - 40 * DAY, 10),
        track("L", "Trial Requested", NOW - 2 * DAY, 11),
    ]
    result = score_both(brief, {"L": {}}, events, NOW)["L"]
    assert result.engagement == 31_000 + 25_000
    trial = next(c for c in result.contributions if c.name == "trial request")
    assert (trial.matches, trial.filtered, trial.points) == (1, 1, 25_000)


def test_negative_points_and_clip_at_zero(brief: ScoringModel) -> None:
    # Student (-20) with a gmail address (-10) and gibberish name (-25): fit -55, clipped to 0.
    leads = {"L": {"job_title": "Student", "email": "x@gmail.com", "last_name": "asdfgh"}}
    result = score_both(brief, leads, [track("L", "Unsubscribed", NOW - DAY, 1)], NOW)["L"]
    assert result.fit == -55_000
    assert result.engagement == -10_000
    assert result.score == 0
    assert result.tier == "cold"
    assert result.grade == "D"
    assert [c.points for c in result.contributions if c.kind == "clip"] == [65_000]


def test_near_100_lead_from_the_brief(brief: ScoringModel) -> None:
    # PRODUCT.md: top position, 100+ employees, pricing page 5+ times, trial requested.
    leads = {"L": {"job_title": "CEO", "company_size": "250", "email": "ceo@acme.example"}}
    events = [page("L", "/pricing", NOW - i * DAY, i) for i in range(5)]
    events.append(track("L", "Trial Requested", NOW - DAY, 99))
    result = score_both(brief, leads, events, NOW)["L"]
    # fit 20 + 15 = 35; engagement 5 views + pricing 25 + trial 25 = 55 -> 90.
    assert (result.fit, result.engagement, result.score) == (35_000, 55_000, 90_000)
    assert (result.tier, result.grade) == ("hot", "A")


def test_events_after_as_of_are_ignored(brief: ScoringModel) -> None:
    events = [track("L", "Form Submitted", NOW + 1, 1), track("L", "Form Submitted", NOW, 2)]
    assert score_both(brief, {"L": {}}, events, NOW)["L"].engagement == 5_000


def test_window_excludes_older_events() -> None:
    m = model("name: w\nengagement:\n  - {name: v, type: page, points: 2, within_days: 7}\n")
    events = [page("L", "/", NOW - 7 * DAY, 1), page("L", "/", NOW - 8 * DAY, 2)]
    result = score_both(m, {"L": {}}, events, NOW)["L"]
    assert result.engagement == 2_000
    assert result.contributions[0].filtered == 1


MQL = """
name: m
stages:
  - name: Lead
  - name: MQL
    when:
      all:
        - {type: attribute, where: {type: range, field: company_size, gt: 10}}
        - {type: events, event: Content Downloaded, where: [{type: equals, field: premium,
           value: true}], gte: 2}
        - not: {type: days_since_activity, gt: 30}
        - not: {type: days_since_event, event: Email Opened, gt: 60}
  - name: SQL
    when:
      all:
        - {type: stage_reached, stage: MQL}
        - {type: score, gt: 20}
"""


def _mql_events(last_activity_days: int, last_open_days: int) -> list:
    return [
        track("L", "Content Downloaded", NOW - 40 * DAY, 1, premium=True),
        track("L", "Content Downloaded", NOW - 35 * DAY, 2, premium="true"),
        track("L", "Email Opened", NOW - last_open_days * DAY, 3),
        page("L", "/", NOW - last_activity_days * DAY, 4),
    ]


def test_mql_requires_recent_activity() -> None:
    m = model(MQL)
    leads = {"L": {"company_size": 11}}
    # Last activity exactly 30 days ago: not "more than a month" -> MQL.
    assert score_both(m, leads, _mql_events(30, 30), NOW)["L"].stage == "MQL"
    # 31 days: inactive for more than a month -> stays Lead.
    assert score_both(m, leads, _mql_events(31, 31), NOW)["L"].stage == "Lead"


def test_mql_requires_an_email_open_within_two_months() -> None:
    m = model(MQL)
    leads = {"L": {"company_size": 50}}
    events = _mql_events(1, 61)
    result = score_both(m, leads, events, NOW)["L"]
    assert result.stage == "Lead"
    failed = [c.condition for c in result.stages[1].checks if not c.holds]
    assert failed == ["not (days since Email Opened > 60)"]


def test_mql_needs_company_over_10_and_two_premium_downloads() -> None:
    m = model(MQL)
    events = _mql_events(1, 1)
    result = score_both(
        m,
        {"S": {"company_size": 10}, "L": {"company_size": "11"}},
        [*events, track("S", "Email Opened", NOW, 9)],
        NOW,
    )
    assert result["L"].stage == "MQL"
    assert result["S"].stage == "Lead"
    one_download = score_both(m, {"L": {"company_size": 50}}, events[1:], NOW)
    assert one_download["L"].stage == "Lead"


def test_sql_builds_on_mql_and_score() -> None:
    text = MQL + "engagement:\n  - {name: dl, event: Content Downloaded, points: 15}\n"
    result = score_both(model(text), {"L": {"company_size": 50}}, _mql_events(1, 1), NOW)["L"]
    # two downloads 35-40 days old at +15, no decay in this model -> 30 > 20 -> SQL.
    assert result.score == 30_000
    assert result.stage == "SQL"


def test_applies_to_leaves_other_leads_out() -> None:
    m = model("""
name: dk
applies_to: [{type: equals, field: country, value: DK}]
fit: [{name: any, points: 1, when: [{type: present, field: country}]}]
""")
    result = score_both(m, {"A": {"country": "dk"}, "B": {"country": "SE"}}, [], NOW)
    assert set(result) == {"A"}


BOTS = """
name: bots
bot_filter: {events: [Email Link Clicked], same_second: 2, after_delivery_seconds: 10}
engagement:
  - {name: click, event: Email Link Clicked, points: 3}
  - {name: delivered, event: Email Delivered, points: 0}
"""


def test_scanner_clicks_in_one_second_score_nothing() -> None:
    events = [
        track("L", "Email Link Clicked", NOW - DAY + 100, 1),
        track("L", "Email Link Clicked", NOW - DAY + 900_000, 2),  # same second
        track("L", "Email Link Clicked", NOW - DAY + 5_000_000, 3),
    ]  # a person, later
    result = score_both(model(BOTS), {"L": {}}, events, NOW)["L"]
    click = next(c for c in result.contributions if c.name == "click")
    assert (click.points, click.matches, click.bot_filtered) == (3_000, 1, 2)


def test_clicks_right_after_delivery_are_a_scanner() -> None:
    delivered = NOW - 2 * DAY
    events = [
        track("L", "Email Delivered", delivered, 1, email_id="m-1"),
        track("L", "Email Link Clicked", delivered + 10_000_000, 2, email_id="m-1"),
        track("L", "Email Link Clicked", delivered + 10_000_001 + DAY, 3, email_id="m-1"),
        track("L", "Email Link Clicked", delivered + 4_000_000, 4, email_id="other"),
    ]
    result = score_both(model(BOTS), {"L": {}}, events, NOW)["L"]
    # 10 s after delivery: filtered (inclusive); a day later and another message: counted.
    assert result.engagement == 6_000


def test_bot_user_agents_and_late_arrivals() -> None:
    events = [
        track(
            "L",
            "Email Link Clicked",
            NOW - 60_000_000,
            1,
            user_agent="Mozilla/5.0 (compatible; Mimecast URL protect)",
        ),
        track(
            "L",
            "Email Link Clicked",
            NOW - 30_000_000,
            2,
            user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/120",
        ),
    ]
    assert score_both(model(BOTS), {"L": {}}, events, NOW)["L"].engagement == 3_000
    # The second click of a same-second pair arrives last: the first is taken back.
    pair = [
        track("L", "Email Link Clicked", NOW - 100, 1),
        track("L", "Email Link Clicked", NOW - 50, 2),
    ]
    assert score_both(model(BOTS), {"L": {}}, pair[:1], NOW)["L"].engagement == 3_000
    assert score_both(model(BOTS), {"L": {}}, pair, NOW)["L"].engagement == 0
