"""Keeping a prepared batch up to date: merging the changed leads into an earlier preparation
scores exactly as preparing everything anew (the independent method)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore import Event, compile_plan
from leadscore.engines.prepared import merge
from leadscore.engines.registry import get_preparing_engine
from leadscore.spec.model import ScoringModel
from leadscore.testing import arrow_inputs, lifecycle_table
from leadscore.testing.strategies import cases, lead_attributes, lifecycles, models
from tests.conftest import examples

Case = tuple[dict[str, dict[str, object]], list[Event], int]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scoring_model=models(), case=cases(), data=st.data())
def test_merging_changed_leads_equals_preparing_anew(
    scoring_model: ScoringModel, case: Case, data: st.DataObject
) -> None:
    leads, events, as_of = case
    # what the first preparation saw: some events had not arrived, some attributes were
    # different and some leads did not exist yet
    arrived = data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    earlier_events = [e for e, seen in zip(events, arrived, strict=True) if seen]
    changed = data.draw(st.sets(st.sampled_from(sorted(leads))))
    earlier_leads = {}
    for lead_id, attributes in leads.items():
        if lead_id not in changed:
            earlier_leads[lead_id] = attributes
        elif data.draw(st.booleans()):  # changed later; else it is new
            earlier_leads[lead_id] = data.draw(lead_attributes)
    plan = compile_plan(scoring_model)
    engine = get_preparing_engine()
    base = engine.prepare(plan, *arrow_inputs(earlier_leads, earlier_events))

    dirty = changed | {e.lead_id for e, seen in zip(events, arrived, strict=True) if not seen}
    update = engine.prepare(
        plan,
        *arrow_inputs(
            {lead_id: a for lead_id, a in leads.items() if lead_id in dirty},
            [e for e in events if e.lead_id in dirty],
        ),
    )
    lifecycle = lifecycle_table(data.draw(lifecycles(sorted(leads), events)))
    merged = engine.score(merge(base, update), as_of, lifecycle=lifecycle)
    anew = engine.score_many(plan, *arrow_inputs(leads, events), as_of, lifecycle=lifecycle)
    assert merged.to_pylist() == anew.to_pylist()


def test_merge_keeps_leads_in_id_order_and_replaces_whole_leads() -> None:
    """A hand case: L2 is new (sorts between L1 and L3), L3's events are replaced."""
    from leadscore.spec.loader import parse_model

    plan = compile_plan(
        parse_model("name: m\nengagement: [{name: view, type: page, points: 1}]\n", "m.yaml")
    )
    day = 86_400_000_000

    def views(lead_id: str, count: int) -> list[Event]:
        return [
            Event(f"{lead_id}-{n}", lead_id, "page", None, n * day, {"path": "/"})
            for n in range(count)
        ]

    engine = get_preparing_engine()
    base = engine.prepare(
        plan, *arrow_inputs({"L1": {}, "L3": {}}, views("L1", 2) + views("L3", 1))
    )
    update = engine.prepare(
        plan, *arrow_inputs({"L2": {}, "L3": {}}, views("L2", 4) + views("L3", 3))
    )
    merged = merge(base, update)
    assert merged.lead_ids.to_pylist() == ["L1", "L2", "L3"]
    scored: Any = engine.score(merged, 10 * day).to_pylist()
    assert [(row["lead_id"], row["engagement"]) for row in scored] == [
        ("L1", 2000),
        ("L2", 4000),
        ("L3", 3000),
    ]
