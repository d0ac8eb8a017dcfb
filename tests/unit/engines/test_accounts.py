"""Accounts by hand: leads grouped by company, account facts in rules, through both engines."""

from __future__ import annotations

from leadscore import Event
from leadscore.spec.accounts import account_of
from leadscore.spec.model import ScoringModel
from leadscore.testing.strategies import DAY, NOW
from tests.conftest import model, score_both, track


def _webinars(lead_id: str, number: int) -> list[Event]:
    # Registered and attended yesterday: 10 + 10 = 20 engagement, warm (>= 19).
    return [
        track(lead_id, "Webinar Registered", NOW - DAY, number),
        track(lead_id, "Webinar Attended", NOW - DAY + 1, number + 1),
    ]


def test_accounts_group_by_id_then_company_domain_never_free_mail() -> None:
    assert account_of({"account_id": "A-1", "company_id": 42}) == "A-1"
    assert account_of({"company_id": 42.0, "email": "x@acme.example"}) == "42"
    assert account_of({"company_id": " ", "email": "X@Acme.Example."}) == "acme.example"
    assert account_of({"email": "x@gmail.com"}) is None
    assert account_of({"email": "x@mailinator.com"}) is None  # disposable
    assert account_of({"email": "not an address"}) is None


def test_three_engaged_colleagues_earn_the_buying_team_bonus(brief: ScoringModel) -> None:
    # brief.yaml: "buying team engaged" +10 when account.engaged_leads >= 3 (engaged: 19+).
    leads = {name: {"email": f"{name}@acme.example"} for name in ("a", "b", "c")}
    leads["d"] = {"email": "d@gmail.com"}  # free mail: an account of its own
    events = [e for i, name in enumerate(leads) for e in _webinars(name, 10 * i)]
    result = score_both(brief, leads, events, NOW)
    for name in ("a", "b", "c"):
        assert (result[name].fit, result[name].engagement) == (10_000, 20_000), name
        assert result[name].score == 30_000
    assert result["d"].fit == -10_000  # personal email domain, no team bonus


def test_an_engaged_colleague_needs_19_points(brief: ScoringModel) -> None:
    # c has webinar 10 + form 5 + open 2 + social 1 = 18 < 19: only two engaged, no bonus.
    leads = {name: {"email": f"{name}@acme.example"} for name in ("a", "b", "c")}
    events = [*_webinars("a", 0), *_webinars("b", 10)]
    events += [
        track("c", "Webinar Attended", NOW - DAY, 20),
        track("c", "Form Submitted", NOW - DAY, 21),
        track("c", "Email Opened", NOW - 2 * DAY, 22),
        track("c", "Social Interaction", NOW - DAY, 23),
    ]
    result = score_both(brief, leads, events, NOW)
    assert result["c"].engagement == 18_000
    assert [result[n].fit for n in ("a", "b", "c")] == [0, 0, 0]


def test_newsletter_readers_at_one_company(brief: ScoringModel) -> None:
    # brief.yaml: +5 when 3+ leads of the account opened a newsletter; a promotional open
    # does not count. company_id 42 groups the three whatever their email.
    leads = {
        "a": {"company_id": 42, "email": "a@gmail.com"},
        "b": {"company_id": "42"},
        "c": {"company_id": 42, "email": "c@acme.example"},
    }
    newsletter = {"email_type": "newsletter"}
    events = [
        track("a", "Email Opened", NOW - 3 * DAY, 1, **newsletter),
        track("b", "Email Opened", NOW - 4 * DAY, 2, **newsletter),
        track("c", "Email Opened", NOW - 5 * DAY, 3, email_type="promotional"),
    ]
    result = score_both(brief, leads, events, NOW)
    assert [result[n].fit for n in ("a", "b", "c")] == [-10_000, 0, 0]  # a: free mail -10
    events.append(track("c", "Email Opened", NOW - 6 * DAY, 4, **newsletter))
    result = score_both(brief, leads, events, NOW)
    assert [result[n].fit for n in ("a", "b", "c")] == [-5_000, 5_000, 5_000]


ACCOUNT_MODEL = """
name: m
applies_to: [{type: in, field: region, values: [emea]}]
engagement: [{name: open, event: Email Opened, points: 2.5}]
fit:
  - {name: colleagues, points: 1, when: [{type: range, field: account.leads, gte: 2}]}
  - {name: busy account, points: 3, when: [{type: range, field: account.engagement, gte: 7.5}]}
stages:
  - {name: Lead}
  - {name: Team, when: {type: attribute, where: {type: equals, field: account.id, value: c1}}}
"""


def test_account_facts_count_only_leads_the_model_applies_to() -> None:
    # x and y (emea) are members of c1; z is in c1 but outside the model: its 4 opens (10
    # points) do not count. x: 1 open, y: 2 opens -> account engagement 2.5 + 5 = 7.5.
    leads = {
        "x": {"company_id": "c1", "region": "emea"},
        "y": {"company_id": "c1", "region": "emea"},
        "z": {"company_id": "c1", "region": "apac"},
    }
    events = [track("x", "Email Opened", NOW - DAY, 1)]
    events += [track("y", "Email Opened", NOW - DAY - i, 10 + i) for i in range(2)]
    events += [track("z", "Email Opened", NOW - DAY - i, 20 + i) for i in range(4)]
    result = score_both(model(ACCOUNT_MODEL), leads, events, NOW)
    assert set(result) == {"x", "y"}
    assert (result["x"].fit, result["y"].fit) == (4_000, 4_000)
    assert (result["x"].stage, result["y"].stage) == ("Team", "Team")
    team = next(check for check in result["x"].stages if check.stage == "Team")
    assert [(c.condition, c.value) for c in team.checks] == [
        ("account.id equals value='c1'", "'c1'")
    ]
