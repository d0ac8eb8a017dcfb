"""Threshold advice: the hand-over stage's score threshold that would have handed sales about
their agreed number of leads a week over a period, catching the most later conversions, and
tier cut-offs to go with it; written as a candidate model that keeps the file's comments and
layout and differs only in those numbers.

Each threshold tried is a backtest (``Replayer.run``: the event-driven part is made once, only
the stages move again). Fewer leads pass a higher threshold, so the search halves the range;
the lowest threshold within capacity is the one that hands over, and so catches, the most.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML

from leadscore._types import MILLI
from leadscore.app.backtest import backtest_days, replayers
from leadscore.app.backtest_metrics import first_conversions, handover_index, measure
from leadscore.engines.plan import compile_plan
from leadscore.errors import InputError
from leadscore.spec import conditions as c
from leadscore.spec.model import ScoringModel
from leadscore.store.outcomes import outcomes_arrow
from leadscore.store.store import Store

#: Thresholds are tried in whole points.
MAX_TRIALS = 40


@dataclass(frozen=True, slots=True)
class Trial:
    """What one threshold would have done over the period."""

    threshold: float
    per_week: float
    handed_over: int
    converted: int  # of those, converted within the horizon
    conversions: int  # conversions in the period
    conversions_handed_over: int

    @property
    def precision(self) -> float | None:
        return self.converted / self.handed_over if self.handed_over else None

    @property
    def recall(self) -> float | None:
        return self.conversions_handed_over / self.conversions if self.conversions else None


@dataclass(frozen=True, slots=True)
class Advice:
    """The threshold proposed for ``stage`` and what it and its neighbours would have done."""

    model: str
    stage: str
    stage_index: int
    bound: str  # "gte" or "gt": how the stage's condition reads the threshold
    capacity: float  # leads a week
    weeks: float
    current: Trial
    proposed: Trial
    too_few: bool  # even the lowest threshold hands over fewer than the capacity
    too_many: bool  # even a threshold above every score hands over more (CRM stages do)
    warm: float | None  # where a doubled capacity would cut (the second tier's minimum)
    neighbours: list[Trial] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Threshold:
    """Where a stage's score threshold sits in the model: the stage's index, the path to the
    condition inside its ``when`` (keys and list indexes), and the bound's key."""

    stage: int
    path: tuple[str | int, ...]
    bound: str
    value: float


def find_threshold(scoring_model: ScoringModel, stage: int) -> Threshold:
    """The score threshold of a stage's entry conditions: its ``when`` is a score condition,
    or an ``all`` holding one (the first; ``gte`` or ``gt``)."""
    found = _locate(scoring_model, stage)
    if found is not None:
        return found
    having = [
        s.name
        for i, s in enumerate(scoring_model.stages)
        if i > 0 and _locate(scoring_model, i) is not None
    ]
    hint = f"; stages with one: {', '.join(having)} (--stage)" if having else ""
    raise InputError(
        f"stage {scoring_model.stages[stage].name!r} of model {scoring_model.name!r} has no "
        "score threshold in its entry conditions (a 'score' condition with gte or gt, alone "
        f"or in an 'all'){hint}"
    )


def _locate(scoring_model: ScoringModel, stage: int) -> Threshold | None:
    entry = scoring_model.stages[stage]
    candidates: list[tuple[tuple[str | int, ...], c.Condition]] = []
    if entry.when is not None:
        candidates.append(((), entry.when))
        if isinstance(entry.when, c.All):
            candidates += [(("all", i), node) for i, node in enumerate(entry.when.all)]
    for path, node in candidates:
        if isinstance(node, c.ScoreAtLeast) and node.of == "score":
            for bound in ("gte", "gt"):
                value = getattr(node, bound)
                if value is not None:
                    return Threshold(stage, path, bound, float(value))
    return None


def with_threshold(scoring_model: ScoringModel, where: Threshold, value: float) -> ScoringModel:
    """The model with the stage's threshold set to ``value`` (points)."""
    document = scoring_model.model_dump(by_alias=True, exclude_unset=True)
    node = document["stages"][where.stage]["when"]
    for key in where.path:
        node = node[key]
    node[where.bound] = value
    return ScoringModel.model_validate(document)


