"""A lead over time, for its page: its score at the end of recent weeks (drawn here as a
chart) and its events, newest first, each with the rules it counts for (the timeline).

The scores are the incremental engine's, replayed once from the lead's stored events with,
at each point, the attributes and the recorded stage and recycle that were in effect then:
the same result ``leadscore score --as-of`` gives for that instant. A model reading account
facts sees the lead's colleagues as they are at ``as_of`` (their past is not replayed)."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from typing import Any

from leadscore._types import MILLI, Event, format_as_of
from leadscore.app.charts import lines
from leadscore.app.explain import colleague_states
from leadscore.engines.incremental import IncrementalScorer, applies
from leadscore.engines.plan import Plan, compile_plan
from leadscore.engines.results import LeadScore
from leadscore.engines.semantics import DAY_US
from leadscore.errors import NotFoundError
from leadscore.spec.accounts import account_of
from leadscore.spec.model import ScoringModel
from leadscore.store.sql import EARLIEST
from leadscore.store.store import StageTransition, Store

#: The chart's points: the end of every 7th UTC day back from now (weekly), 13 of them (a
#: quarter). Each point replays the lead and, for account facts, its colleagues: a busy lead
#: of a big account costs a few milliseconds a point. How many events the timeline lists.
CHART_STEPS, STEP_DAYS = 13, 7
TIMELINE_EVENTS = 100


@dataclass(frozen=True, slots=True)
class ScoredDay:
    """The lead's result at the end of one UTC day (``at``), None before the lead existed or
    while the model did not apply to it."""

    at: int
    result: LeadScore | None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event of the lead and the engagement rules whose filter it matches."""

    event: Event
    rules: tuple[str, ...]


def score_history(
    store: Store,
    scoring_model: ScoringModel,
    lead_id: str,
    as_of: int,
    events: list[Event],
    steps: int = CHART_STEPS,
    step_days: int = STEP_DAYS,
) -> list[ScoredDay]:
    """The lead's result at ``as_of`` and at the end of every ``step_days``-th UTC day before
    it, ``steps`` points at most, none before the lead is first known of; ``events`` are the
    lead's (``Store.lead_events``), read once by the caller for the timeline too."""
    plan = compile_plan(scoring_model)
    versions = store.lead_history(lead_id)
    if not versions:
        raise NotFoundError(f"lead {lead_id!r} is not in the database")
    transitions = store.transitions(lead_id, plan.model)
    scorer = IncrementalScorer(plan)
    state = scorer.new_state(lead_id, versions[0][1])
    for event in events:
        scorer.add_one(state, event)
    colleagues = colleague_states(store, scorer, lead_id, as_of) if plan.uses_accounts else []
    starts = [start for start, _ in versions]
    shown: dict[str, Any] | None = versions[0][1]
    found: list[ScoredDay] = []
    first = _first_known(starts[0], events, as_of)
    for at in _step_ends(first, as_of, steps, step_days):
        index = bisect.bisect_right(starts, at) - 1
        attributes = versions[index][1] if index >= 0 else None
        if attributes is None or not applies(plan.applies_to, attributes):
            found.append(ScoredDay(at, None))
            continue
        if attributes is not shown:
            scorer.set_attributes(state, attributes)
            shown = attributes
        scorer.set_lifecycle(state, *_lifecycle_at(transitions, at))
        account = None
        if plan.uses_accounts:
            account = scorer.account_facts(account_of(attributes), [state, *colleagues], at)
        found.append(ScoredDay(at, scorer.score_one(state, at, account)))
    return found


def timeline(
    scoring_model: ScoringModel, events: list[Event], limit: int = TIMELINE_EVENTS
) -> list[TimelineEvent]:
    """The latest ``limit`` of a lead's events (oldest first, as ``Store.lead_events`` gives
    them), newest first, each with the names of the engagement rules whose filter it
    matches."""
    plan = compile_plan(scoring_model)
    return [TimelineEvent(e, _rules_of(plan, e)) for e in reversed(events[-limit:])]


