"""Notification rules: which change of a lead's result owes which webhook delivery.

A subscription asks for some kinds of change of one model (or all): ``stage_changed`` (the
lifecycle moved: advance, withdraw), ``tier_changed`` and ``threshold_crossed`` (the score
went over or under a number), optionally only changes into some stages or tiers (``to``);
``chance_crossed``: a trained model's kept 0-100 prediction went over or under a number.
``queue_deliveries`` writes what a batch of changes owes in the transaction that keeps them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from leadscore._types import MILLI, format_as_of
from leadscore.app.explain import top_reasons
from leadscore.app.people import people
from leadscore.spec.model import ScoringModel
from leadscore.store.predictions import score_tenths
from leadscore.store.store import Store
from leadscore.store.webhooks import Webhook, insert_deliveries


@dataclass(frozen=True, slots=True)
class Change:
    """One result of one lead under one model, with what was kept before it (None: nothing)."""

    lead_id: str
    model: str
    score: int
    tier: str | None
    stage: str | None
    grade: str | None
    transition: str | None
    previous_stage: str | None
    before: Mapping[str, Any] | None  # the kept row: score, tier, stage
    #: the (from, to) stage steps of a transition (``semantics.stage_steps``): an advance
    #: through several stages is one step each, each announced
    steps: tuple[tuple[str, str], ...] = ()
    #: the grade x band matrix value (None: the model has none)
    priority: str | None = None


def needs_previous(hooks: Iterable[Webhook]) -> bool:
    """Whether any subscription compares with the kept results (tiers, thresholds)."""
    return any(
        kind in ("tier_changed", "threshold_crossed") for hook in hooks for kind in hook.kinds
    )


def owed_events(hook: Webhook, change: Change) -> list[dict[str, Any]]:
    """The deliveries ``change`` owes ``hook``: payload fields beyond the common ones."""
    if hook.model is not None and hook.model != change.model:
        return []
    found: list[dict[str, Any]] = []
    before = change.before
    if "stage_changed" in hook.kinds and change.transition is not None:
        for step_from, step_to in change.steps or ((change.previous_stage, change.stage),):
            found.append(
                {
                    "type": "stage_changed",
                    "from": step_from,
                    "to": step_to,
                    "transition": change.transition,
                }
            )
    old_tier = None if before is None else before["tier"]
    if "tier_changed" in hook.kinds and change.tier != old_tier and change.tier is not None:
        found.append({"type": "tier_changed", "from": old_tier, "to": change.tier})
    if "threshold_crossed" in hook.kinds:
        assert hook.threshold is not None
        old_score = 0 if before is None else int(before["score"])
        if old_score < hook.threshold <= change.score:
            found.append({"type": "threshold_crossed", "direction": "up"})
        elif change.score < hook.threshold <= old_score:
            found.append({"type": "threshold_crossed", "direction": "down"})
    if hook.to is not None:  # only changes into these stages or tiers (crossings all pass)
        found = [f for f in found if "to" not in f or f["to"] in hook.to]
    return found


#: At most this many (lead, model) pairs of one round get their top reasons replayed: a round
#: that moves thousands of leads at once (a model activated) must not hold the write lock
#: for a replay of each; the rest are sent without ``reasons``.
MAX_REASONED = 200


def queue_deliveries(
    conn: sa.Connection,
    store: Store,
    models: Sequence[ScoringModel],
    hooks: list[Webhook],
    changes: Iterable[Change],
    at: int,
) -> int:
    """Write the deliveries ``changes`` owe into the outbox, in ``conn``'s transaction (the
    one keeping the changes): each with who the lead is and, for the first
    ``MAX_REASONED`` leads, its top reasons. Returns how many were queued."""
    if not hooks:
        return 0
    owing = [
        (change, hook, event)
        for change in changes
        for hook in hooks
        for event in owed_events(hook, change)
    ]
    who = people(store, sorted({change.lead_id for change, _, _ in owing}), conn)
    by_name = {m.name: m for m in models}
    reasons: dict[tuple[str, str], list[dict[str, object]]] = {}
    for change, _, _ in owing:
        key = (change.lead_id, change.model)
        if key not in reasons and len(reasons) < MAX_REASONED and change.model in by_name:
            reasons[key] = top_reasons(store, by_name[change.model], change.lead_id, at)
    owed = []
    for change, hook, event in owing:
        delivery_id = uuid.uuid4().hex
        payload = {
            **event,
            **_envelope(delivery_id, hook, change.model, change.lead_id, who, at),
            "score": change.score / MILLI,
            "previous_score": None
            if change.before is None
            else int(change.before["score"]) / MILLI,
            "tier": change.tier,
            "grade": change.grade,
            "stage": change.stage,
        }
        if change.priority is not None:
            payload["priority"] = change.priority
        if (change.lead_id, change.model) in reasons:
            payload["reasons"] = reasons[(change.lead_id, change.model)]
        if hook.threshold is not None and event["type"] == "threshold_crossed":
            payload["threshold"] = hook.threshold / MILLI
        owed.append((delivery_id, hook.id, change.lead_id, json.dumps(payload)))
    return insert_deliveries(conn, owed)


def _envelope(
    delivery_id: str, hook: Webhook, model: str, lead_id: str, who: Mapping[str, Any], at: int
) -> dict[str, Any]:
    """What every delivery says beside its event: its ids, the model, the lead and who it is,
    and the instant."""
    return {
        "delivery_id": delivery_id,
        "webhook_id": hook.id,
        "model": model,
        "lead_id": lead_id,
        "lead": who.get(lead_id, {}),
        "at": format_as_of(at),
    }


def chance_watchers(hooks: Iterable[Webhook], model: str) -> list[Webhook]:
    """The subscriptions told of ``model``'s kept predictions crossing their threshold
    (``chance_crossed``, of that trained model or of every model)."""
    return [h for h in hooks if "chance_crossed" in h.kinds and h.model in (None, model)]


def queue_chance_deliveries(
    conn: sa.Connection,
    store: Store,
    watching: list[Webhook],
    model: str,
    found: pa.Table,
    before: Mapping[str, int],
    at: int,
) -> int:
    """Write the ``chance_crossed`` deliveries ``watching`` (``chance_watchers``) are owed
    when a trained model's predictions (``found``: lead_id, version, probability, score,
    reasons) replace the kept ones (``before``: 0-100 scores in tenths by lead; a lead
    without one counts as 0, as a score kept for the first time does for
    ``threshold_crossed``), in ``conn``'s transaction (the one keeping them)."""
    if not watching or found.num_rows == 0:
        return 0
    crossed: list[tuple[Webhook, dict[str, Any], int, str, int]] = []
    for row in found.to_pylist():
        old, new = before.get(row["lead_id"], 0), score_tenths(row["score"])
        for hook in watching:
            assert hook.threshold is not None  # chance_crossed subscriptions have one
            line = round(hook.threshold / 100)  # milli of a 0-100 score, in tenths
            if old < line <= new or new < line <= old:
                crossed.append((hook, row, old, "up" if new >= line else "down", line))
    who = people(store, sorted({row["lead_id"] for _, row, _, _, _ in crossed}), conn)
    owed = []
    for hook, row, old, direction, line in crossed:
        delivery_id = uuid.uuid4().hex
        payload = {
            "type": "chance_crossed",
            "direction": direction,
            **_envelope(delivery_id, hook, model, row["lead_id"], who, at),
            "version": row["version"],
            "chance": row["score"],
            "probability": row["probability"],
            "previous_chance": old / 10,
            "threshold": line / 10,
            "reasons": json.loads(row["reasons"]),
        }
        owed.append((delivery_id, hook.id, row["lead_id"], json.dumps(payload)))
    return insert_deliveries(conn, owed)
