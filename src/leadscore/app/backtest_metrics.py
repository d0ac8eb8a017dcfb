"""What a backtest says of a model, in the numbers a head of sales compares: stage entries per
week, how many hand-overs converted (precision) and how many conversions were handed over
first (recall), how long from hand-over to the next stage and to the sale, conversion rate by
tier, the tier mix over time; and the leads two models would treat differently, and why.

The hand-over stage is the model's second (the first one past the entry stage), unless named;
a conversion is the lead's first ``won`` or ``converted`` outcome.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore._types import MILLI
from leadscore.engines.prepared import Ints
from leadscore.engines.replay import Replay
from leadscore.engines.semantics import DAY_US
from leadscore.errors import InputError

POSITIVE = ("won", "converted")
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Week:
    """Stage entries in the week starting ``start`` (a Monday, UTC)."""

    start: str
    entered: dict[str, int]


@dataclass(frozen=True, slots=True)
class TierRate:
    """Leads seen in a tier at the weekly snapshots, and how many converted within the
    horizon after the snapshot."""

    tier: str
    leads: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.leads if self.leads else None


@dataclass(frozen=True, slots=True)
class ModelResult:
    """One model's backtest numbers."""

    model: str
    handover: str | None
    weeks: list[Week]
    handed_over: int  # leads entering the hand-over stage in the period (first entry each)
    handed_over_converted: int  # of those, converted within the horizon after entering
    conversions: int  # conversions in the period
    conversions_handed_over: int  # of those, the lead had been handed over before
    days_to_next: float | None  # median days from hand-over to the next stage
    days_to_conversion: float | None  # median days from hand-over to conversion
    tier_rates: list[TierRate]
    tier_mix: list[tuple[str, dict[str, int]]]  # (step day, leads per tier)
    horizon_days: int
    censored: int = 0  # hand-overs less than the horizon before the data ends
    notes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.handed_over_converted / self.handed_over if self.handed_over else None

    @property
    def recall(self) -> float | None:
        return self.conversions_handed_over / self.conversions if self.conversions else None


def earliest(table: pa.Table, at: str, lead_ids: pa.StringArray) -> Ints:
    """Each lead's earliest ``at`` in ``table`` (a ``lead_id`` column), by lead index; the
    int64 maximum where it has none."""
    first = np.full(len(lead_ids), NEVER, np.int64)
    if table.num_rows:
        where = pc.index_in(table["lead_id"], value_set=lead_ids)
        known = where.is_valid().to_numpy(zero_copy_only=False)
        np.minimum.at(
            first,
            where.fill_null(0).to_numpy()[known].astype(np.int64),
            table[at].to_numpy()[known].astype(np.int64),
        )
    return first


def first_conversions(outcomes: pa.Table, lead_ids: pa.StringArray) -> Ints:
    """Each lead's first conversion instant (``won``/``converted``), or the int64 maximum."""
    positive = outcomes.filter(pc.is_in(outcomes["outcome"], pa.array(POSITIVE)))
    return earliest(positive, "at", lead_ids)


def handover_index(result: Replay, stage: str | None) -> int | None:
    """The hand-over stage's index: ``stage`` by name, else the second stage (None: the model
    has fewer than two stages)."""
    names = [s.name for s in result.plan.stages]
    if stage is not None:
        if stage not in names:
            raise InputError(
                f"model {result.plan.model!r} has no stage {stage!r}; its stages: "
                + ", ".join(names)
            )
        return names.index(stage)
    return 1 if len(names) > 1 else None


def measure(
    result: Replay, converted_at: Ints, horizon_days: int, stage: str | None = None
) -> ModelResult:
    """The backtest numbers of one replay; ``converted_at`` from ``first_conversions``."""
    return measured(result, converted_at, horizon_days, stage)[0]