def advise(
    store: Store,
    scoring_model: ScoringModel,
    capacity: float,
    start: int,
    end: int,
    *,
    every_days: int = 1,
    horizon_days: int = 90,
    stage: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Advice:
    """The threshold for the hand-over stage (``stage``, default the second) that hands over
    at most ``capacity`` leads a week over ``start``..``end`` with the most conversions."""
    if capacity <= 0 or not math.isfinite(capacity):
        raise InputError("the capacity must be a positive number of leads a week (50/week)")
    days = backtest_days(start, end, every_days)
    weeks = len(days) * every_days / 7
    replayer = next(replayers(store, [scoring_model], days, preparations=None))
    first = replayer.run()
    index = handover_index(first, stage)
    if index is None:
        raise InputError(f"model {scoring_model.name!r} has no stage to hand over at")
    where = find_threshold(scoring_model, index)
    converted_at = first_conversions(outcomes_arrow(store), first.lead_ids)
    stage_name = scoring_model.stages[index].name
    tried: dict[float, Trial] = {}

    def trial(value: float) -> Trial:
        if value not in tried:
            plan = compile_plan(with_threshold(scoring_model, where, value))
            measured = measure(replayer.run(plan), converted_at, horizon_days, stage_name)
            tried[value] = Trial(
                value,
                measured.handed_over / weeks,
                measured.handed_over,
                measured.handed_over_converted,
                measured.conversions,
                measured.conversions_handed_over,
            )
            if progress is not None:
                progress(len(tried), MAX_TRIALS)
        return tried[value]

    top = math.floor(max(float(first.score.max(initial=0)) / MILLI, where.value)) + 1
    low = math.floor(min(float(first.score.min(initial=0)) / MILLI, where.value))
    proposed = _lowest_within(trial, low, top, capacity)
    most = trial(float(low)).per_week
    if most < capacity:  # no threshold fills the capacity: the highest that hands over as many
        fewer = _lowest_within(trial, low, top, most - 1e-9)
        proposed = trial(max(float(low), fewer.threshold - 1))
    warm = _lowest_within(trial, low, top, 2 * capacity)
    near = sorted({proposed.threshold + d for d in (-2, -1, 1, 2)} & set(range(low, top + 1)))
    return Advice(
        model=scoring_model.name,
        stage=stage_name,
        stage_index=index,
        bound=where.bound,
        capacity=capacity,
        weeks=weeks,
        current=trial(where.value),
        proposed=proposed,
        too_few=most < capacity,
        too_many=proposed.per_week > capacity,
        warm=warm.threshold if warm.threshold < proposed.threshold and most >= capacity else None,
        neighbours=[trial(float(v)) for v in near],
    )


def _lowest_within(trial: Callable[[float], Trial], low: int, top: int, capacity: float) -> Trial:
    """The lowest whole threshold in ``low``..``top`` handing over at most ``capacity`` a
    week (``top`` is above every score: it hands over none)."""
    if trial(float(low)).per_week <= capacity:
        return trial(float(low))
    below, above = low, top  # below hands over too many; above is within capacity
    while above - below > 1:
        middle = (below + above) // 2
        if trial(float(middle)).per_week <= capacity:
            above = middle
        else:
            below = middle
    return trial(float(above))


def write_candidate(text: str, scoring_model: ScoringModel, advice: Advice) -> str:
    """The model file's text with the proposed threshold, and the top tiers' minimums set to
    it and to the warm cut-off. Only those numbers change, in place: the rest of the file
    (comments, order, indentation, quoting) is the same text. ruamel.yaml finds where each
    number is written."""
    where = find_threshold(scoring_model, advice.stage_index)
    document: Any = YAML().load(text)
    node = document["stages"][advice.stage_index]["when"]
    for key in where.path:
        node = node[key]
    edits = [(node, where.bound, advice.proposed.threshold)]
    tiers: Sequence[Any] = document.get("tiers") or []
    if len(tiers) >= 2 and "min" in tiers[0]:
        edits.append((tiers[0], "min", advice.proposed.threshold))
        if len(tiers) >= 3 and advice.warm is not None and "min" in tiers[1]:
            edits.append((tiers[1], "min", advice.warm))
    lines = text.splitlines(keepends=True)
    for line, column, value in sorted(
        ((*mapping.lc.value(key), value) for mapping, key, value in edits), reverse=True
    ):
        found = _NUMBER.match(lines[line], column)
        if found is None:  # pragma: no cover - the spec reads these keys as numbers
            raise InputError(f"line {line + 1}: no number where the threshold is written")
        lines[line] = lines[line][:column] + f"{_number(value)}" + lines[line][found.end() :]
    return "".join(lines)


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
