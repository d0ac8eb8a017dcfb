"""A model replayed over history: every lead's result at the end of each step day, with the
stage lifecycle moved forward step by step, point in time.

The state at each step equals what ``score --as-of`` that instant gives once the earlier steps'
stage changes are recorded: events up to the instant (``timeline`` computes their facts for
all steps at once), attributes as they were (each lead's version in effect), the stage
recorded by the step before, or by a CRM stage or a recycle recorded since (``Recorded``).
The fit, score, tier and stage rules are the batch engine's own (``Stages``, ``Accounts``,
``semantics``), applied to one step's vectors at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from leadscore.engines import semantics as s
from leadscore.engines.arrays import band_indexes
from leadscore.engines.batch_stages import Stages
from leadscore.engines.plan import Plan
from leadscore.engines.prepared import Bools, Ints, Prepared, Series, lead_predicates
from leadscore.engines.replay_points import engagement_by_step
from leadscore.engines.timeline import NONE_DAY, Timeline, end_of_day, recycle_rows
from leadscore.engines.vectorized import Accounts, account_codes
from leadscore.spec.accounts import fact_name
from leadscore.spec.predicates import Predicate

Small = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Versions:
    """Every attribute version of the leads, judged: parallel arrays sorted by (lead,
    valid_from, version id). ``verdicts`` per lead predicate (``id``) per version."""

    lead: Ints
    valid_from: Ints
    account_ids: pa.StringArray
    verdicts: dict[int, Bools]

    def at(self, size: int, instants: Ints) -> npt.NDArray[np.int32]:
        """Per (step x lead), the version in effect (-1: the lead did not exist yet)."""
        chosen = np.full((len(instants), size), -1, np.int32)
        first = np.searchsorted(instants, self.valid_from, "left")
        inside = first < len(instants)
        chosen[first[inside], self.lead[inside]] = np.flatnonzero(inside)  # the latest wins
        np.maximum.accumulate(chosen, axis=0, out=chosen)
        return chosen


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the history records besides the model's own stage changes, per model name: each
    lead's stage as of the first step, and the CRM stages and recycles after it (in the order
    recorded), which move the stage the next step starts from. ``recycle_*``: every recycle up
    to the last step (engagement restarts at each)."""

    start: Ints  # stage index per lead as of the first step (0: nothing recorded)
    lead: Ints
    at: Ints
    stage: Ints
    recycle_lead: Ints
    recycle_at: Ints


@dataclass(frozen=True, slots=True)
class Replay:
    """A model's results at each step: (step x lead) matrices, and the stage entries.

    ``scored[k, i]``: lead ``i`` had a result at step ``k`` (it existed and the model applied);
    elsewhere the other matrices hold what the lead had last (stage) or nothing meaningful.
    ``tier``, ``grade`` and ``stage`` are indexes into the plan's names (-1: none).
    ``entries`` lists (lead, step, stage index) each time a lead entered a stage, the model's
    advances (through every stage between) and the CRM's forward moves alike.
    """

    plan: Plan
    lead_ids: pa.StringArray
    instants: Ints
    scored: Bools
    fit: Ints
    engagement: Ints
    score: Ints
    tier: Small
    grade: Small
    stage: Small
    entries: tuple[Ints, Ints, Ints]
    last_rule_points: dict[str, Ints]


def _attributes(
    versions: Versions, at: Ints, accounts: Accounts | None
) -> Callable[[Predicate], Bools]:
    """A step's verdicts on attribute predicates: the version in effect's, or the account's."""

    def attribute(predicate: Predicate) -> Bools:
        if fact_name(predicate.field) is not None:
            assert accounts is not None
            return accounts.verdict(predicate)
        verdict: Bools = versions.verdicts[id(predicate)][at]
        return verdict

    return attribute


