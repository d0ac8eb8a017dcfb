"""The batch engine's second phase: score a ``Prepared`` as of an instant, with numpy.

Every lead is an index into dense arrays, and each rule walks only the events its filter
matched, sorted by (lead, timestamp): per-lead sums are ``np.add.reduceat`` over runs, a
rule's daily cap works on (lead, day) runs, and "latest event" is the last element of a run.
The arithmetic is ``semantics``' integer arithmetic written over arrays; the property tests
hold it to the incremental engine to the milli-point.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engines import semantics as s
from leadscore.engines.arrays import (
    NO_DAY,
    band_indexes,
    clamp,
    day_sums,
    last_per_lead,
    names_at,
    per_lead_sum,
    runs,
)
from leadscore.engines.batch_stages import Stages
from leadscore.engines.plan import Plan, RuleStep
from leadscore.engines.prepared import Bools, Ints, Prepared, Series
from leadscore.spec.accounts import fact_name
from leadscore.spec.decay import Decay
from leadscore.spec.predicates import Predicate

#: From this many events rules are scored on every core; below, starting the threads costs
#: more than they save (a service round scores a few leads).
THREADS_FROM_EVENTS = 200_000


class Lifecycle:
    """The recorded stage and last recycle of each lead, as arrays over the lead index."""

    def __init__(self, plan: Plan, prepared: Prepared, table: pa.Table | None) -> None:
        size = prepared.size
        self.current = np.zeros(size, np.int64)
        self.recycled_at: Ints | None = None
        self.previous = pa.nulls(size, pa.string())
        if table is None or table.num_rows == 0:
            return
        where = pc.index_in(table["lead_id"], value_set=prepared.lead_ids)
        known = where.is_valid().to_numpy(zero_copy_only=False)
        rows = where.fill_null(0).to_numpy()[known].astype(np.int64)
        stages = table["stage"].to_pylist()
        indexes = np.array([plan.stage_index(name) for name in stages], np.int64)
        self.current[rows] = indexes[known]
        previous = np.full(size, None, dtype=object)
        previous[rows] = np.array(stages, dtype=object)[known]
        self.previous = pa.array(previous, pa.string())
        given = known & table["recycled_at"].is_valid().to_numpy(zero_copy_only=False)
        if plan.restart_engagement and given.any():
            self.recycled_at = np.full(size, np.iinfo(np.int64).min, np.int64)
            at = table["recycled_at"].fill_null(0).to_numpy()
            self.recycled_at[where.fill_null(0).to_numpy()[given]] = at[given]


class ScoringRun:
    """One scoring run: the prepared arrays as of ``as_of`` after the recycle cut."""

    def __init__(self, prepared: Prepared, as_of: int, lifecycle: Lifecycle) -> None:
        self.prepared = prepared
        self.plan = prepared.plan
        self.size = prepared.size
        self.as_of = as_of
        self.day = s.day_of(as_of)
        self.lifecycle = lifecycle
        self._series: dict[int | None, tuple[Series, Ints]] = {}
        self._ppm: dict[int, Ints] = {}
        self._span: tuple[int, int] | None = None
        self._facts: dict[tuple[str, int | None, int | None], Ints] = {}

    def events(self, matcher: int | None) -> tuple[Series, Ints]:
        """The events of ``matcher`` (None: all) that count now, and their days."""
        if matcher not in self._series:
            raw = self.prepared.activity if matcher is None else self.prepared.matched[matcher]
            keep = raw.ts <= self.as_of
            if self.lifecycle.recycled_at is not None:
                keep &= raw.ts > self.lifecycle.recycled_at[raw.lead]
            series = raw if keep.all() else Series(raw.lead[keep], raw.ts[keep])
            self._series[matcher] = (series, series.ts // s.DAY_US)
        return self._series[matcher]

    def ages_span(self) -> tuple[int, int]:
        """The youngest and oldest age any event can have now: the decay tables cover only
        these (an instant centuries ahead must not build a table of every day between)."""
        if self._span is None:
            stamps = self.prepared.activity.ts
            if len(stamps) == 0:
                self._span = (0, 0)
            else:
                first, last = int(stamps.min()) // s.DAY_US, int(stamps.max()) // s.DAY_US
                self._span = (max(self.day - last, 0), max(self.day - first, 0))
        return self._span

    def ppm_table(self, decay: Decay | None) -> Ints:
        """``decay_ppm`` for every age in ``ages_span``, from the youngest."""
        key = self.plan.decays.index(decay) if decay in self.plan.decays else -1
        if key not in self._ppm:
            young, old = self.ages_span()
            ages = range(young, old + 1)
            self._ppm[key] = np.array([s.decay_ppm(decay, age) for age in ages], np.int64)
        return self._ppm[key]

    def ppm(self, decay: Decay | None, ages: Ints) -> Ints:
        table: Ints = self.ppm_table(decay)[ages - self.ages_span()[0]]
        return table

    def rule_points(self, rule: RuleStep) -> Ints:
        """Each lead's decayed points from one rule, before the rule's cap."""
        series, days = self.events(rule.matcher)
        lead, ages = series.lead, self.day - days
        if rule.within_days is not None:
            inside = s.within(ages, rule.within_days)
            lead, ages, days = lead[inside], ages[inside], days[inside]
        if rule.once:
            last = last_per_lead(lead, days, self.size)
            seen = last != NO_DAY
            one = s.day_points(1, rule.points, rule.daily_cap, rule.repeat_ppm)
            out = np.zeros(self.size, np.int64)
            ppm = self.ppm(rule.decay, self.day - last[seen])
            out[seen] = s.apply_factor(np.full(int(seen.sum()), one, np.int64), ppm)
            return out
        if not rule.by_day:
            table = self.ppm_table(rule.decay)
            by_age = s.apply_factor(np.full(len(table), rule.points, np.int64), table)
            return per_lead_sum(lead, by_age[ages - self.ages_span()[0]], self.size)
        starts = runs([lead, days])
        counts = np.diff(np.r_[starts, len(lead)])
        day_total = clamp(day_sums(counts, rule.points, rule.repeat_ppm), rule.daily_cap)
        each = s.apply_factor(day_total, self.ppm(rule.decay, ages[starts]))
        return per_lead_sum(lead[starts], each, self.size)

    def rule_days(self, rule: RuleStep) -> tuple[Ints, Ints, Ints]:
        """One rule's undecayed points per (lead, day) that has any: lead, day, points
        (``semantics.day_points``; for ``once``, the lead's latest event's day)."""
        series, days = self.events(rule.matcher)
        lead = series.lead
        if rule.within_days is not None:
            inside = s.within(self.day - days, rule.within_days)
            lead, days = lead[inside], days[inside]
        if rule.once:
            last = last_per_lead(lead, days, self.size)
            seen = np.flatnonzero(last != NO_DAY)
            one = s.day_points(1, rule.points, rule.daily_cap, rule.repeat_ppm)
            return seen.astype(np.int64), last[seen], np.full(len(seen), one, np.int64)
        starts = runs([lead, days])
        counts = np.diff(np.r_[starts, len(lead)])
        day_total = clamp(day_sums(counts, rule.points, rule.repeat_ppm), rule.daily_cap)
        return lead[starts].astype(np.int64), days[starts], day_total

    def group_points(self, group: int) -> Ints:
        """Each lead's points from a group with a ``daily_cap``: its rules' day points added
        per (lead, day), limited to the daily cap, each day's sum decayed once by the
        group's decay (its rules have no decay of their own)."""
        members = [rule for rule in self.plan.rules if rule.group == group]
        parts = [self.rule_days(rule) for rule in members]
        lead = np.concatenate([p[0] for p in parts])
        days = np.concatenate([p[1] for p in parts])
        values = np.concatenate([p[2] for p in parts])
        order = np.lexsort((days, lead))
        lead, days, values = lead[order], days[order], values[order]
        starts = runs([lead, days])
        if len(starts) == 0:
            return np.zeros(self.size, np.int64)
        summed = clamp(np.add.reduceat(values, starts), self.plan.groups[group].daily_cap)
        each = s.apply_factor(summed, self.ppm(members[0].decay, self.day - days[starts]))
        return per_lead_sum(lead[starts].astype(np.int32), each, self.size)

    def engagement(self) -> Ints:
        plan = self.plan
        matchers = sorted({rule.matcher for rule in plan.rules})
        if len(self.prepared.activity.ts) < THREADS_FROM_EVENTS:
            for matcher in matchers:
                self.events(matcher)
            points = [self.rule_points(rule) for rule in plan.rules]
        else:  # numpy releases the GIL in its loops: rules run side by side on every core
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                list(pool.map(self.events, matchers))
                points = list(pool.map(self.rule_points, plan.rules))
        summed = s.engagement_sum(
            plan.rules,
            plan.groups,
            plan.engagement_cap,
            [clamp(raw, rule.cap) for rule, raw in zip(plan.rules, points, strict=True)],
            self.group_points,
            clamp,
            np.zeros(self.size, np.int64),
        )
        return summed.capped

    def count(self, matcher: int | None, within: int | None) -> Ints:
        key = ("count", matcher, within)
        if key not in self._facts:
            series, days = self.events(matcher)
            lead = series.lead
            if within is not None:
                lead = lead[s.within(self.day - days, within)]
            self._facts[key] = np.bincount(lead, minlength=self.size).astype(np.int64)
        return self._facts[key]

    def days_since(self, matcher: int | None) -> Ints:
        key = ("days", matcher, None)
        if key not in self._facts:
            series, days = self.events(matcher)
            last = last_per_lead(series.lead, days, self.size)
            self._facts[key] = np.where(last == NO_DAY, s.NEVER_DAYS, self.day - last)
        return self._facts[key]


