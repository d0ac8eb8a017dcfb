"""The single definition of scoring arithmetic: units, rounding, decay factors, caps and bands.

Both engines use these definitions; the batch engine's SQL is generated from the same constants
and writes the same integer formulas, so the two agree to the last milli-point.

* Points are integer **milli-points** (1 point = 1000). Sums are exact whatever the order.
* Time is integer **microseconds since the Unix epoch, UTC**. An event counts as of ``as_of``
  when its timestamp is at or before ``as_of``.
* Age is whole **UTC calendar days**: ``as_of_day - event_day`` with ``day = ts // DAY_US``.
* A decay factor is an integer in **parts per million**, looked up per age (``decay_ppm``).
* Each matching event's points are decayed and rounded on their own, half away from zero
  (``apply_factor``). For a rule with a ``daily_cap`` or a ``repeat_factor``, a day's matching
  events are summed first (with a repeat factor, each repeat earning that fraction of the one
  before: ``repeat_points``), limited to ``±daily_cap``, and that day's sum is decayed once.
* Caps limit magnitude: a rule's total, a group's total and all engagement are each clamped to
  ``[-cap, cap]``. ``clip`` clamps the final score to ``[min, max]``.
* A band (tier or grade) is the first, from the highest ``min`` down, whose ``min`` the value
  reaches; the lowest band may have no ``min`` and takes everything else.
* **Stages only move forward on their own.** With ``current`` the recorded stage's index (0
  when nothing is recorded, or the model no longer has that stage): if the current stage has
  ``withdraw`` conditions and they hold, the lead goes back to its ``withdraw.to`` stage and
  nothing else moves in that evaluation; otherwise the stage is the highest of ``current`` and
  every stage whose entry conditions hold. ``stage_reached: S`` holds when ``S``'s index is at
  most ``current`` or ``S``'s entry conditions hold.
* **A recycle** is recorded at an instant; with ``restart_engagement`` (the default) events at
  or before it count for nothing (points, counts, activity), as if the lead were new.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from leadscore._types import MILLI as MILLI  # re-exported: the engines read it here
from leadscore.spec.decay import Decay, HalfLife, Linear, NoDecay, Steps

#: One lead's value (an int, or a bool) or every lead's (a numpy array): the definitions below
#: that take an ``N`` are written once for both, the incremental engine giving ints and the
#: batch engine arrays.
N = TypeVar("N")

PPM = 1_000_000
DAY_US = 86_400 * 1_000_000
#: Days since an event that never happened: larger than any real age, so "more than N days
#: since" holds and "at most N days since" does not.
NEVER_DAYS = 1_000_000_000


def to_milli(points: float) -> int:
    """Points as integer milli-points (the spec allows at most three decimals)."""
    return round(points * MILLI)


def day_of(ts_us: int) -> int:
    """The UTC calendar day number of a timestamp in microseconds."""
    return ts_us // DAY_US


def decay_ppm(decay: Decay | None, age_days: int) -> int:
    """The decay factor for an age, in parts per million (1,000,000 = full points)."""
    if decay is None or isinstance(decay, NoDecay):
        factor = 1.0
    elif isinstance(decay, HalfLife):
        factor = 0.5 ** (age_days / decay.days)
    elif isinstance(decay, Linear):
        factor = max(decay.floor, 1.0 - decay.rate * (age_days // decay.period_days))
    elif isinstance(decay, Steps):
        factor = decay.otherwise
        for step in decay.steps:
            if age_days <= step.max_age_days:
                factor = step.factor
                break
    else:  # pragma: no cover - the spec's union is closed
        raise TypeError(f"unknown decay {decay!r}")
    return round(factor * PPM)


def apply_factor(milli: N, ppm: N | int) -> N:
    """Scale milli-points by a ppm factor, rounding half away from zero: one lead's (ints) or
    every lead's at once (numpy arrays, element by element).

    Examples:
        >>> apply_factor(1_500, 500_000), apply_factor(-1_500, 500_000)  # 0.75 each way
        (750, -750)
        >>> apply_factor(1, 500_000), apply_factor(-1, 500_000)  # a half rounds away from 0
        (1, -1)
    """
    value: Any = milli  # an int or an array: the same operators on both
    result: N = (1 - 2 * (value < 0)) * ((abs(value) * ppm + PPM // 2) // PPM)
    return result


def within(age_days: N, within_days: int) -> N:
    """Whether an event ``age_days`` old counts for a rule or a condition that looks at the
    last ``within_days`` days: today's events are 0 days old, so ``within_days: 7`` counts
    eight calendar days, today and the seven before. For one age (a bool) or many (an
    array of them).

    Examples:
        >>> within(7, 7), within(8, 7)
        (True, False)
    """
    age: Any = age_days
    inside: N = age <= within_days
    return inside


def clamp(value: int, cap: int | None) -> int:
    """Limit a magnitude to ``cap`` (no limit when ``cap`` is None)."""
    if cap is None:
        return value
    return max(-cap, min(cap, value))


def clip(value: int, low: int | None, high: int | None) -> int:
    """Clamp the final score into ``[low, high]`` when the model clips."""
    if low is None or high is None:
        return value
    return max(low, min(high, value))


def day_points(
    count: int, points: int, daily_cap: int | None, repeat_ppm: int | None = None
) -> int:
    """Undecayed milli-points of ``count`` matching events on one day: ``count x points``,
    or with a ``repeat_factor`` the diminishing series (``repeat_points``); then the daily
    cap."""
    raw = count * points if repeat_ppm is None else repeat_points(points, repeat_ppm, count)
    return clamp(raw, daily_cap)


def repeat_points(points: int, repeat_ppm: int, count: int) -> int:
    """Milli-points of ``count`` events on one day when each repeat is worth ``repeat_ppm``
    of the one before, each step rounded (``apply_factor``): the first earns ``points``, the
    second ``apply_factor(points, repeat_ppm)``, and so on. Once a step no longer changes the
    value (1 milli-point at a factor of one half and more) every further event earns that.

    Examples:
        >>> repeat_points(10_000, 500_000, 3)  # 10 + 5 + 2.5
        17500
        >>> repeat_points(1, 500_000, 1_000_000)  # 1 milli-point each: it never halves to 0
        1000000
    """
    total, each = 0, points
    for done in range(count):
        following = apply_factor(each, repeat_ppm)
        total += each
        if following == each:  # a fixed point (0 included): the rest earn the same
            return total + each * (count - done - 1)
        each = following
    return total


def repeat_table(points: int, repeat_ppm: int) -> tuple[list[int], int]:
    """``repeat_points`` for every count at once: the cumulative sums up to the step that no
    longer changes (``table[n]`` for ``n`` events), and what each event past it earns, so a
    day of ``n`` events is ``table[n]`` or ``table[-1] + (n - len(table) + 1) x tail``."""
    table, each = [0], points
    while True:
        following = apply_factor(each, repeat_ppm)
        if following == each:
            return table, each
        table.append(table[-1] + each)
        each = following


def next_stage(current: int, entered: Sequence[bool], withdrawn: bool, withdraw_to: int) -> int:
    """The stage index after one evaluation (see the module docstring).

    ``entered[k]`` says whether stage ``k``'s entry conditions hold (index 0 is ignored: the
    entry stage has none).

    Examples:
        >>> next_stage(1, [True, False, False], False, 0)  # an MQL whose conditions lapsed
        1
        >>> next_stage(0, [True, True, True], False, 0)
        2
        >>> next_stage(1, [True, True, True], True, 0)  # withdrawn: no advance in that run
        0
    """
    if withdrawn:
        return withdraw_to
    reached = [index for index, holds in enumerate(entered) if index > 0 and holds]
    return max([current, *reached])


def stage_steps(
    names: Sequence[str], previous: str, stage: str, transition: str
) -> list[tuple[str, str]]:
    """The (from, to) steps a stage change is recorded and announced as: an advance passes
    through every stage between, each one step (a lead that jumps from Lead to SQL was an MQL
    on the way, and MQL reports and subscribers must hear of it); a withdraw is one step back.

    Examples:
        >>> stage_steps(["Lead", "MQL", "SQL"], "Lead", "SQL", "advance")
        [('Lead', 'MQL'), ('MQL', 'SQL')]
        >>> stage_steps(["Lead", "MQL", "SQL"], "SQL", "Lead", "withdraw")
        [('SQL', 'Lead')]
    """
    if transition == "advance" and previous in names and stage in names:
        path = names[names.index(previous) : names.index(stage) + 1]
        if len(path) > 1:
            return list(itertools.pairwise(path))
    return [(previous, stage)]


def ranking(score: int, fit: int, engagement: int) -> tuple[int, int]:
    """Where a lead ranks, highest first: by score, then by the unclipped total (fit plus
    engagement), so leads the clip puts at 100 still come in order of how far past it they
    are (a list whose top ten all read 100 ranks nothing otherwise).

    Examples:
        >>> sorted([ranking(100_000, 40_000, 70_000), ranking(100_000, 50_000, 90_000)])[-1]
        (100000, 140000)
    """
    return score, fit + engagement


def priority(
    grade: str | None, value: int, bands: Sequence[tuple[str, float | None]]
) -> str | None:
    """The grade x band matrix value (Pardot's ``A1``): the grade, then the band ``value``
    (milli-points of engagement or score) reaches; None without a grade or a band.

    Examples:
        >>> priority("A", 62_000, [("1", 75_000), ("2", 50_000), ("3", None)])
        'A2'
        >>> priority(None, 62_000, [("1", 75_000), ("2", None)]) is None
        True
    """
    reached = band(value, bands)
    return None if grade is None or reached is None else f"{grade}{reached}"


def band(value: int, bands: Sequence[tuple[str, float | None]]) -> str | None:
    """The band reached by a milli-point value; bands are (name, min in milli-points)."""
    for name, minimum in bands:
        if minimum is None or value >= minimum:
            return name
    return None


class _Rule(Protocol):
    @property
    def group(self) -> int | None: ...


class _Group(Protocol):
    @property
    def cap(self) -> int | None: ...
    @property
    def daily_cap(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class GroupSum(Generic[N]):
    """A rule group's points: its rules' points added (each after its own cap), what its
    ``daily_cap`` makes of them (the same without one), and that limited to its ``cap``."""

    rules: N
    by_day: N
    capped: N


@dataclass(frozen=True, slots=True)
class EngagementSum(Generic[N]):
    """Engagement before and after the ``engagement_cap``, and each group's part."""

    groups: dict[int, GroupSum[N]]
    total: N
    capped: N


def engagement_sum(
    rules: Sequence[_Rule],
    groups: Sequence[_Group],
    engagement_cap: int | None,
    points: Sequence[N],
    group_by_day: Callable[[int], N],
    clamp: Callable[[N, int | None], N],
    zero: N,
) -> EngagementSum[N]:
    """How rule points add up to engagement, for one lead (ints) or every lead (arrays).

    ``points`` are the rules' decayed points after each rule's own cap, in ``rules``' order.
    A rule outside any group adds its points as they are. A group's rules are added; with a
    group ``daily_cap`` that sum is replaced by ``group_by_day(group)`` (the rules' undecayed
    points added per day, each day limited to the daily cap and decayed once); the group is
    then limited to its ``cap``. The whole is limited to ``engagement_cap``. A group without
    rules adds nothing. ``clamp`` is ``semantics.clamp`` or its array form.
    """
    total: Any = zero  # ints or arrays: + is the same on both
    added: dict[int, Any] = {}
    for rule, value in zip(rules, points, strict=True):
        if rule.group is None:
            total = total + value
        else:
            before = added.get(rule.group)
            added[rule.group] = value if before is None else before + value
    sums: dict[int, GroupSum[N]] = {}
    for index in sorted(added):
        group = groups[index]
        by_day = added[index] if group.daily_cap is None else group_by_day(index)
        sums[index] = GroupSum(added[index], by_day, clamp(by_day, group.cap))
        total = total + sums[index].capped
    return EngagementSum(sums, total, clamp(total, engagement_cap))