class _StepFacts:
    """``EventFacts`` at one step: columns of the timeline's matrices."""

    def __init__(self, source: _Facts, step: int) -> None:
        self.source, self.step = source, step

    @property
    def size(self) -> int:
        return self.source.size

    def count(self, matcher: int | None, within: int | None) -> Ints:
        column: Ints = self.source.count(matcher, within)[self.step]
        return column

    def days_since(self, matcher: int | None) -> Ints:
        column: Ints = self.source.days_since(matcher)[self.step]
        return column


class _Facts:
    """Event counts and days since, per (step x lead), made on first use."""

    def __init__(self, prepared: Prepared, timeline: Timeline) -> None:
        self.prepared, self.timeline = prepared, timeline
        self.size = prepared.size
        # counts and days fit 32 bits: half the memory (values only ever compared)
        self._made: dict[tuple[str, int | None, int | None], Any] = {}

    def series(self, matcher: int | None) -> tuple[Series, int]:
        if matcher is None:
            return self.prepared.activity, -1
        return self.prepared.matched[matcher], matcher

    def count(self, matcher: int | None, within: int | None) -> Ints:
        key = ("count", matcher, within)
        if key not in self._made:
            series, number = self.series(matcher)
            rows = self.timeline.count(series, number, within)
            self._made[key] = self.timeline.rows.per_lead(rows).astype(np.int32)
        made: Ints = self._made[key]
        return made

    def days_since(self, matcher: int | None) -> Ints:
        key = ("days", matcher, None)
        if key not in self._made:
            series, number = self.series(matcher)
            latest = self.timeline.rows.per_lead(self.timeline.latest_day(series, number))
            none = latest == NONE_DAY
            days = self.timeline.days[:, None].astype(np.int32) - np.where(none, 0, latest)
            days[none] = s.NEVER_DAYS
            self._made[key] = days
        made: Ints = self._made[key]
        return made


def step_days(first_day: int, last_day: int, every: int) -> list[int]:
    """The UTC day numbers a backtest scores at the end of: ``first_day``, then every
    ``every`` days, up to ``last_day``."""
    return list(range(first_day, last_day + 1, every))


