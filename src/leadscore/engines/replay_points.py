"""A replay's engagement at every step: each rule from the timeline's tables, what has no
table (many distinct day sums, groups with a daily cap) from the batch engine's own
``ScoringRun`` at each step; rule, group and engagement caps applied in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from leadscore.engines.plan import RuleStep
from leadscore.engines.prepared import Ints, Prepared
from leadscore.engines.timeline import Timeline
from leadscore.engines.vectorized import Lifecycle, ScoringRun

if TYPE_CHECKING:
    from leadscore.engines.replay import Recorded


def engagement_by_step(
    prepared: Prepared, timeline: Timeline, recorded: Recorded, instants: Ints
) -> tuple[Ints, dict[str, Ints]]:
    """Engagement per (step x lead) and each rule's capped points at the last step.

    Rules come from the timeline's tables; a rule with too many distinct day sums, and every
    group with a daily cap (its rules' days are summed and capped together), are scored step
    by step with the batch engine's own ``ScoringRun``. One group at a time is held, summed
    in place: a year of 100,000 leads is 290 MB a matrix."""
    plan, rows = prepared.plan, timeline.rows
    last: dict[str, Ints] = {}
    stepwise = _Stepwise(prepared, recorded, instants)
    total = np.zeros((len(instants), prepared.size), np.int64)
    groups: list[int | None] = [None, *range(len(plan.groups))]
    for group in groups:
        members = [rule for rule in plan.rules if rule.group == group]
        if not members:
            continue
        if group is not None and plan.groups[group].daily_cap is not None:
            summed = stepwise.run(_group_part(group))
        else:
            summed = None
            for rule in members:
                raw = timeline.rule_points(prepared.matched[rule.matcher], rule)
                value = stepwise.run(_rule_part(rule)) if raw is None else rows.per_lead(raw)
                del raw
                _clamp(value, rule.cap)
                last[rule.name] = value[-1].copy()
                if group is None:
                    total += value
                elif summed is None:
                    summed = value
                else:
                    summed += value
                del value
        if group is not None and summed is not None:
            total += _clamp(summed, plan.groups[group].cap)
        del summed
    return _clamp(total, plan.engagement_cap), last


def _clamp(values: Ints, cap: int | None) -> Ints:
    """``arrays.clamp`` in place (the matrices are large)."""
    if cap is not None:
        np.clip(values, -cap, cap, out=values)
    return values


def _rule_part(rule: RuleStep) -> Callable[[ScoringRun], Ints]:
    def part(run: ScoringRun) -> Ints:
        return run.rule_points(rule)

    return part


def _group_part(group: int) -> Callable[[ScoringRun], Ints]:
    def part(run: ScoringRun) -> Ints:
        return run.group_points(group)

    return part


class _Stepwise:
    """The batch engine's scoring run at each step, for what the timeline has no table for."""

    def __init__(self, prepared: Prepared, recorded: Recorded, instants: Ints) -> None:
        self.prepared, self.recorded, self.instants = prepared, recorded, instants
        self.restart = prepared.plan.restart_engagement and len(recorded.recycle_lead) > 0

    def recycled(self, instant: int) -> Ints | None:
        """Each lead's last recycle at or before ``instant`` (made when a step needs it)."""
        if not self.restart:
            return None
        latest = np.full(self.prepared.size, np.iinfo(np.int64).min, np.int64)
        up_to = self.recorded.recycle_at <= instant
        np.maximum.at(latest, self.recorded.recycle_lead[up_to], self.recorded.recycle_at[up_to])
        return latest

    def run(self, part: Callable[[ScoringRun], Ints]) -> Ints:
        out = np.zeros((len(self.instants), self.prepared.size), np.int64)
        for step, instant in enumerate(self.instants):
            cycle = Lifecycle(self.prepared.plan, self.prepared, None)
            cycle.recycled_at = self.recycled(int(instant))
            out[step] = part(ScoringRun(self.prepared, int(instant), cycle))
        return out
