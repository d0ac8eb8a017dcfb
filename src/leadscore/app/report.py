"""The report the brief asks for, computed once for the command, the JSON and the dashboard:
funnel and SLA, does the model work, attribution, drift. Built on the model in use replayed
day by day over the period, point in time (``app/backtest.py``), and on what sales recorded.
``report_page.page`` renders it as one self-contained HTML page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadscore._types import format_as_of
from leadscore.app.backtest import backtest_days, replay_models
from leadscore.app.backtest_metrics import first_conversions, handover_index, measure, snapshots
from leadscore.app.people import people
from leadscore.app.preparations import Preparations
from leadscore.app.report_attribution import attribution
from leadscore.app.report_funnel import first_seen, funnel, sla
from leadscore.app.report_quality import auc_by_month, by_band, drift, surprises
from leadscore.engines.semantics import DAY_US
from leadscore.errors import InputError
from leadscore.spec.model import ScoringModel
from leadscore.store.outcomes import outcomes_arrow, sales_actions_arrow
from leadscore.store.store import Store


def build_report(
    store: Store,
    scoring_model: ScoringModel,
    start: int,
    end: int,
    *,
    capacity: float | None = None,
    horizon_days: int = 90,
    stage: str | None = None,
    drift_days: int = 28,
    preparations: Preparations | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Every number of the report, as JSON-ready values (instants as UTC text)."""
    if horizon_days < 1 or drift_days < 1:
        raise InputError("the horizon and the drift period are whole days, at least one")
    days = backtest_days(start, end, 1)
    result = next(
        replay_models(store, [scoring_model], days, preparations=preparations, progress=progress)
    )
    horizon = horizon_days * DAY_US
    converted_at = first_conversions(outcomes_arrow(store), result.lead_ids)
    events = store.events_arrow()
    measured = measure(result, converted_at, horizon_days, stage)
    handover = handover_index(result, stage)
    named = surprises(result, converted_at, horizon, lambda ids: people(store, ids))
    actions = sales_actions_arrow(store, scoring_model.name)
    seen = first_seen(events, result.lead_ids)
    return {
        "model": scoring_model.name,
        "from": format_as_of(int(result.instants[0])),
        "to": format_as_of(int(result.instants[-1])),
        "horizon_days": horizon_days,
        "leads": len(result.lead_ids),
        "funnel": funnel(result, measured, seen, converted_at, capacity),
        "sla": sla(result, measured, actions, converted_at, handover),
        "model_quality": {
            "handover": measured.handover,
            "handed_over": measured.handed_over,
            "precision": measured.precision,
            "recall": measured.recall,
            "by_tier": [
                {"tier": r.tier, "leads": r.leads, "converted": r.converted, "rate": r.rate}
                for r in measured.tier_rates
            ],
            "by_band": by_band(result, converted_at, horizon, snapshots(result.instants)),
            "auc_by_month": auc_by_month(result, converted_at, horizon),
            **named,
        },
        "tier_mix": [{"day": day, **mix} for day, mix in measured.tier_mix],
        "attribution": attribution(events, result, converted_at, handover),
        "drift": drift(result, converted_at, drift_days),
    }