def measured(
    result: Replay, converted_at: Ints, horizon_days: int, stage: str | None = None
) -> tuple[ModelResult, list[float], list[float]]:
    """``measure``'s numbers, and the days from each hand-over to the next stage and to the
    sale that its medians are taken over: what leads measured apart (Spark's partitions)
    need to be measured together (``lake_backtest.merged``)."""
    plan, instants = result.plan, result.instants
    horizon = horizon_days * DAY_US
    names = [s.name for s in plan.stages]
    lead, step, entered = result.entries
    weeks = _weeks(instants, step, entered, names)
    handover = handover_index(result, stage)
    start, end = int(instants[0]), int(instants[-1])
    in_period = (converted_at > start) & (converted_at <= end)
    conversions = int(in_period.sum())
    handed = converted = reached_before = censored = 0
    to_next: list[float] = []
    to_sale: list[float] = []
    if handover is not None:
        mine = entered == handover
        first_step: dict[int, int] = {}
        for who, when in zip(lead[mine].tolist(), step[mine].tolist(), strict=True):
            first_step.setdefault(who, when)
        nexts = entered == handover + 1
        next_step: dict[int, list[int]] = {}
        for who, when in zip(lead[nexts].tolist(), step[nexts].tolist(), strict=True):
            next_step.setdefault(who, []).append(when)
        for who, when in first_step.items():
            at = int(instants[when])
            handed += 1
            censored += at + horizon > end
            sale = int(converted_at[who])
            if at < sale <= at + horizon:
                converted += 1
                to_sale.append((sale - at) / DAY_US)
            later = [s for s in next_step.get(who, []) if s > when]
            if later:
                to_next.append(float((instants[later[0]] - at) // DAY_US))
        # a conversion counts as handed over when the lead was at or past the hand-over stage
        # at some step before it (the first step's recorded stage included)
        reached = np.maximum.accumulate(result.stage >= handover, axis=0)
        before = np.searchsorted(instants, converted_at, "left") - 1
        who = np.flatnonzero(in_period & (before >= 0))
        reached_before = int(reached[before[who], who].sum())
    numbers = ModelResult(
        model=plan.model,
        handover=None if handover is None else names[handover],
        weeks=weeks,
        handed_over=handed,
        handed_over_converted=converted,
        conversions=conversions,
        conversions_handed_over=reached_before,
        days_to_next=statistics.median(to_next) if to_next else None,
        days_to_conversion=statistics.median(to_sale) if to_sale else None,
        tier_rates=_tier_rates(result, converted_at, horizon),
        tier_mix=_tier_mix(result),
        horizon_days=horizon_days,
        censored=censored,
    )
    return numbers, to_next, to_sale


def _day(instant: int) -> datetime:
    return datetime.fromtimestamp(instant // 1_000_000, UTC)


def monday(instant: int) -> str:
    moment = _day(instant)
    return (moment - timedelta(days=moment.weekday())).strftime("%Y-%m-%d")


def _weeks(instants: Ints, step: Ints, entered: Ints, names: list[str]) -> list[Week]:
    """Stage entries per week of the period, every week listed (a quiet week reads 0)."""
    found: dict[str, dict[str, int]] = {}
    for instant in instants:
        found.setdefault(monday(int(instant)), dict.fromkeys(names[1:], 0))
    for when, index in zip(step.tolist(), entered.tolist(), strict=True):
        found[monday(int(instants[when]))][names[index]] += 1
    return [Week(start, counts) for start, counts in found.items()]


def snapshots(instants: Ints) -> list[int]:
    """The steps that open a week (all of them when steps are a week or more apart)."""
    seen: set[str] = set()
    chosen = []
    for index, instant in enumerate(instants):
        week = monday(int(instant))
        if week not in seen:
            seen.add(week)
            chosen.append(index)
    return chosen


def _tier_rates(result: Replay, converted_at: Ints, horizon: int) -> list[TierRate]:
    """At each weekly snapshot, each scored lead not yet converted counts in its tier; it
    converted if its first conversion falls within the horizon after the snapshot."""
    tiers = [name for name, _ in result.plan.tiers]
    leads = np.zeros(len(tiers), np.int64)
    converted = np.zeros(len(tiers), np.int64)
    for index in snapshots(result.instants):
        at = int(result.instants[index])
        open_ = result.scored[index] & (converted_at > at)
        tier = result.tier[index][open_].astype(np.int64)
        won = converted_at[open_] <= at + horizon
        named = tier >= 0
        leads += np.bincount(tier[named], minlength=len(tiers))[: len(tiers)]
        converted += np.bincount(tier[named & won], minlength=len(tiers))[: len(tiers)]
    return [TierRate(name, int(leads[i]), int(converted[i])) for i, name in enumerate(tiers)]


def _tier_mix(result: Replay) -> list[tuple[str, dict[str, int]]]:
    """Scored leads per tier at each weekly snapshot."""
    tiers = [name for name, _ in result.plan.tiers]
    mix = []
    for index in snapshots(result.instants):
        tier = result.tier[index][result.scored[index]].astype(np.int64)
        counts = np.bincount(tier[tier >= 0], minlength=len(tiers))
        day = _day(int(result.instants[index])).strftime("%Y-%m-%d")
        mix.append((day, {name: int(counts[i]) for i, name in enumerate(tiers)}))
    return mix


@dataclass(frozen=True, slots=True)
class Difference:
    """A lead two models treat differently at the last step, and why."""

    lead_id: str
    first: tuple[str | None, str | None, float | None]  # stage, tier, score
    second: tuple[str | None, str | None, float | None]
    reason: str


def state_words(state: tuple[str | None, str | None, float | None]) -> str:
    """A ``Difference`` side as people read it: ``MQL / hot / 72``, or ``(not scored)``."""
    stage, tier, score = state
    return "(not scored)" if score is None else f"{stage or '-'} / {tier or '-'} / {score:g}"


def differences(a: Replay, b: Replay, limit: int | None = None) -> list[Difference]:
    """Leads whose stage or tier differs between ``a`` and ``b`` at the last step (leads both
    know), the largest score gap first; the reason names the rules whose points differ most
    and the fit."""
    index_b = {lead_id: i for i, lead_id in enumerate(b.lead_ids.to_pylist())}
    found: list[Difference] = []
    for i, lead_id in enumerate(a.lead_ids.to_pylist()):
        j = index_b.get(lead_id)
        if j is None:
            continue
        mine, theirs = _state(a, i), _state(b, j)
        if mine[:2] == theirs[:2]:
            continue
        found.append(Difference(lead_id, mine, theirs, _reason(a, i, b, j)))
    return ranked(found, limit)


def ranked(found: list[Difference], limit: int | None) -> list[Difference]:
    """The largest score gap first (then by lead id), ``limit`` of them at most."""
    found = sorted(found, key=lambda d: (-abs((d.first[2] or 0) - (d.second[2] or 0)), d.lead_id))
    return found if limit is None else found[:limit]


def _state(result: Replay, i: int) -> tuple[str | None, str | None, float | None]:
    if not result.scored[-1, i]:
        return None, None, None
    names = [s.name for s in result.plan.stages]
    tiers = [name for name, _ in result.plan.tiers]
    stage = int(result.stage[-1, i])
    tier = int(result.tier[-1, i])
    return (
        names[stage] if stage >= 0 else None,
        tiers[tier] if tier >= 0 else None,
        int(result.score[-1, i]) / MILLI,
    )


def _reason(a: Replay, i: int, b: Replay, j: int) -> str:
    if not a.scored[-1, i] or not b.scored[-1, j]:
        left = a.plan.model if not a.scored[-1, i] else b.plan.model
        return f"model {left!r} does not apply to the lead"
    parts = []
    fit_a, fit_b = int(a.fit[-1, i]), int(b.fit[-1, j])
    gaps = []
    for name in sorted(set(a.last_rule_points) | set(b.last_rule_points)):
        pa_ = int(a.last_rule_points[name][i]) if name in a.last_rule_points else 0
        pb = int(b.last_rule_points[name][j]) if name in b.last_rule_points else 0
        if pa_ != pb:
            gaps.append((abs(pa_ - pb), name, pa_, pb))
    gaps.sort(key=lambda g: (-g[0], g[1]))
    for _, name, pa_, pb in gaps[:3]:
        parts.append(f"{name} {_points(pa_)} vs {_points(pb)}")
    if fit_a != fit_b:
        parts.append(f"fit {_points(fit_a)} vs {_points(fit_b)}")
    if not parts:
        parts.append("the same points; the thresholds or stage conditions differ")
    return "; ".join(parts)


def _points(milli: int) -> str:
    return f"{milli / MILLI:g}"
