"""Parts made lead by lead read fields as ``field_value`` does (a literal dotted key first,
else the path) and judge each distinct event once; a hand case with the points by hand."""

from __future__ import annotations

import json

from leadscore import compile_plan, parse_model
from leadscore.engines.lead_parts import PartMaker, assemble
from leadscore.engines.registry import get_preparing_engine

MODEL = """
name: m
fit:
  - {name: big, points: 5, when: [{type: range, field: company.size, gte: 100}]}
  - {name: dotted key, points: 7, when: [{type: equals, field: plan.tier, value: gold}]}
engagement:
  - name: from ads
    event: Signed Up
    points: 3
    where: [{type: equals, field: utm.source, value: ads}]
"""
DAY = 86_400_000_000


def test_dotted_fields_are_read_as_the_spec_reads_them() -> None:
    plan = compile_plan(parse_model(MODEL, "m.yaml"))
    maker = PartMaker(plan)
    nested = {"utm": {"source": "ads"}}
    parts = {
        # a path: company -> size; the literal key "plan.tier" wins over the path
        "a": maker.part(
            json.dumps({"company": {"size": 250}, "plan.tier": "gold", "plan": {"tier": "x"}}),
            None,
            [
                ("track", "Signed Up", DAY, json.dumps(nested), "a1"),
                ("track", "Signed Up", 2 * DAY, json.dumps(nested), "a2"),  # same kind again
                ("track", "Signed Up", 3 * DAY, json.dumps({"utm.source": "mail"}), "a3"),
            ],
        ),
        # only the path exists: "plan.tier" reads plan -> tier
        "b": maker.part(json.dumps({"company": {"size": 10}, "plan": {"tier": "gold"}}), None, []),
    }
    scored = get_preparing_engine().score(assemble(plan, parts), 10 * DAY).to_pylist()
    by_lead = {row["lead_id"]: (row["fit"], row["engagement"]) for row in scored}
    assert by_lead == {"a": (12_000, 6_000), "b": (7_000, 0)}


BOT_MODEL = """
name: bots
bot_filter:
  events: [Email Link Clicked]
  user_agent: true
  same_second: 2
  after_delivery_seconds: 10
  delivery_event: Email Delivered
  key: email_id
engagement:
  - {name: click, event: Email Link Clicked, points: 3}
  - {name: delivered, event: Email Delivered, points: 0}
"""
SECOND = 1_000_000


def click(at: float, message_id: str, **properties: str) -> tuple[str, str, int, str, str]:
    return ("track", "Email Link Clicked", int(at * SECOND), json.dumps(properties), message_id)


def delivery(at: float, message_id: str, email_id: str) -> tuple[str, str, int, str, str]:
    properties = json.dumps({"email_id": email_id})
    return ("track", "Email Delivered", int(at * SECOND), properties, message_id)


def test_a_part_is_extended_when_the_bot_filter_removes_only_new_events() -> None:
    """Kept clicks at 100 s and 200 s, and a scan at 15 s (5 s after its email's delivery,
    long before the new events); a scanner's new click (its user agent), and a new click
    5 s after a delivery of the same email, are removed, and the earlier events stay as
    they were: the part is extended, and equals the part made from all the events."""
    maker = PartMaker(compile_plan(parse_model(BOT_MODEL, "bots.yaml")))
    earlier = [
        delivery(10, "d0", "e0"),
        click(15, "early scan", email_id="e0"),
        click(100, "c1"),
        delivery(150, "d1", "e1"),
        click(200, "c2"),
    ]
    new = [
        click(300, "bot", user_agent="python-requests/2.31"),
        delivery(400, "d2", "e2"),
        click(405, "scan", email_id="e2"),
        click(500, "c3", email_id="e1"),  # 350 s after e1's delivery: a person
    ]
    part = maker.part("{}", None, earlier)
    extended = maker.extended(part, new, earlier + new)
    assert extended is not None
    assert extended.removed == {"early scan", "bot", "scan"}
    assert [ts // SECOND for ts in extended.ts] == [10, 100, 150, 200, 400, 500]
    whole = maker.part("{}", None, earlier + new)
    assert whole.removed == extended.removed
    assert whole.ts.tolist() == extended.ts.tolist()
    assert whole.flags.tolist() == extended.flags.tolist()


def test_a_part_is_made_again_when_new_events_change_an_earlier_verdict() -> None:
    """A new click in the same second as a kept one makes both a burst (2 in a second), and
    a delivery that arrives after the click it precedes makes that click a scan: the
    earlier click is removed now, so extending the part would be wrong."""
    maker = PartMaker(compile_plan(parse_model(BOT_MODEL, "bots.yaml")))
    earlier = [click(100.2, "c1"), click(205, "c2", email_id="e1")]
    part = maker.part("{}", None, earlier)
    assert part.removed == set() and len(part.ts) == 2
    burst = [click(100.7, "c3")]
    assert maker.extended(part, burst, earlier + burst) is None
    assert maker.part("{}", None, earlier + burst).removed == {"c1", "c3"}
    late = [delivery(200, "d1", "e1")]
    assert maker.extended(part, late, earlier + late) is None
    assert maker.part("{}", None, earlier + late).removed == {"c2"}


def test_an_earlier_verdict_read_from_outside_the_new_events_reach_is_kept() -> None:
    """A scan at 993 s (8 s after its email's delivery at 985 s) is near a new click at
    1,000 s, but its delivery is not: judged with the near events alone it would look like
    a person, yet no new event can change it, so it stays removed."""
    maker = PartMaker(compile_plan(parse_model(BOT_MODEL, "bots.yaml")))
    earlier = [delivery(985, "d9", "e9"), click(993, "scan", email_id="e9")]
    new = [click(1000, "c1")]
    extended = maker.extended(maker.part("{}", None, earlier), new, earlier + new)
    assert extended is not None
    assert extended.removed == {"scan"}
    assert [ts // SECOND for ts in extended.ts] == [985, 1000]
