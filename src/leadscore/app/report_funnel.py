"""The report's funnel and SLA: leads, hand-overs, the next stage and customers per week, the
hand-overs against the volume agreed with sales, how long sales took to act on a hand-over
(feedback, an outcome or a recycle) and how long from hand-over to the sale, by tier.

Stage entries come from the model in use replayed day by day (``engines.replay``), so a
project scored now and then reads the same as one scored every day; what sales did comes from
what was recorded (feedback, outcomes, recycles)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.app.backtest_metrics import ModelResult, earliest, monday
from leadscore.engines.prepared import Ints
from leadscore.engines.replay import Replay
from leadscore.engines.semantics import DAY_US

HOUR_US = 3_600_000_000


def first_seen(events: pa.Table, lead_ids: pa.StringArray) -> Ints:
    """Each lead's first event instant (the int64 maximum: none)."""
    return earliest(events, "timestamp", lead_ids)


def funnel(
    result: Replay,
    measured: ModelResult,
    seen: Ints,
    converted_at: Ints,
    capacity: float | None,
) -> dict[str, Any]:
    """Per week: leads first seen, entries into each stage past the first, customers (first
    conversions); and the hand-overs a week against ``capacity`` (leads a week, if agreed)."""
    start, end = int(result.instants[0]), int(result.instants[-1])
    weeks = [week.start for week in measured.weeks]
    rows: dict[str, dict[str, int]] = {
        week.start: {"leads": 0, **week.entered, "customers": 0} for week in measured.weeks
    }
    for instants, key in ((seen, "leads"), (converted_at, "customers")):
        inside = instants[(instants > start - DAY_US) & (instants <= end)]
        for instant in inside.tolist():
            week = monday(max(int(instant), start))
            if week in rows:
                rows[week][key] += 1
    handover = measured.handover
    per_week = [rows[w].get(handover, 0) for w in weeks] if handover else []
    return {
        "weeks": [{"week": week, **rows[week]} for week in weeks],
        "stages": [s.name for s in result.plan.stages[1:]],
        "handover": handover,
        "capacity": capacity,
        "handovers_per_week": statistics.mean(per_week) if per_week else None,
        "weeks_over_capacity": (
            sum(1 for count in per_week if count > capacity) if capacity is not None else None
        ),
    }


def sla(
    result: Replay,
    measured: ModelResult,
    actions: pa.Table,
    converted_at: Ints,
    handover_index: int | None,
) -> dict[str, Any]:
    """For each lead handed over in the period (its first entry), the hours until sales first
    acted (feedback, an outcome or a recycle after the hand-over) and the days until it was
    won, as medians by the tier it had when handed over; leads still waiting are counted."""
    tiers = [name for name, _ in result.plan.tiers]
    if handover_index is None:
        return {"by_tier": [], "waiting": 0, "handed_over": 0}
    lead, step, entered = result.entries
    first: dict[int, int] = {}
    for who, when in zip(
        lead[entered == handover_index].tolist(),
        step[entered == handover_index].tolist(),
        strict=True,
    ):
        first.setdefault(who, when)
    acted = _first_actions(actions, result.lead_ids)
    hours: dict[str, list[float]] = {t: [] for t in tiers}
    days: dict[str, list[float]] = {t: [] for t in tiers}
    waiting = 0
    for who, when in first.items():
        at = int(result.instants[when])
        index = int(result.tier[when, who])
        tier = tiers[index] if index >= 0 else "(none)"
        hours.setdefault(tier, [])
        days.setdefault(tier, [])
        # the hand-over is dated to the end of its day (a daily run makes it then); what
        # sales did on that day already counts, as no time at all
        later = [a for a in acted.get(who, ()) if a > at - DAY_US]
        if later:
            hours[tier].append(max(later[0] - at, 0) / HOUR_US)
        else:
            waiting += 1
        if at - DAY_US < converted_at[who] < np.iinfo(np.int64).max:
            days[tier].append(max(int(converted_at[who]) - at, 0) / DAY_US)
    by_tier = [
        {
            "tier": tier,
            "handed_over": sum(
                1 for w, s in first.items() if _tier_name(result, tiers, s, w) == tier
            ),
            "acted_on": len(hours[tier]),
            "median_hours_to_action": statistics.median(hours[tier]) if hours[tier] else None,
            "won": len(days[tier]),
            "median_days_to_won": statistics.median(days[tier]) if days[tier] else None,
        }
        for tier in hours
    ]
    return {"by_tier": by_tier, "waiting": waiting, "handed_over": len(first)}


def _tier_name(result: Replay, tiers: Sequence[str], step: int, who: int) -> str:
    index = int(result.tier[step, who])
    return tiers[index] if index >= 0 else "(none)"


def _first_actions(actions: pa.Table, lead_ids: pa.StringArray) -> dict[int, list[int]]:
    """Each lead's sales actions (instants, ascending), by lead index."""
    found: dict[int, list[int]] = {}
    where = pc.index_in(actions["lead_id"], value_set=lead_ids)
    for who, at in zip(where.to_pylist(), actions["at"].to_pylist(), strict=True):
        if who is not None:
            found.setdefault(who, []).append(int(at))
    for instants in found.values():
        instants.sort()
    return found
