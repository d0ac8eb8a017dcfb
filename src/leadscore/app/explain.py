"""One lead's result with every contribution, stage check and its stage history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from leadscore._types import Event, format_as_of
from leadscore.engines.incremental import IncrementalScorer, LeadState, applies
from leadscore.engines.plan import Plan, compile_plan
from leadscore.engines.results import LeadScore, points
from leadscore.errors import NotFoundError
from leadscore.spec.accounts import account_of
from leadscore.spec.model import ScoringModel
from leadscore.store.store import StageTransition, Store


def explain_lead(store: Store, scoring_model: ScoringModel, lead_id: str, as_of: int) -> LeadScore:
    """One lead's result with its explanation, replayed from its stored events and starting
    from its lifecycle recorded as of ``as_of``."""
    plan = compile_plan(scoring_model)
    attributes = store.lead(lead_id, as_of)
    if not applies(plan.applies_to, attributes):
        raise NotFoundError(f"model {scoring_model.name!r} does not apply to lead {lead_id!r}")
    scorer = IncrementalScorer(plan)
    state = _replay(store, scorer, lead_id, attributes, as_of)
    account = None
    if plan.uses_accounts:  # replay the colleagues too: the account facts need them
        states = [state, *colleague_states(store, scorer, lead_id, as_of)]
        account = scorer.account_facts(account_of(attributes), states, as_of)
    return scorer.score_one(state, as_of, account)


def colleague_states(
    store: Store, scorer: IncrementalScorer, lead_id: str, as_of: int
) -> list[LeadState]:
    """The states of the other leads of ``lead_id``'s account as of ``as_of``, replayed from
    their events (all read at once: two queries, not two per colleague)."""
    members = store.account_members(lead_id, as_of)
    others = [member for member in members if member != lead_id]
    events = store.events_of(others)
    cycles = store.lifecycles(scorer.plan.model, as_of, others)
    states = []
    for member in others:
        colleague = scorer.new_state(member, members[member])
        scorer.set_lifecycle(colleague, *cycles.get(member, (None, None)))
        for event in events[member]:
            scorer.add_one(colleague, event)
        states.append(colleague)
    return states


def top_reasons(
    store: Store, scoring_model: ScoringModel, lead_id: str, as_of: int, count: int = 3
) -> list[dict[str, object]]:
    """The rules that added or took the most points (fit and engagement, by size), as
    ``{"rule", "points"}``: what a CRM row or a webhook delivery says of why. Empty when the
    lead is gone or the model no longer applies to it."""
    try:
        explained = explain_lead(store, scoring_model, lead_id, as_of)
    except NotFoundError:
        return []
    rules = [c for c in explained.contributions if c.kind in ("fit", "engagement") and c.points]
    rules.sort(key=lambda c: (-abs(c.points), c.name))
    return [{"rule": c.name, "points": points(c.points)} for c in rules[:count]]


def explain_models(
    store: Store, models: Sequence[ScoringModel], lead_id: str, as_of: int
) -> tuple[list[LeadScore], list[str]]:
    """The lead's explained result under each model that applies to it, and the names of
    those that do not (a project may run a B2C and a B2B model side by side: a lead is
    explained by the one it belongs to). NotFoundError when there is no such lead, or no
    model applies."""
    attributes = store.lead(lead_id, as_of)
    applying = [m for m in models if applies(compile_plan(m).applies_to, attributes)]
    others = [m.name for m in models if m not in applying]
    if not applying:
        raise NotFoundError(
            f"no model applies to lead {lead_id!r} (models: {', '.join(others)}); see each "
            "model's applies_to"
        )
    return [explain_lead(store, m, lead_id, as_of) for m in applying], others


def _replay(
    store: Store, scorer: IncrementalScorer, lead_id: str, attributes: dict[str, Any], as_of: int
) -> LeadState:
    """A lead's incremental state from its stored events and lifecycle as of ``as_of``."""
    state = scorer.new_state(lead_id, attributes)
    scorer.set_lifecycle(state, *store.lifecycle(lead_id, scorer.plan.model, as_of))
    for event in store.lead_events(lead_id):
        scorer.add_one(state, event)
    return state