def account_codes(ids: pa.Array) -> Ints:
    """A number per account, and one of its own for each lead without an account id (an
    account of its own)."""
    encoded = pc.dictionary_encode(ids)
    codes: Ints = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    solo = codes < 0
    codes[solo] = len(encoded.dictionary) + np.arange(int(solo.sum()))
    return codes


class Accounts:
    """Account facts of the leads the model applies to, and verdicts on them: ``ids`` and
    ``codes`` (``account_codes``) per lead, ``count`` the lead's events of a filter."""

    def __init__(
        self,
        plan: Plan,
        ids: pa.Array,
        codes: Ints,
        count: Callable[[int | None, int | None], Ints],
        members: Bools,
        engagement: Ints,
    ) -> None:
        buckets = int(codes.max()) + 1 if len(codes) else 0
        inside = codes[members]

        def per_account(weights: npt.NDArray[np.generic] | None) -> Ints:
            sums: Ints = np.rint(np.bincount(inside, weights, buckets)).astype(np.int64)
            spread: Ints = sums[codes]
            return spread

        self.facts: dict[str, object] = {
            "id": ids,
            "leads": per_account(None),
            "engaged_leads": per_account((engagement[members] >= plan.engaged_min) * 1.0),
            "engagement": per_account(engagement[members].astype(np.float64)),
        }
        for name, matcher in plan.account_counts:
            has = count(matcher, None)[members] > 0
            self.facts[name] = per_account(has * 1.0)
        self._verdicts: dict[int, Bools] = {}

    def verdict(self, predicate: Predicate) -> Bools:
        """The predicate on each lead's account fact, judged once per distinct value."""
        key = id(predicate)
        if key not in self._verdicts:
            fact = fact_name(predicate.field)
            assert fact is not None
            values = self.facts[fact]
            if isinstance(values, pa.Array):
                encoded = pc.dictionary_encode(values)
                judged = [predicate.test(v) for v in encoded.dictionary.to_pylist()]
                picks = encoded.indices.fill_null(len(judged)).to_numpy().astype(np.int64)
                table = np.array([*judged, predicate.test(None)], np.bool_)
                self._verdicts[key] = table[picks]
            else:
                assert isinstance(values, np.ndarray)
                distinct, inverse = np.unique(values, return_inverse=True)
                scale = s.MILLI if fact == "engagement" else 1
                judged = [
                    predicate.test(int(v) / scale if scale != 1 else int(v)) for v in distinct
                ]
                self._verdicts[key] = np.array(judged, np.bool_)[inverse]
        return self._verdicts[key]


