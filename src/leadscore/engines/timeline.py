"""Event-driven facts of every lead at every step of a backtest, computed once for all steps.

Scoring each day of a year with the batch engine repeats the same work 365 times: the events
of day ``d`` contribute ``g(T - d)`` at every later step ``T``, where ``g`` is a rule's
points decayed by age (zero past its window). So each rule becomes a (lead, day) histogram,
and every step's points are one product with a (day x step) table of ``g``: a sparse matrix
times a small dense one, exact in integers. Daily caps and repeat factors keep the
histogram's values apart by what a day sums to (``apply_factor`` rounds per day); ``once``
rules and "days since" read each lead's latest day per step, a running maximum.

**Steps are the ends of UTC days** (``end_of_day``), so a day's events are either all in or
all out of a step; a recycle, at any instant, is handled by giving the lead a second row that
holds only the events after it (``Rows``), which the steps on and after it read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse

from leadscore.engines import semantics as s
from leadscore.engines.arrays import clamp, day_sums, runs
from leadscore.engines.plan import RuleStep
from leadscore.engines.prepared import Ints, Series
from leadscore.spec.decay import Decay, HalfLife, Linear, NoDecay, Steps

NONE_DAY = np.iinfo(np.int32).min
Days = npt.NDArray[np.int32]
#: A rule whose days sum to more distinct values than this is scored step by step instead of
#: one table per value (each table costs a pass over the days).
MAX_VALUE_TABLES = 48
#: The longest a half-life's factor is followed before it reaches zero (in half-lives: 0.5^22
#: rounds to 0 parts per million).
HALF_LIVES_TO_ZERO = 22


def end_of_day(day: int) -> int:
    """The last microsecond of a UTC day: the instant a backtest step scores as of."""
    return (day + 1) * s.DAY_US - 1


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows facts are computed on: one per lead, and one per recycle holding only the
    events after it (engagement restarts there). ``at[k, lead]`` is the row step ``k`` reads;
    None when nothing was recycled (every lead reads its own row). Matrices here are
    (step x row), so that one step's values lie together."""

    size: int  # leads
    recycle_lead: Ints  # per recycle row, its lead (sorted by lead, then instant)
    recycle_at: Ints
    at: Ints | None

    @property
    def count(self) -> int:
        return self.size + len(self.recycle_lead)

    def expand(self, series: Series) -> tuple[Ints, Ints]:
        """(row, ts) of the events: every event on its lead's row, and again on each of its
        lead's recycle rows whose recycle came before it; sorted by (row, ts)."""
        rows, stamps = [series.lead.astype(np.int64)], [series.ts]
        if len(self.recycle_lead):
            starts = np.searchsorted(series.lead, self.recycle_lead, "left")
            ends = np.searchsorted(series.lead, self.recycle_lead, "right")
            for j, (start, end) in enumerate(zip(starts, ends, strict=True)):
                stamps_of = series.ts[start:end]
                after = stamps_of[stamps_of > self.recycle_at[j]]
                rows.append(np.full(len(after), self.size + j, np.int64))
                stamps.append(after)
        return np.concatenate(rows), np.concatenate(stamps)

    def per_lead(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A (step x row) matrix read per (step x lead)."""
        if self.at is None:
            return values
        return np.take_along_axis(values, self.at, axis=1)


def recycle_rows(size: int, lead: Ints, at: Ints, instants: Ints) -> Rows:
    """``Rows`` for recycles (lead index, instant); ``instants`` are the steps, ascending."""
    if len(lead) == 0:
        return Rows(size, lead, at, None)
    order = np.lexsort((at, lead))
    lead, at = lead[order], at[order]
    row_at = np.tile(np.arange(size, dtype=np.int64)[None, :], (len(instants), 1))
    first = np.searchsorted(instants, at, "left")  # the first step at or after the recycle
    inside = first < len(instants)
    # in (lead, instant) order, so a later recycle landing on the same step overwrites
    row_at[first[inside], lead[inside]] = size + np.flatnonzero(inside)
    np.maximum.accumulate(row_at, axis=0, out=row_at)  # recycle rows number past leads
    return Rows(size, lead, at, row_at)


def constant_from(decay: Decay | None) -> int:
    """An age from which ``decay_ppm`` no longer changes: older days all weigh the same."""
    if decay is None or isinstance(decay, NoDecay):
        return 0
    if isinstance(decay, Steps):
        return max((step.max_age_days for step in decay.steps), default=0) + 1
    if isinstance(decay, Linear):
        if decay.rate <= 0:
            return 0
        periods = int(np.ceil((1.0 - decay.floor) / decay.rate)) + 1
        return periods * decay.period_days
    assert isinstance(decay, HalfLife)
    age = int(np.ceil(decay.days * HALF_LIVES_TO_ZERO))
    while s.decay_ppm(decay, age) != 0:  # pragma: no cover - 22 half-lives always reach 0
        age *= 2
    return age


class Timeline:
    """Per (step x row) matrices of one model's event facts, for steps at ``days``' ends."""

    def __init__(self, days: Sequence[int], rows: Rows) -> None:
        self.days = np.asarray(days, np.int64)
        self.rows = rows
        self._entries: dict[tuple[int, int], tuple[Ints, Ints, Ints]] = {}

    def day_counts(self, series: Series, matcher: int) -> tuple[Ints, Ints, Ints]:
        """(row, day, events that day) for the days up to the last step, sorted."""
        key = (id(series), matcher)
        if key not in self._entries:
            row, ts = self.rows.expand(series)
            day = ts // s.DAY_US
            keep = day <= self.days[-1]
            row, day = row[keep], day[keep]
            starts = runs([row, day])
            counts = np.diff(np.r_[starts, len(row)])
            self._entries[key] = (row[starts], day[starts], counts)
        return self._entries[key]

    def convolve(
        self, row: Ints, day: Ints, weight: Ints, kernel: Callable[[Ints], Ints], settles: int
    ) -> Ints:
        """``sum over entries of weight x kernel(step day - day)`` per (step x row), for the
        entries on or before each step. ``kernel`` gives milli-points per age and is constant
        from age ``settles`` on, so older days are folded together."""
        floor = int(self.days[0]) - settles
        column = np.maximum(day, floor) - floor
        width = int(self.days[-1]) - floor + 1
        matrix = sparse.csr_matrix(
            (weight, (row, column)), shape=(self.rows.count, width), dtype=np.int64
        )
        ages = self.days[None, :] - (floor + np.arange(width, dtype=np.int64))[:, None]
        table = np.where(ages >= 0, kernel(np.maximum(ages, 0)), 0).astype(np.int64)
        product: Ints = np.ascontiguousarray(np.asarray(matrix @ table, dtype=np.int64).T)
        return product

    def latest_day(self, series: Series, matcher: int, within: int | None = None) -> Days:
        """Per (step x row), the latest day with an event up to the step (``NONE_DAY``: none,
        or none within the last ``within`` days)."""
        row, day, _ = self.day_counts(series, matcher)
        step = np.searchsorted(self.days, day, "left")
        latest = np.full((len(self.days), self.rows.count), NONE_DAY, np.int32)
        latest[step, row] = day  # sorted by (row, day): the latest day of a step wins
        np.maximum.accumulate(latest, axis=0, out=latest)
        if within is not None:
            latest[~s.within(self.days[:, None] - latest, within)] = NONE_DAY
        return latest

    def count(self, series: Series, matcher: int, within: int | None) -> Ints:
        """Events per (step x row), all or within the last ``within`` days."""
        row, day, counts = self.day_counts(series, matcher)

        def inside(ages: Ints) -> Ints:
            return np.ones_like(ages) if within is None else s.within(ages, within).astype(np.int64)

        return self.convolve(row, day, counts, inside, 0 if within is None else within + 1)

    def rule_points(self, series: Series, rule: RuleStep) -> Ints | None:
        """One rule's decayed milli-points per (step x row), before its cap; None when its
        days take too many distinct values for tables (score it step by step instead)."""
        row, day, counts = self.day_counts(series, rule.matcher)
        # past its window a rule's points are 0 whatever the decay, and not before
        settles = constant_from(rule.decay) if rule.within_days is None else rule.within_days + 1

        def table(value: int) -> Callable[[Ints], Ints]:
            def points(ages: Ints) -> Ints:
                ppm = np.array([s.decay_ppm(rule.decay, int(a)) for a in range(ages.max() + 1)])
                each = s.apply_factor(np.full(len(ppm), value, np.int64), ppm.astype(np.int64))
                each = each[ages]
                if rule.within_days is not None:
                    each = np.where(s.within(ages, rule.within_days), each, 0)
                return each

            return points

        if rule.once:  # the latest day's points, by its age (all alike from ``settles`` on)
            latest = self.latest_day(series, rule.matcher, rule.within_days)
            one = s.day_points(1, rule.points, rule.daily_cap, rule.repeat_ppm)
            none = latest == NONE_DAY
            ages = self.days[:, None].astype(np.int32) - np.where(none, 0, latest)
            np.minimum(ages, settles, out=ages)
            ages[none] = settles + 1
            by_age = table(one)(np.arange(settles + 2, dtype=np.int64))
            by_age[settles + 1] = 0  # no event: no points
            once: Ints = by_age[ages]
            return once
        if not rule.by_day:
            return self.convolve(row, day, counts, table(rule.points), settles)
        values = clamp(day_sums(counts, rule.points, rule.repeat_ppm), rule.daily_cap)
        distinct = np.unique(values)
        if len(distinct) > MAX_VALUE_TABLES:
            return None
        total = np.zeros((len(self.days), self.rows.count), np.int64)
        for value in distinct:
            chosen = values == value
            ones = np.ones(int(chosen.sum()), np.int64)
            total += self.convolve(row[chosen], day[chosen], ones, table(int(value)), settles)
        return total
