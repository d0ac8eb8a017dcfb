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