def score_prepared(prepared: Prepared, as_of: int, lifecycle: pa.Table | None) -> pa.Table:
    """Fit, engagement, score, tier, grade and stage of every lead the model applies to."""
    plan = prepared.plan
    cycle = Lifecycle(plan, prepared, lifecycle)
    scorer = ScoringRun(prepared, as_of, cycle)
    size = prepared.size
    applies = np.ones(size, np.bool_)
    for predicate in plan.applies_to:
        applies &= prepared.verdicts[id(predicate)]
    engagement = scorer.engagement()
    accounts = (
        Accounts(
            plan,
            prepared.account_ids,
            account_codes(prepared.account_ids),
            scorer.count,
            applies,
            engagement,
        )
        if plan.uses_accounts
        else None
    )

    def attribute(predicate: Predicate) -> Bools:
        if fact_name(predicate.field) is not None:
            assert accounts is not None
            return accounts.verdict(predicate)
        return prepared.verdicts[id(predicate)]

    fit = np.zeros(size, np.int64)
    for rule in plan.fit:
        holds = np.ones(size, np.bool_)
        for predicate in rule.when:
            holds &= attribute(predicate)
        fit += np.where(holds, rule.points, 0)
    score = fit + engagement
    if plan.clip is not None:
        score = np.clip(score, plan.clip[0], plan.clip[1])
    values = {"score": score, "fit": fit, "engagement": engagement}
    stage, withdrawn = Stages(plan, scorer, values, attribute).next(cycle.current)
    transition = np.where(withdrawn, 1, np.where(stage > cycle.current, 0, -1))
    everyone = bool(applies.all())
    keep = np.flatnonzero(applies)

    def kept(column: pa.Array) -> pa.Array:
        return column if everyone else column.take(keep)

    return pa.table(
        {
            "lead_id": kept(prepared.lead_ids),
            "account_id": kept(prepared.account_ids),
            "model": pa.array([plan.model] * len(keep), pa.string()),
            "fit": fit[keep],
            "engagement": engagement[keep],
            "score": score[keep],
            "tier": names_at([n for n, _ in plan.tiers], band_indexes(score, plan.tiers)[keep]),
            "grade": names_at([n for n, _ in plan.grades], band_indexes(fit, plan.grades)[keep]),
            "stage": names_at([st.name for st in plan.stages], stage[keep]),
            "previous_stage": kept(cycle.previous),
            "transition": names_at(["advance", "withdraw"], transition[keep]),
        }
    )