def history_dict(transition: StageTransition) -> dict[str, object]:
    """One stage change as JSON and tables show it (the instant formatted, UTC)."""
    return {
        "at": format_as_of(transition.at),
        "from": transition.from_stage,
        "to": transition.to_stage,
        "kind": transition.kind,
        "reason": transition.reason,
    }


def explanation(
    result: LeadScore, history: list[StageTransition], scoring_model: ScoringModel | None = None
) -> dict[str, object]:
    """A result with its explanation and stage history as plain JSON-ready values (what
    ``leadscore explain --json`` prints and the service returns); with its model, the
    priority (grade x band) beside tier and grade when the model has one."""
    row = result.row()
    if scoring_model is not None and scoring_model.priority is not None:
        plan = compile_plan(scoring_model)
        row["priority"] = plan.priority_of(result.grade, result.engagement, result.score)
    return {
        **row,
        "as_of": format_as_of(result.as_of),
        "account": None if result.account is None else result.account.attributes(),
        "history": [history_dict(t) for t in history],
        "contributions": [
            {
                "kind": c.kind,
                "name": c.name,
                "points": points(c.points),
                "matches": c.matches,
                "filtered": c.filtered,
                "bot_filtered": c.bot_filtered,
                "raw": points(c.raw),
                "decayed": points(c.decayed),
                "group": c.group,
            }
            for c in result.contributions
        ],
        "stages": [
            {
                "stage": s.stage,
                "kind": s.kind,
                "holds": s.holds,
                "checks": [
                    {"condition": k.condition, "words": k.words, "value": k.value, "holds": k.holds}
                    for k in s.checks
                ],
            }
            for s in result.stages
        ],
    }


def explained_table(
    plan: Plan,
    leads: pa.Table,
    events: pa.Table | None,
    lifecycle: pa.Table | None,
    as_of: int,
) -> pa.Table:
    """``lead_id`` and ``explanation`` (``explanation``'s JSON, without a stage history) of
    every lead the plan applies to, from the ``Engine`` contract's tables: what a Spark
    partition writes beside its results (``engines.spark.Explainer``). The leads are
    replayed one event at a time, the same replay ``explain_lead`` makes from the database,
    so a row says why it scored what the batch engine computed."""
    scorer = IncrementalScorer(plan)
    states: dict[str, LeadState] = {}
    members: dict[str | None, list[LeadState]] = {}
    accounts: dict[str, str | None] = {}
    for lead_id, text, account in zip(
        leads["lead_id"].to_pylist(),
        leads["attributes"].to_pylist(),
        leads["account_id"].to_pylist(),
        strict=True,
    ):
        state = scorer.new_state(lead_id, json.loads(text) if text else {})
        states[lead_id] = state
        accounts[lead_id] = account
        members.setdefault(account, []).append(state)
    if lifecycle is not None:
        for row in lifecycle.to_pylist():
            if row["lead_id"] in states:
                scorer.set_lifecycle(states[row["lead_id"]], row["stage"], row["recycled_at"])
    if events is not None:
        ordered = events.sort_by([("timestamp", "ascending")]).to_pylist()
        for number, row in enumerate(ordered):
            target = states.get(row["lead_id"])
            if target is not None:
                properties = json.loads(row["properties"]) if row["properties"] else {}
                event = Event(
                    f"row-{number}",
                    row["lead_id"],
                    row["type"],
                    row["event"],
                    row["timestamp"],
                    properties,
                )
                scorer.add_one(target, event)
    ids, texts = [], []
    for lead_id, state in states.items():
        account = accounts[lead_id]
        if not applies(plan.applies_to, state.attributes):
            continue
        facts = None
        if plan.uses_accounts:
            together = members[account] if account is not None else [state]
            facts = scorer.account_facts(account, together, as_of)
        found = explanation(scorer.score_one(state, as_of, facts), [], plan.source)
        del found["history"]
        ids.append(lead_id)
        texts.append(json.dumps(found))
    return pa.table(
        {"lead_id": pa.array(ids, pa.string()), "explanation": pa.array(texts, pa.string())}
    )
