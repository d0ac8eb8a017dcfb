"""Batch and incremental engines agree on random models, leads, event streams and histories.

For every hypothesis-generated case, ``BatchEngine.score_many`` equals folding
``IncrementalScorer.add_one`` over the events (in any order) and ``score_one``, field by field
(stage transitions included, from a random recorded stage and recycle), and each lead's
contributions add up to its score exactly.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore import Event, ScoringModel
from leadscore.spec.bots import BotFilter
from tests.conftest import DAY, NOW, Lifecycle, score_both

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
decays = st.one_of(
    st.none(),
    st.just({"type": "none"}),
    st.builds(lambda d: {"type": "half_life", "days": d}, st.sampled_from([1, 7, 30.5, 90])),
    st.builds(
        lambda p, r: {"type": "linear", "period_days": p, "rate": r},
        st.sampled_from([1, 7, 30]),
        st.sampled_from([0.1, 0.33, 0.5]),
    ),
    st.just(
        {
            "type": "steps",
            "steps": [{"max_age_days": 30, "factor": 1.0}, {"max_age_days": 180, "factor": 0.75}],
            "otherwise": 0.5,
        }
    ),
)
predicates_on_props = st.sampled_from(
    [
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
        {"name": f"g{i}", "cap": draw(bound), "decay": draw(decays)}
        for i in range(draw(st.integers(0, 2)))
    ]
    groups = [{k: v for k, v in g.items() if v is not None} for g in groups]
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
        rule["once"] = draw(st.booleans())
        decay = draw(decays)
        if decay is not None:
            rule["decay"] = decay
        if groups and draw(st.booleans()):
            rule["group"] = draw(st.sampled_from([g["name"] for g in groups]))
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


@st.composite
def cases(
    draw: Any, names: list[str] = EVENTS, max_events: int = 30, max_leads: int = 4
) -> tuple[dict[str, dict[str, object]], list[Event], int]:
    leads = {f"L{i}": draw(lead_attributes) for i in range(draw(st.integers(1, max_leads)))}
    events = []
    for n in range(draw(st.integers(0, max_events))):
        lead_id = draw(st.sampled_from(sorted(leads)))
        if draw(st.booleans()):
            ts = NOW - draw(st.integers(-2 * DAY, 400 * DAY))
        else:  # bursts around a few instants, so same-second and after-delivery cases occur
            anchor = NOW - draw(st.sampled_from([0, 3 * DAY + 17, 40 * DAY]))
            ts = anchor + draw(st.integers(-3, 15)) * 1_000_000 + draw(st.sampled_from([0, 1]))
        is_page = draw(st.booleans())
        events.append(
            Event(
                f"m{n}",
                lead_id,
                "page" if is_page else "track",
                None if is_page else draw(st.sampled_from(names)),
                ts,
                draw(properties),
            )
        )
    shuffled = draw(st.permutations(events))
    as_of = NOW - draw(st.integers(0, 40)) * DAY - draw(st.integers(0, DAY - 1))
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scoring_model=models(), case=cases(), data=st.data())
def test_batch_equals_incremental(
    scoring_model: ScoringModel,
    case: tuple[dict[str, dict[str, object]], list[Event], int],
    data: st.DataObject,
) -> None:
    leads, events, as_of = case
    lifecycle = data.draw(lifecycles(sorted(leads), events))
    score_both(scoring_model, leads, events, as_of, lifecycle)  # agreement and exact sums


EMAIL = ["Email Link Clicked", "Email Opened", "Email Delivered"]
BOT_MODEL = ScoringModel.model_validate(
    {
        "name": "bots",
        "engagement": [
            {"name": n, "event": n, "points": p} for n, p in zip(EMAIL, [3, 2, 0.5], strict=True)
        ]
        + [{"name": "views", "type": "page", "points": 1}],
        "stages": [
            {"name": "Lead"},
            {"name": "Active", "when": {"type": "days_since_activity", "lte": 0}},
        ],
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bot_filter=st.fixed_dictionaries(
        {
            "events": st.sampled_from(
                [["Email Link Clicked"], ["Email Link Clicked", "Email Opened"]]
            ),
            "user_agent": st.booleans(),
            "same_second": st.sampled_from([None, 2, 3]),
            "after_delivery_seconds": st.sampled_from([None, 0, 2, 10]),
        }
    ),
    case=cases(names=EMAIL, max_events=40, max_leads=2),
)
def test_bot_filter_agrees(
    bot_filter: dict[str, Any], case: tuple[dict[str, dict[str, object]], list[Event], int]
) -> None:
    leads, events, as_of = case
    scoring_model = BOT_MODEL.model_copy(update={"bot_filter": BotFilter(**bot_filter)})
    score_both(scoring_model, leads, events, as_of)


RECYCLE_MODEL = ScoringModel.model_validate(
    {
        "name": "recycles",
        "engagement": [
            {"name": n, "event": n, "points": p, **extra}
            for n, p, extra in [
                ("Email Opened", 2, {}),
                ("Content Downloaded", 5, {"daily_cap": 7}),
                ("Trial Requested", 25, {"once": True}),
            ]
        ]
        + [{"name": "views", "type": "page", "points": 1, "within_days": 30}],
        "stages": [
            {"name": "Lead"},
            {
                "name": "MQL",
                "when": {
                    "all": [
                        {"type": "score", "gte": 3},
                        {"type": "events", "gte": 1, "event": "Email Opened"},
                    ]
                },
                "withdraw": {"when": {"type": "days_since_activity", "gt": 2}},
            },
            {"name": "SQL", "when": {"type": "days_since_event", "event_type": "page", "lte": 1}},
        ],
        "recycle": {"to": "Lead"},
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(max_events=25, max_leads=2), data=st.data())
def test_recycle_cut_agrees(
    case: tuple[dict[str, dict[str, object]], list[Event], int], data: st.DataObject
) -> None:
    # Every lead has a recycle, usually at or one microsecond beside one of its own events:
    # events at or before the instant count for nothing, in both engines.
    leads, events, as_of = case
    lifecycle: Lifecycle = {}
    for lead_id in sorted(leads):
        own = [e.timestamp for e in events if e.lead_id == lead_id] or [as_of - DAY]
        at = data.draw(st.sampled_from(own)) + data.draw(st.sampled_from([0, 0, -1, 1]))
        stage = data.draw(st.sampled_from([None, "Lead", "MQL", "SQL"]))
        lifecycle[lead_id] = (stage, at)
    score_both(RECYCLE_MODEL, leads, events, as_of, lifecycle)


def _account_model(applies_to: list[dict[str, Any]], engaged_min: float) -> ScoringModel:
    facts = [
        ("account.leads", {"gte": 2}),
        ("account.engaged_leads", {"gte": 2}),
        ("account.engagement", {"gt": 4.5}),
        ("account.openers", {"gte": 2}),
        ("account.viewers", {"lt": 1}),
    ]
    return ScoringModel.model_validate(
        {
            "name": "accounts",
            "applies_to": applies_to,
            "engagement": [
                {"name": "open", "event": "Email Opened", "points": 2.5},
                {"name": "view", "type": "page", "points": 1, "daily_cap": 2},
                {"name": "bye", "event": "Unsubscribed", "points": -4},
            ],
            "fit": [
                {"name": f"f{i}", "points": i + 1, "when": [{"type": "range", "field": f, **b}]}
                for i, (f, b) in enumerate(facts)
            ]
            + [
                {
                    "name": "known",
                    "points": 10,
                    "when": [{"type": "present", "field": "account.id"}],
                }
            ],
            "accounts": {
                "engaged_min": engaged_min,
                "counts": [
                    {"name": "openers", "event": "Email Opened"},
                    {
                        "name": "viewers",
                        "type": "page",
                        "where": [{"type": "prefix", "field": "path", "value": "/pricing"}],
                    },
                ],
            },
            "stages": [
                {"name": "Lead"},
                {
                    "name": "Team",
                    "when": {
                        "type": "attribute",
                        "where": {"type": "range", "field": "account.engaged_leads", "gte": 3},
                    },
                },
            ],
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    accounts=st.lists(
        st.sampled_from(
            [
                {"company_id": "c1"},
                {"company_id": "c2"},
                {"email": "x@acme.example"},
                {"email": "y@gmail.com"},
                {},
                {"company_id": "c1", "country": "DK"},
            ]
        ),
        min_size=2,
        max_size=6,
    ),
    case=cases(max_events=40, max_leads=1),
    restrict=st.booleans(),
    engaged_min=st.sampled_from([0, 2, 2.5, 5]),
    data=st.data(),
)
def test_account_facts_agree(
    accounts: list[dict[str, object]],
    case: tuple[dict[str, dict[str, object]], list[Event], int],
    restrict: bool,
    engaged_min: float,
    data: st.DataObject,
) -> None:
    # Several leads per account; with ``restrict``, leads in DK are outside the model and so
    # outside every account's counts.
    _, events, as_of = case
    leads = {f"L{i}": attrs for i, attrs in enumerate(accounts)}
    spread = [
        Event(
            e.message_id,
            data.draw(st.sampled_from(sorted(leads))),
            e.type,
            e.event,
            e.timestamp,
            e.properties,
        )
        for e in events
    ]
    applies_to = [{"type": "in", "field": "country", "values": ["DK"], "negate": True}]
    scoring_model = _account_model(applies_to if restrict else [], engaged_min)
    score_both(scoring_model, leads, spread, as_of)