def replay(
    prepared: Prepared,
    versions: Versions,
    recorded: Recorded,
    days: list[int],
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Replay ``prepared``'s plan at the end of each of ``days`` (ascending UTC day numbers).
    ``progress(done, total)`` hears of each step."""
    return Replayer(prepared, versions, recorded, days).run(progress=progress)


class Replayer:
    """A replay's event-driven part, made once (engagement, event counts, days since, the
    versions in effect); ``run`` then moves the stages step by step, for the model's plan or
    for another plan with the same rules and filters that differs only in thresholds (tiers,
    grades, stage conditions' bounds): what threshold advice tries many of."""

    def __init__(
        self, prepared: Prepared, versions: Versions, recorded: Recorded, days: list[int]
    ) -> None:
        plan, size = prepared.plan, prepared.size
        self.prepared, self.versions, self.recorded = prepared, versions, recorded
        self.instants = np.array([end_of_day(day) for day in days], np.int64)
        restart = plan.restart_engagement and len(recorded.recycle_lead) > 0
        empty = np.zeros(0, np.int64)
        rows = recycle_rows(
            size,
            recorded.recycle_lead if restart else empty,
            recorded.recycle_at if restart else empty,
            self.instants,
        )
        timeline = Timeline(days, rows)
        self.facts = _Facts(prepared, timeline)
        self.engagement, self.last_rule_points = engagement_by_step(
            prepared, timeline, recorded, self.instants
        )
        self.chosen = versions.at(size, self.instants)
        self.codes = account_codes(versions.account_ids) if plan.uses_accounts else empty

    def _versions_for(self, plan: Plan) -> Versions:
        """The versions' verdicts keyed by ``plan``'s own predicates (verdicts are kept by
        predicate identity; another plan of the same rules has equal predicates, in order)."""
        mine = self.prepared.plan
        if plan is mine:
            return self.versions
        theirs, ours = lead_predicates(plan), lead_predicates(mine)
        if plan.matchers != mine.matchers or theirs != ours:
            raise ValueError("a replay runs plans that differ only in thresholds")
        verdicts = {id(p): self.versions.verdicts[id(q)] for p, q in zip(theirs, ours, strict=True)}
        return replace(self.versions, verdicts=verdicts)

    def run(
        self, plan: Plan | None = None, progress: Callable[[int, int], None] | None = None
    ) -> Replay:
        """Fit, score, tiers and stages at every step under ``plan`` (default: the prepared
        one's)."""
        plan = plan or self.prepared.plan
        versions, recorded, instants = self._versions_for(plan), self.recorded, self.instants
        size, steps = self.prepared.size, len(instants)
        shape = (steps, size)
        out_fit, out_score = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        tier, grade = np.full(shape, -1, np.int16), np.full(shape, -1, np.int16)
        stage, scored = np.full(shape, -1, np.int16), np.zeros(shape, np.bool_)
        current = recorded.start.copy()
        moves = np.searchsorted(instants, recorded.at, "left")  # the step each move precedes
        entries = _Entries(len(plan.stages))
        for step in range(steps):
            if step > 0:  # CRM stages and recycles recorded since the last step, in order
                inside = np.flatnonzero(moves == step)
                before = current.copy()
                current[recorded.lead[inside]] = recorded.stage[inside]
                entries.add(before, current, step)
            at = self.chosen[step]
            applies = at >= 0
            at = np.maximum(at, 0)
            for predicate in plan.applies_to:
                applies &= versions.verdicts[id(predicate)][at]
            now = self.engagement[step]
            accounts = None
            if plan.uses_accounts:
                ids = versions.account_ids.take(pa.array(at))
                count = _StepFacts(self.facts, step).count
                accounts = Accounts(plan, ids, self.codes[at], count, applies, now)
            attribute = _attributes(versions, at, accounts)
            fit = out_fit[step]
            for rule in plan.fit:
                holds = np.ones(size, np.bool_)
                for predicate in rule.when:
                    holds &= attribute(predicate)
                fit += np.where(holds, rule.points, 0)
            total = out_score[step]
            np.add(fit, now, out=total)
            if plan.clip is not None:
                np.clip(total, plan.clip[0], plan.clip[1], out=total)
            values = {"score": total, "fit": fit, "engagement": now}
            if plan.stages:
                facts = _StepFacts(self.facts, step)
                moved, _ = Stages(plan, facts, values, attribute).next(current)
                moved = np.where(applies, moved, current)
                if step > 0:
                    entries.add(current, moved, step)
                current = moved
                stage[step] = current
            scored[step] = applies
            tier[step] = band_indexes(total, plan.tiers)
            grade[step] = band_indexes(fit, plan.grades)
            if progress is not None:
                progress(step + 1, steps)
        return Replay(
            plan=plan,
            lead_ids=self.prepared.lead_ids,
            instants=instants,
            scored=scored,
            fit=out_fit,
            engagement=self.engagement,
            score=out_score,
            tier=tier,
            grade=grade,
            stage=stage,
            entries=entries.arrays(),
            last_rule_points=self.last_rule_points,
        )


class _Entries:
    """Each time a lead entered a stage: moving from ``low`` to ``high`` passes through
    every stage above ``low`` up to ``high`` (``semantics.stage_steps``)."""

    def __init__(self, stages: int) -> None:
        self.stages = stages
        self.found: list[tuple[Ints, Ints, Ints]] = []

    def add(self, low: Ints, high: Ints, step: int) -> None:
        moved = np.flatnonzero(high > low)
        if len(moved) == 0:
            return
        for index in range(1, self.stages):
            passed = moved[(low[moved] < index) & (index <= high[moved])]
            steps = np.full(len(passed), step, np.int64)
            self.found.append((passed, steps, np.full(len(passed), index, np.int64)))

    def arrays(self) -> tuple[Ints, Ints, Ints]:
        empty = np.zeros(0, np.int64)
        lead, step, stage = zip(*self.found, strict=True) if self.found else ((), (), ())
        return (
            np.concatenate([empty, *lead]),
            np.concatenate([empty, *step]),
            np.concatenate([empty, *stage]),
        )
