"""The batch engine's stage lifecycle: condition trees over per-lead arrays, then
``semantics.next_stage`` for every lead at once (the incremental engine's ``stage_checks``
applies the same rule to one lead, with its explanation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from leadscore.engines.arrays import bounds_mask
from leadscore.engines.plan import Plan, milli_bounds
from leadscore.engines.prepared import Bools, Ints
from leadscore.spec import conditions as c
from leadscore.spec.predicates import Predicate


class EventFacts(Protocol):
    """What stage conditions read of the leads' events as of the instant being scored: a
    scoring run's, or a backtest step's."""

    @property
    def size(self) -> int: ...

    def count(self, matcher: int | None, within: int | None) -> Ints:
        """Each lead's events of a filter (None: any), all or within the last days."""
        ...

    def days_since(self, matcher: int | None) -> Ints:
        """Days since each lead's latest event of a filter (``NEVER_DAYS``: none)."""
        ...


class Stages:
    """Stage condition trees over the per-lead arrays, and ``semantics.next_stage``."""

    def __init__(
        self,
        plan: Plan,
        scorer: EventFacts,
        values: dict[str, Ints],
        attribute: Callable[[Predicate], Bools],
    ) -> None:
        self.plan = plan
        self.scorer = scorer
        self.values = values
        self.attribute = attribute
        self.current = np.zeros(scorer.size, np.int64)
        self._entered: dict[str, Bools] = {}

    def entered(self, index: int) -> Bools:
        stage = self.plan.stages[index]
        if stage.name not in self._entered:
            if index == 0 or stage.when is None:
                self._entered[stage.name] = np.ones(self.scorer.size, np.bool_)
            else:
                self._entered[stage.name] = self.holds(stage.when)
        return self._entered[stage.name]

    def holds(self, node: c.Condition) -> Bools:
        if isinstance(node, c.All):
            every: Bools = np.logical_and.reduce([self.holds(n) for n in node.all])
            return every
        if isinstance(node, c.AnyOf):
            some: Bools = np.logical_or.reduce([self.holds(n) for n in node.any])
            return some
        if isinstance(node, c.Not):
            return ~self.holds(node.not_)
        if isinstance(node, c.ScoreAtLeast):
            return bounds_mask(self.values[node.of], milli_bounds(node))
        if isinstance(node, c.AttributeCondition):
            return self.attribute(node.where)
        if isinstance(node, c.EventCount):
            matcher = self.plan.condition_matchers[id(node)]
            return bounds_mask(self.scorer.count(matcher, node.within_days), node)
        if isinstance(node, c.DaysSinceActivity):
            return bounds_mask(self.scorer.days_since(None), node)
        if isinstance(node, c.DaysSinceEvent):
            matcher = self.plan.condition_matchers[id(node)]
            return bounds_mask(self.scorer.days_since(matcher), node)
        if isinstance(node, c.StageReached):
            index = self.plan.stage_index(node.stage)
            return (self.current >= index) | self.entered(index)
        raise TypeError(f"not a condition: {node!r}")  # pragma: no cover

    def next(self, current: Ints) -> tuple[Ints, Bools]:
        """The stage index after this evaluation, and whether it was a withdrawal."""
        self.current = current
        stages = self.plan.stages
        if not stages:
            return np.full(len(current), -1, np.int64), np.zeros(len(current), np.bool_)
        advanced = current.copy()
        for index in range(1, len(stages)):
            advanced = np.where(self.entered(index), np.maximum(advanced, index), advanced)
        withdrawn = np.zeros(len(current), np.bool_)
        back = np.zeros(len(current), np.int64)
        for index, stage in enumerate(stages):
            if stage.withdraw is not None:
                hit = (current == index) & self.holds(stage.withdraw)
                withdrawn |= hit
                back = np.where(hit, stage.withdraw_to, back)
        return np.where(withdrawn, back, advanced), withdrawn
