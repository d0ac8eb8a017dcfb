"""A backtest's state at every step equals scoring that instant with the stage the step
before left (what ``score --as-of T`` gives once earlier steps are recorded), checked against
the naive oracle run step by step: random models and histories, attribute changes between
steps, CRM stages and recycles recorded between steps (and exactly at them)."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from leadscore import ScoringModel
from leadscore.app.backtest import judged_versions
from leadscore.engines import timeline
from leadscore.engines.plan import compile_plan
from leadscore.engines.registry import DEFAULT_ENGINE, get_preparing_engine
from leadscore.engines.replay import Recorded, replay
from leadscore.engines.timeline import end_of_day
from leadscore.spec.accounts import account_of
from leadscore.testing import arrow_inputs, score_naively
from leadscore.testing.strategies import DAY, NOW, cases, lead_attributes, models
from tests.conftest import examples

Version = tuple[str, int, dict[str, object]]  # lead, valid from, attributes
Move = tuple[str, int, str, str]  # lead, at, to stage, kind


@st.composite
def histories(draw: Any) -> tuple[Any, list[int], list[Version], dict[str, str], list[Move]]:
    """A case, the step days, attribute versions, the stage recorded at the first step, and
    CRM stages and recycles at instants near the steps (on them, a microsecond either side)."""
    leads, events, _ = draw(cases(max_events=25, max_leads=4))
    every = draw(st.sampled_from([1, 1, 2, 7]))
    first = NOW // DAY - draw(st.integers(0, 60))
    days = list(range(first, first + every * draw(st.integers(1, 6)), every))
    instants = [end_of_day(d) for d in days]
    versions: list[Version] = []
    for lead_id, attributes in leads.items():
        born = draw(st.sampled_from([NOW - 400 * DAY, instants[0], instants[-1] + 1]))
        born = draw(st.sampled_from([born, instants[len(instants) // 2] - DAY // 2]))
        versions.append((lead_id, born, attributes))
        if draw(st.booleans()):
            later = draw(st.sampled_from([*instants, *[i + 1 for i in instants], born + DAY]))
            versions.append((lead_id, max(later, born), draw(lead_attributes)))
    start = {
        lead_id: draw(st.sampled_from(["Lead", "MQL", "SQL", "Gone"]))
        for lead_id in leads
        if draw(st.booleans())
    }
    moves: list[Move] = []
    for _ in range(draw(st.integers(0, 4))):
        lead_id = draw(st.sampled_from(sorted(leads)))
        near = draw(st.sampled_from(instants)) + draw(st.sampled_from([-1, 0, 1, -DAY // 3]))
        if draw(st.booleans()):
            moves.append((lead_id, near, draw(st.sampled_from(["MQL", "SQL", "Gone"])), "crm"))
        else:
            moves.append((lead_id, near, "", "recycle"))
    moves.sort(key=lambda move: move[1])
    return (leads, events), days, versions, start, moves


def _versions_table(versions: list[Version]) -> pa.Table:
    return pa.table(
        {
            "lead_id": pa.array([v[0] for v in versions], pa.string()),
            "valid_from": pa.array([v[1] for v in versions], pa.int64()),
            "id": pa.array(range(len(versions)), pa.int64()),
            "attributes": pa.array([json.dumps(v[2]) for v in versions], pa.string()),
            "account_id": pa.array([account_of(v[2]) for v in versions], pa.string()),
        }
    )


def _as_of(versions: list[Version], instant: int) -> dict[str, dict[str, object]]:
    """Each lead's attributes in effect at ``instant`` (the latest version at or before it)."""
    found: dict[str, dict[str, object]] = {}
    for lead_id, valid_from, attributes in versions:  # in id order, which breaks ties
        if valid_from <= instant:
            current = found.get(lead_id)
            if current is None or valid_from >= current["_from"]:  # type: ignore[operator]
                found[lead_id] = {**attributes, "_from": valid_from}
    return {k: {a: v for a, v in attrs.items() if a != "_from"} for k, attrs in found.items()}


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scoring_model=models(), history=histories())
def test_every_step_equals_the_oracle_scoring_that_instant(
    scoring_model: ScoringModel, history: Any
) -> None:
    _check(scoring_model, history)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scoring_model=models(), history=histories())
