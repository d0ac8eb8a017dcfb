"""Hypothesis strategies for models, leads, event streams and recorded lifecycles.

The same strategies drive leadscore's own engine property tests and ``check_engine``, so an
engine written elsewhere (Spark) is tried on exactly the cases the embedded ones are. Every
case is small (a few leads, tens of events) and dense in edges: events at the same second,
right after a delivery, at a recycle instant, a microsecond either side of it, on the
``as_of`` day and a few days beyond it.

Examples:
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, database=None)
    ... @given(scoring_model=models())
    ... def named(scoring_model): assert scoring_model.name == "random"
    >>> named()
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from leadscore._types import Event
from leadscore.spec.model import ScoringModel

DAY = 86_400_000_000
#: The cases' "now": 2026-03-03 12:00:00 UTC; events fall around it and ``as_of`` before it.
NOW = int(datetime(2026, 3, 3, 12, tzinfo=UTC).timestamp()) * 1_000_000
#: Recorded (stage, last recycle instant) per lead.
Lifecycle = dict[str, tuple[str | None, int | None]]
Leads = dict[str, dict[str, object]]
Case = tuple[Leads, list[Event], int]

EVENTS = [
    "Email Opened",
    "Content Downloaded",
    "Trial Requested",
    "Unsubscribed",
    "Email Link Clicked",
    "Email Delivered",
]
PATHS = ["/", "/pricing", "/pricing/team", "/jobs", "/blog/a"]

points = st.integers(min_value=-20_000, max_value=30_000).map(lambda m: m / 1000)
bound = st.sampled_from([None, 1, 2, 5, 12.5])
#: Step schedules whose edges (``EDGE_AGES``) are where a boundary slip shows.
STEP_DECAYS = [
    {
        "type": "steps",
        "steps": [{"max_age_days": 30, "factor": 1.0}, {"max_age_days": 180, "factor": 0.75}],
        "otherwise": 0.5,
    },
    {"type": "steps", "steps": [{"max_age_days": 0, "factor": 1.0}], "otherwise": 0.25},
    {
        "type": "steps",
        "steps": [{"max_age_days": 3, "factor": 0.9}, {"max_age_days": 7, "factor": 0.6}],
        "otherwise": 0.0,
    },
]
decays = st.one_of(
    st.none(),
    st.just({"type": "none"}),
    st.builds(lambda d: {"type": "half_life", "days": d}, st.sampled_from([1, 7, 30.5, 90])),
    st.builds(
        lambda p, r: {"type": "linear", "period_days": p, "rate": r},
        st.sampled_from([1, 7, 30]),
        st.sampled_from([0.1, 0.33, 0.5]),
    ),
    st.sampled_from(STEP_DECAYS),
    st.sampled_from(STEP_DECAYS),
)
predicates_on_props = st.sampled_from(
    [
        [],
        [],
        [],
        [{"type": "prefix", "field": "path", "value": "/pricing"}],
        [{"type": "equals", "field": "premium", "value": True}],
        [{"type": "in", "field": "kind", "values": ["a", "b"]}],
        [{"type": "range", "field": "n", "gte": 2}],
        [{"type": "missing", "field": "kind"}],
    ]
)
account_predicates = [
    {"type": "range", "field": "account.leads", "gte": 2},
    {"type": "range", "field": "account.engaged_leads", "gte": 1},
    {"type": "range", "field": "account.engagement", "gt": 4.5},
    {"type": "range", "field": "account.openers", "gte": 2},
    {"type": "equals", "field": "account.id", "value": "c1"},
    {"type": "present", "field": "account.id"},
]
lead_predicates = st.sampled_from(
    [
        {"type": "range", "field": "size", "gt": 10},
        {"type": "in", "field": "country", "values": ["DK", "SE"]},
        {"type": "email_domain", "field": "email", "lists": ["free_mail"]},
        {"type": "email_domain", "field": "email", "lists": ["disposable"], "negate": True},
        {"type": "gibberish", "field": "name"},
        {"type": "present", "field": "phone"},
        {"type": "regex", "field": "title", "pattern": "^(vp|head)"},
        {"type": "missing", "field": "size", "negate": True},
    ]
)


#: Fit rules and attribute conditions may also read account facts; applies_to may not.
attribute_predicates = st.one_of(lead_predicates, st.sampled_from(account_predicates))


@st.composite
def models(draw: Any) -> ScoringModel:
    groups = [
        {"name": f"g{i}", "cap": draw(bound), "daily_cap": draw(bound), "decay": draw(decays)}
        for i in range(draw(st.integers(0, 2)))
    ]
    groups = [{k: v for k, v in g.items() if v is not None} for g in groups]
    daily_capped = {g["name"] for g in groups if "daily_cap" in g}
    rules = []
    for i in range(draw(st.integers(0, 5))):
        is_page = draw(st.booleans())
        rule: dict[str, Any] = {
            "name": f"r{i}",
            "points": draw(points),
            "where": draw(predicates_on_props),
        }
        if is_page:
            rule["type"] = "page"
        else:
            rule["event"] = draw(st.sampled_from(EVENTS))
        for key in ("daily_cap", "cap"):
            value = draw(bound)
            if value is not None:
                rule[key] = value
        window = draw(st.sampled_from([None, 0, 7, 45]))
        if window is not None:
            rule["within_days"] = window
        repeat = draw(st.sampled_from([None, None, 0.5, 0.3, 0.75, 0.333333]))
        if repeat is not None:
            rule["repeat_factor"] = repeat
        rule["once"] = draw(st.booleans())
        decay = draw(decays)
        if decay is not None:
            rule["decay"] = decay
        if groups and draw(st.booleans()):
            rule["group"] = draw(st.sampled_from([g["name"] for g in groups]))
            if rule["group"] in daily_capped:  # its rules take the group's decay, no cap
                rule.pop("decay", None)
                rule.pop("cap", None)
        rules.append(rule)
    fit = [
        {"name": f"f{i}", "points": draw(points), "when": [draw(attribute_predicates)]}
        for i in range(draw(st.integers(0, 4)))
    ]
    leaf = st.one_of(
        st.builds(
            lambda of, v: {"type": "score", "of": of, "gte": v},
            st.sampled_from(["score", "fit", "engagement"]),
            st.integers(-10, 40),
        ),
        st.builds(lambda p: {"type": "attribute", "where": p}, attribute_predicates),
        st.builds(
            lambda e, w, n: {"type": "events", "event": e, "within_days": w, "gte": n},
            st.sampled_from(EVENTS),
            st.sampled_from([None, 3, 30]),
            st.integers(1, 3),
        ),
        st.builds(lambda n: {"type": "days_since_activity", "gt": n}, st.integers(0, 60)),
        st.builds(
            lambda e, n: {"type": "days_since_event", "event": e, "lte": n},
            st.sampled_from(EVENTS),
            st.integers(0, 60),
        ),
    )
    tree = st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.builds(lambda k: {"all": k}, st.lists(kids, min_size=1, max_size=3)),
            st.builds(lambda k: {"any": k}, st.lists(kids, min_size=1, max_size=3)),
            st.builds(lambda k: {"not": k}, kids),
        ),
        max_leaves=5,
    )
    stages: list[dict[str, Any]] = [{"name": "Lead"}, {"name": "MQL", "when": draw(tree)}]
    stages.append(
        {"name": "SQL", "when": {"all": [{"type": "stage_reached", "stage": "MQL"}, draw(tree)]}}
    )
    for index in (1, 2):
        if draw(st.booleans()):
            to = draw(st.sampled_from([None, *[s["name"] for s in stages[:index]]]))
            stages[index]["withdraw"] = {"when": draw(tree), "to": to}
    spec: dict[str, Any] = {
        "name": "random",
        "fit": fit,
        "groups": groups,
        "engagement": rules,
        "decay": draw(decays),
        "stages": stages,
        "tiers": [{"name": "hot", "min": 20}, {"name": "warm", "min": 5.5}, {"name": "cold"}],
        "grades": [{"name": "A", "min": 10}, {"name": "B", "min": 0}],
        "accounts": {
            "engaged_min": draw(st.sampled_from([0, 2, 5.5])),
            "counts": [
                {"name": "openers", "event": "Email Opened"},
                {"name": "viewers", "type": "page", "where": draw(predicates_on_props)},
            ],
        },
    }
    if draw(st.booleans()):
        spec["recycle"] = {
            "to": draw(st.sampled_from([None, "Lead", "MQL"])),
            "restart_engagement": draw(st.booleans()),
        }
    if draw(st.booleans()):
        spec["clip"] = {"min": 0, "max": 100}
    if draw(st.booleans()):
        spec["engagement_cap"] = draw(st.sampled_from([3, 25.5, 60]))
    if draw(st.booleans()):
        spec["applies_to"] = [draw(lead_predicates)]
    if draw(st.booleans()):
        spec["bot_filter"] = {
            "events": draw(
                st.sampled_from([["Email Link Clicked"], ["Email Link Clicked", "Email Opened"]])
            ),
            "user_agent": draw(st.booleans()),
            "same_second": draw(st.sampled_from([None, 2, 3])),
            "after_delivery_seconds": draw(st.sampled_from([None, 0, 10])),
        }
    return ScoringModel.model_validate({k: v for k, v in spec.items() if v is not None})


lead_attributes = st.fixed_dictionaries(
    {},
    optional={
        "size": st.sampled_from([3, 10, 11, "250", "n/a", None]),
        "country": st.sampled_from(["DK", "se", "US", ""]),
        "email": st.sampled_from(
            ["a@gmail.com", "b@acme.example", "d@acme.example", "bad", "c@mailinator.com"]
        ),
        "company_id": st.sampled_from(["c1", "c1", "c2", 7, ""]),
        "name": st.sampled_from(["Hansen", "asdfgh", "Nguyen", "qwerty"]),
        "phone": st.sampled_from(["", "+45 1234", None]),
        "title": st.sampled_from(["VP Sales", "head of it", "engineer"]),
    },
)

properties = st.fixed_dictionaries(
    {},
    optional={
        "path": st.sampled_from(PATHS),
        "premium": st.sampled_from([True, False, "true", None]),
        "kind": st.sampled_from(["a", "b", "c"]),
        "n": st.sampled_from([1, 2, "3", 2.5]),
        "email_id": st.sampled_from(["e1", "e2", 1]),
        "user_agent": st.sampled_from(["Mozilla/5.0 Safari", "Proofpoint URL Defense", None]),
    },
)


#: Ages (in whole days before ``as_of``) where rules change their answer: decay steps at 30
#: and 180 days, windows of 0, 3, 7, 30 and 45 days, an event on ``as_of``'s own day.
EDGE_AGES = [0, 1, 3, 4, 7, 8, 29, 30, 31, 45, 46, 179, 180, 181]
#: Seconds between events of a burst: the same second, and the bot filter's 0, 2 and 10 s
#: windows exactly and just past them.
BURST_SECONDS = [0, 0, 1, 2, 3, 10, 11]
#: Microseconds from an earlier event: the same instant, the bot filter's 2 and 10 s windows
#: exactly and one microsecond either side.
FOLLOW_GAPS = [0, 1, 1_999_999, 2_000_000, 2_000_001, 10_000_000, 10_000_001, -1]


@st.composite
def cases(
    draw: Any,
    names: list[str] = EVENTS,
    max_events: int = 30,
    max_leads: int = 4,
    follow: int = 1,
) -> Case:
    """Leads, their events (shuffled) and an instant: events spread over a year, in bursts
    of seconds, at the edge ages (``EDGE_AGES``) of the instant (sometimes after it), and
    following earlier ones by the bot filter's windows (``FOLLOW_GAPS``; ``follow`` weighs
    how often)."""
    leads = {f"L{i}": draw(lead_attributes) for i in range(draw(st.integers(1, max_leads)))}
    as_of = NOW - draw(st.integers(0, 40)) * DAY - draw(st.integers(0, DAY - 1))
    as_of_day = as_of // DAY
    events: list[Event] = []
    for n in range(draw(st.integers(0, max_events))):
        lead_id = draw(st.sampled_from(sorted(leads)))
        props = draw(properties)
        how = draw(st.sampled_from(["spread", "burst", "edge", "edge", *["follow"] * follow]))
        if how == "follow" and events:  # right after an earlier event of the same lead,
            # same message key: the bot filter's windows exactly, and a microsecond past them
            earlier = draw(st.sampled_from(events))
            lead_id = earlier.lead_id
            props = {**props, "email_id": earlier.properties.get("email_id", "e1")}
            gap = draw(st.sampled_from(FOLLOW_GAPS))
            ts = earlier.timestamp + gap
        elif how == "burst":
            anchor = NOW - draw(st.sampled_from([0, 3 * DAY + 17, 40 * DAY]))
            offset = draw(st.one_of(st.sampled_from(BURST_SECONDS), st.integers(-3, 15)))
            ts = anchor + offset * 1_000_000 + draw(st.sampled_from([0, 1]))
        elif how == "edge":  # a whole number of days before as_of's day, anywhere in that day
            day = as_of_day - draw(st.sampled_from([*EDGE_AGES, -1]))
            ts = day * DAY + draw(st.sampled_from([0, DAY - 1, as_of % DAY, as_of % DAY + 1]))
        else:
            ts = NOW - draw(st.integers(-2 * DAY, 400 * DAY))
        is_page = draw(st.booleans())
        events.append(
            Event(
                f"m{n}",
                lead_id,
                "page" if is_page else "track",
                None if is_page else draw(st.sampled_from(names)),
                ts,
                props,
            )
        )
    shuffled = draw(st.permutations(events))
    return leads, list(shuffled), as_of


@st.composite
def lifecycles(draw: Any, lead_ids: list[str], events: list[Event]) -> Lifecycle:
    """A recorded stage ('Gone': a stage the model no longer has) and maybe a recycle instant,
    often exactly at an event's timestamp or a second either side (the cut is exclusive)."""
    recorded: Lifecycle = {}
    for lead_id in lead_ids:
        if draw(st.booleans()):
            stage = draw(st.sampled_from([None, "Lead", "MQL", "SQL", "Gone"]))
            own = [e.timestamp + d for e in events if e.lead_id == lead_id for d in (-1, 0, 1)]
            recycled = draw(st.one_of(st.none(), st.sampled_from(own or [NOW - DAY])))
            recorded[lead_id] = (stage, recycled)
    return recorded