def lead_over_time(
    store: Store, scoring_model: ScoringModel, lead_id: str, at: int
) -> tuple[LeadScore, list[ScoredDay], list[Event]]:
    """What a lead's page shows of it, from one read of its events and one replay: its
    explained result at ``at`` (the last point, the same ``explain_lead`` gives), its weekly
    points and its events. NotFoundError when there is no such lead or the model does not
    apply to it now."""
    events = list(store.lead_events(lead_id))
    points = score_history(store, scoring_model, lead_id, at, events)
    now = points[-1].result
    if now is None:
        raise NotFoundError(f"model {scoring_model.name!r} does not apply to lead {lead_id!r}")
    return now, points, events


def score_chart(scoring_model: ScoringModel, points: list[ScoredDay], events: list[Event]) -> str:
    """The lead's score at the end of each week of the last quarter, and now; a triangle
    marks each week with events (which ones, in its tooltip)."""
    labels = [format_as_of(point.at)[:10] for point in points]
    scores = [None if p.result is None else p.result.score / MILLI for p in points]
    ends = [point.at for point in points]
    happened: dict[int, list[str]] = {}
    for event in events:  # the point whose week holds the event
        index = bisect.bisect_left(ends, event.timestamp)
        if index < len(ends) and event.timestamp > ends[index] - STEP_DAYS * DAY_US:
            happened.setdefault(index, []).append(event_label(event))
    marks = [
        (i, f"week to {labels[i]}: " + ", ".join(_counted(names)))
        for i, names in sorted(happened.items())
    ]
    return lines(
        "score-over-time",
        f"Score under {scoring_model.name} at the end of each week and now; triangles mark "
        "the weeks with events",
        labels,
        {"Score": scores},
        y_title="Score (points)",
        x_title="End of week (UTC)",
        marks=marks,
    )


def _counted(names: list[str]) -> list[str]:
    """Names with how many times each came: ``Email Opened x3``."""
    return [name if n == 1 else f"{name} x{n}" for name, n in Counter(names).items()]


def event_label(event: Event) -> str:
    """An event in a few words: its name, or the page's path or URL."""
    if event.event:
        return event.event
    where = event.properties.get("path") or event.properties.get("url") or ""
    return f"{event.type} {where}".strip()


def timeline_rows(scoring_model: ScoringModel, events: list[Event]) -> list[dict[str, str]]:
    """The timeline as a page's table shows it: when, what, which rules it counts for."""
    return [
        {
            "at": format_as_of(item.event.timestamp),
            "what": event_label(item.event),
            "rules": ", ".join(item.rules),
        }
        for item in timeline(scoring_model, events)
    ]


def _rules_of(plan: Plan, event: Event) -> tuple[str, ...]:
    matched = {
        index
        for index, matcher in enumerate(plan.matchers)
        if matcher.matches(event.type, event.event, event.properties)
    }
    return tuple(rule.name for rule in plan.rules if rule.matcher in matched)


def _first_known(first_version: int, events: list[Event], as_of: int) -> int:
    """When the lead is first known of: its first event, or its first attributes when they
    carry a date (a first version counts from the start of time, so it says nothing)."""
    instants = [as_of] + [e.timestamp for e in events[:1]]
    if first_version > EARLIEST:
        instants.append(first_version)
    return min(instants)


def _step_ends(first: int, as_of: int, steps: int, step_days: int) -> list[int]:
    """The last microsecond of every ``step_days``-th UTC day before ``as_of``'s, oldest
    first, from the first at or after ``first``'s day, then ``as_of`` itself: ``steps`` at
    most."""
    last_day, first_day = as_of // DAY_US, first // DAY_US
    days = [last_day - k * step_days for k in range(steps - 1, 0, -1)]
    return [(day + 1) * DAY_US - 1 for day in days if day >= first_day] + [as_of]


def _lifecycle_at(transitions: list[StageTransition], at: int) -> tuple[str | None, int | None]:
    """The recorded stage and last recycle instant at ``at`` (``Store.lifecycle``'s rule:
    the last change at or before it), from the lead's changes oldest first."""
    stage, recycled = None, None
    for change in transitions:
        if change.at > at:
            break
        stage = change.to_stage
        if change.kind == "recycle":
            recycled = change.at
    return stage, recycled