def test_rules_scored_step_by_step_give_the_same(scoring_model: ScoringModel, history: Any) -> None:
    """With no tables allowed, daily-capped and repeat-factor rules take the step-by-step
    path (``ScoringRun`` at each step) that a rule with many distinct day sums takes."""
    with patch.object(timeline, "MAX_VALUE_TABLES", 0):
        _check(scoring_model, history)


def _check(scoring_model: ScoringModel, history: Any) -> None:
    (_, events), days, versions, start, moves = history
    note(f"model: {scoring_model.model_dump(exclude_defaults=True)}")
    note(f"events: {events}\ndays: {days}\nversions: {versions}\nstart: {start}\nmoves: {moves}")
    plan = compile_plan(scoring_model)
    names = [stage.name for stage in plan.stages]
    recycle_to = names[plan.recycle_to] if names else ""
    moves = [(m[0], m[1], m[2] or recycle_to, m[3]) for m in moves]
    instants = [end_of_day(day) for day in days]
    all_leads = {v[0]: v[2] for v in versions}
    engine = get_preparing_engine(DEFAULT_ENGINE)
    prepared = engine.prepare(plan, *arrow_inputs(all_leads, events))
    ids = prepared.lead_ids.to_pylist()
    index = {lead_id: i for i, lead_id in enumerate(ids)}

    # as the history reads it at the first step: the stage recorded before, or a move since
    stage_of: dict[str, str | None] = {i: start.get(i) for i in ids}
    for m in moves:
        if m[1] <= instants[0]:
            stage_of[m[0]] = m[2]
    later = [m for m in moves if m[1] > instants[0]]
    recycles = [m for m in moves if m[3] == "recycle" and m[1] <= instants[-1]]
    recorded = Recorded(
        start=np.array([plan.stage_index(stage_of[i]) for i in ids], np.int64),
        lead=np.array([index[m[0]] for m in later], np.int64),
        at=np.array([m[1] for m in later], np.int64),
        stage=np.array([plan.stage_index(m[2]) for m in later], np.int64),
        recycle_lead=np.array([index[m[0]] for m in recycles], np.int64),
        recycle_at=np.array([m[1] for m in recycles], np.int64),
    )
    judged = judged_versions(plan, _versions_table(versions), prepared)
    result = replay(prepared, judged, recorded, days)

    # the oracle, step by step: the stage the last step left, or a move recorded since
    for step, instant in enumerate(instants):
        if step > 0:
            for lead_id, at, to, _ in moves:
                if instants[step - 1] < at <= instant:
                    stage_of[lead_id] = to
        recycled = {
            lead_id: max(
                [m[1] for m in recycles if m[0] == lead_id and m[1] <= instant], default=None
            )
            for lead_id in ids
        }
        lifecycle = {i: (stage_of[i], recycled[i]) for i in ids}
        present = _as_of(versions, instant)
        counted = [e for e in events if e.lead_id in present]
        expected = score_naively(scoring_model, present, counted, instant, lifecycle)
        for lead_id in ids:
            i = index[lead_id]
            want = expected.get(lead_id)
            assert bool(result.scored[step, i]) == (want is not None), (lead_id, step)
            if want is None:
                continue
            tier = plan.tiers[result.tier[step, i]][0] if result.tier[step, i] >= 0 else None
            grade = plan.grades[result.grade[step, i]][0] if result.grade[step, i] >= 0 else None
            stage = names[result.stage[step, i]] if result.stage[step, i] >= 0 else None
            got = (
                int(result.fit[step, i]),
                int(result.engagement[step, i]),
                int(result.score[step, i]),
                tier,
                grade,
                stage,
            )
            assert got == (
                want.fit,
                want.engagement,
                want.score,
                want.tier,
                want.grade,
                want.stage,
            ), (lead_id, step, instant)
            if want.stage is not None:
                stage_of[lead_id] = want.stage
