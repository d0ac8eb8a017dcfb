"""A lead's score over time (its page's chart) equals the naive oracle run at the end of each
day with the attributes and the recorded stage and recycle of that day; its timeline lists
its events newest first with the rules each counts for."""

from __future__ import annotations

from leadscore import Store
from leadscore._types import Event
from leadscore.app.explain import explain_lead
from leadscore.app.lead_history import score_history, timeline
from leadscore.spec.model import ScoringModel
from leadscore.store.events import StoredEvent
from leadscore.store.stages import StageTransition
from leadscore.testing import score_naively
from leadscore.testing.strategies import DAY, NOW

EVENTS = [  # (days ago, event name)
    (40, "Webinar Attended"),
    (35, "Content Downloaded"),
    (12, "Webinar Attended"),
    (12, "Webinar Registered"),
    (3, "Trial Requested"),
]


def _history(store: Store) -> list[Event]:
    store.upsert_leads([("a", {"job_title": "Engineer", "company_size": 50}, None)])
    store.upsert_leads([("a", {"job_title": "CEO", "company_size": 50}, NOW - 20 * DAY)])
    events = [
        Event(f"m{n}", "a", "track", name, NOW - ago * DAY + 3600 * 10**6, {})
        for n, (ago, name) in enumerate(EVENTS)
    ]
    store.add_events(
        [StoredEvent(e.message_id, "a", None, "track", e.event, e.timestamp, {}) for e in events]
    )
    store.record_transitions(  # a recycle 15 days ago: earlier engagement no longer counts
        [StageTransition("a", "brief", NOW - 15 * DAY, None, "lead", "recycle", "test")]
    )
    return events


def test_each_day_equals_the_oracle_with_that_days_lead(store: Store, brief: ScoringModel) -> None:
    events = _history(store)
    events_read = list(store.lead_events("a"))
    days = score_history(store, brief, "a", NOW, events_read, steps=45, step_days=1)
    assert len(days) == 41  # from the first event's day (40 days ago) to today
    assert days[-1].at == NOW
    weekly = score_history(store, brief, "a", NOW, events_read)  # the page's: 13 weeks at most
    assert weekly[-1].result == explain_lead(store, brief, "a", NOW)  # the page's explanation
    assert [w.at for w in weekly] == [NOW - k * 7 * DAY + DAY // 2 - 1 for k in (5, 4, 3, 2, 1)] + [
        NOW
    ]
    assert [w.result for w in weekly] == [d.result for d in days if d.at in {w.at for w in weekly}]
    for day in days:
        lead = {"a": store.lead("a", day.at)}
        lifecycle = {"a": store.lifecycle("a", "brief", day.at)}
        (naive,) = score_naively(brief, lead, events, day.at, lifecycle).values()
        assert day.result is not None
        got = (day.result.fit, day.result.engagement, day.result.score, day.result.tier)
        assert got == (naive.fit, naive.engagement, naive.score, naive.tier), day.at
    # the title change 20 days ago shows in fit; the recycle 15 days ago drops engagement
    fits = {day.result.fit for day in days if day.result and day.at < NOW - 20 * DAY}
    assert len(fits) == 1 and days[-1].result and days[-1].result.fit not in fits
    just_before = next(d for d in days if NOW - 16 * DAY <= d.at < NOW - 15 * DAY)
    just_after = next(d for d in days if NOW - 15 * DAY <= d.at < NOW - 14 * DAY)
    assert just_before.result and just_after.result
    assert just_before.result.engagement > 0 and just_after.result.engagement == 0


def test_the_timeline_lists_events_newest_first_with_their_rules(
    store: Store, brief: ScoringModel
) -> None:
    _history(store)
    listed = timeline(brief, list(store.lead_events("a")), limit=3)
    assert [t.event.event for t in listed] == [
        "Trial Requested",
        "Webinar Registered",
        "Webinar Attended",
    ]
    assert "trial request" in listed[0].rules and "webinar attendance" in listed[2].rules
