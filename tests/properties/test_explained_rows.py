"""The explanations a lake run writes beside its results (``app.explain.explained_table``)
say what the naive oracle computes: every lead's fit, engagement, score, tier, grade and
stage, and contributions that add up to the score."""

from __future__ import annotations

import json

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.app.explain import explained_table
from leadscore.engines.plan import compile_plan
from leadscore.spec.loader import parse_model
from leadscore.spec.model import ScoringModel
from leadscore.testing.check import arrow_inputs, lifecycle_table
from leadscore.testing.oracle import score_naively
from leadscore.testing.strategies import Case, cases, lifecycles, models
from tests.conftest import examples

DAY = 86_400_000_000
AS_OF = 20_000 * DAY  # a UTC midnight


@settings(max_examples=examples(120), deadline=None)
@given(scoring_model=models(), case=cases(), data=st.data())
def test_explanations_say_what_the_oracle_computes(
    scoring_model: ScoringModel, case: Case, data: st.DataObject
) -> None:
    leads, events, as_of = case
    lifecycle = data.draw(lifecycles(sorted(leads), events))
    table = explained_table(
        compile_plan(scoring_model),
        *arrow_inputs(leads, events),
        lifecycle_table(lifecycle),
        as_of,
    )
    explained = {
        lead: json.loads(text)
        for lead, text in zip(
            table["lead_id"].to_pylist(), table["explanation"].to_pylist(), strict=True
        )
    }
    expected = score_naively(scoring_model, leads, events, as_of, lifecycle)
    assert explained.keys() == expected.keys()
    for lead_id, naive in expected.items():
        said = explained[lead_id]
        assert (said["fit"], said["engagement"], said["score"]) == (
            naive.fit / 1000,
            naive.engagement / 1000,
            naive.score / 1000,
        ), lead_id
        assert (said["tier"], said["grade"], said["stage"], said["transition"]) == (
            naive.tier,
            naive.grade,
            naive.stage,
            naive.transition,
        ), lead_id
        total = sum(round(c["points"] * 1000) for c in said["contributions"])
        assert total == naive.score, lead_id


def test_an_explanation_names_each_rule_and_stage_check() -> None:
    """By hand: ann asked for a demo (10 points, the same day) and is from acme, whose two
    leads make the account rule's 2 fit points; bob did nothing."""
    model = parse_model(
        """
name: m
fit:
  - {name: team, points: 2, when: [{type: range, field: account.leads, gte: 2}]}
engagement:
  - {name: demo, event: Demo Requested, points: 10}
stages:
  - {name: Lead}
  - {name: MQL, when: {type: score, gte: 5}}
"""
    )
    leads = pa.table(
        {
            "lead_id": ["ann", "bob"],
            "attributes": ['{"email": "ann@acme.example"}', '{"email": "bob@acme.example"}'],
            "account_id": ["acme.example", "acme.example"],
        }
    )
    events = pa.table(
        {
            "lead_id": ["ann"],
            "type": ["track"],
            "event": ["Demo Requested"],
            "timestamp": pa.array([AS_OF - DAY // 2], pa.int64()),
            "properties": ["{}"],
        }
    )
    table = explained_table(compile_plan(model), leads, events, None, AS_OF - 1)
    said = {row["lead_id"]: json.loads(row["explanation"]) for row in table.to_pylist()}
    ann = said["ann"]
    assert (ann["score"], ann["stage"], ann["transition"]) == (12.0, "MQL", "advance")
    assert {c["name"]: c["points"] for c in ann["contributions"] if c["points"]} == {
        "team": 2.0,
        "demo": 10.0,
    }
    assert ann["account"]["account.leads"] == 2
    mql = next(s for s in ann["stages"] if s["stage"] == "MQL")
    assert mql["holds"] and mql["checks"][0]["holds"]
    assert (said["bob"]["score"], said["bob"]["stage"]) == (2.0, "Lead")
