"""Sales sends a lead back: the recycle stage, and engagement restarting from zero."""

from __future__ import annotations

from leadscore.engines.plan import compile_plan
from leadscore.errors import ConfigError, ConflictError
from leadscore.spec.model import ScoringModel
from leadscore.store.store import StageTransition, Store


def recycle_lead(
    store: Store, scoring_model: ScoringModel, lead_id: str, at: int, reason: str
) -> StageTransition:
    """Record that sales sent a lead back (a recycle): it returns to the model's recycle stage
    and, with ``restart_engagement``, its engagement restarts from zero at ``at``."""
    store.lead(lead_id)  # NotFoundError names an unknown lead
    plan = compile_plan(scoring_model)
    if not plan.stages:
        raise ConfigError(f"model {plan.model!r} has no stages; there is nothing to recycle")
    history = store.transitions(lead_id, plan.model)
    if history and history[-1].at > at:
        raise ConflictError(
            f"lead {lead_id!r} has a stage change recorded under model {plan.model!r} after the "
            "recycle's time; a recycle cannot be earlier than the lead's last recorded change"
        )
    stage, _ = store.lifecycle(lead_id, plan.model, at)
    transition = StageTransition(
        lead_id,
        plan.model,
        at,
        plan.stages[plan.stage_index(stage)].name,
        plan.stages[plan.recycle_to].name,
        "recycle",
        reason,
    )
    store.record_transitions([transition])
    return transition
