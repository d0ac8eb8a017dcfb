"""Stage conditions in the batch engine: condition trees and ``semantics.next_stage`` as SQL
over the per-lead ``base`` columns."""

from __future__ import annotations

from collections.abc import Callable

from leadscore.engines import semantics as s
from leadscore.engines.plan import Plan, milli_bounds
from leadscore.engines.sql import bounds_sql, quote
from leadscore.spec import conditions as c
from leadscore.spec.predicates import Predicate


class StageSql:
    """Writes stage condition trees as SQL over the per-lead ``base`` columns.

    ``base.cur`` is the recorded stage's index; ``semantics.next_stage`` is written as SQL in
    ``withdrawn_expr`` and ``stage_index_expr``.
    """

    def __init__(self, plan: Plan, as_of_day: int, attribute: Callable[[Predicate], str]) -> None:
        self.plan = plan
        self.as_of_day = as_of_day
        self.facts: list[tuple[str, str]] = []
        self._fact_names: dict[tuple[str, int, int | None], str] = {}
        self.entered: dict[str, str] = {}  # entry conditions hold
        self.reached: dict[str, str] = {}  # recorded at or past it, or entered now
        self.withdraw: dict[int, str] = {}  # stage index -> its withdraw conditions hold
        for index, stage in enumerate(plan.stages):
            if index == 0 or stage.when is None:
                self.entered[stage.name] = "TRUE"
            else:
                self.entered[stage.name] = self._sql(stage.when, attribute)
            self.reached[stage.name] = f"(base.cur >= {index} OR {self.entered[stage.name]})"
        for index, stage in enumerate(plan.stages):
            if stage.withdraw is not None:
                self.withdraw[index] = self._sql(stage.withdraw, attribute)

    def _fact(self, kind: str, matcher: int, within: int | None) -> str:
        key = (kind, matcher, within)
        if key not in self._fact_names:
            name = f"{kind}{len(self._fact_names)}"
            self._fact_names[key] = name
            window = f" AND age <= {within}" if within is not None else ""
            agg = "count(*)" if kind == "c" else "max(day)"
            self.facts.append((name, f"{agg} FILTER (WHERE m{matcher}{window})"))
        return self._fact_names[key]

    def _sql(self, node: c.Condition, attribute: Callable[[Predicate], str]) -> str:
        if isinstance(node, c.All):
            return "(" + " AND ".join(self._sql(n, attribute) for n in node.all) + ")"
        if isinstance(node, c.AnyOf):
            return "(" + " OR ".join(self._sql(n, attribute) for n in node.any) + ")"
        if isinstance(node, c.Not):
            return f"(NOT {self._sql(node.not_, attribute)})"
        if isinstance(node, c.ScoreAtLeast):
            return bounds_sql(f"base.{node.of}", milli_bounds(node))
        if isinstance(node, c.AttributeCondition):
            return f"base.{attribute(node.where)}"
        if isinstance(node, c.EventCount):
            name = self._fact("c", self.plan.condition_matchers[id(node)], node.within_days)
            return bounds_sql(f"COALESCE(base.{name}, 0)", node)
        if isinstance(node, c.DaysSinceActivity):
            return bounds_sql(f"COALESCE({self.as_of_day} - base.last_day, {s.NEVER_DAYS})", node)
        if isinstance(node, c.DaysSinceEvent):
            name = self._fact("d", self.plan.condition_matchers[id(node)], None)
            return bounds_sql(f"COALESCE({self.as_of_day} - base.{name}, {s.NEVER_DAYS})", node)
        if isinstance(node, c.StageReached):
            return self.reached[node.stage]
        raise TypeError(f"not a condition: {node!r}")  # pragma: no cover

    def fact_columns(self) -> list[tuple[str, str]]:
        return self.facts

    def current_expr(self, recorded: str) -> str:
        """The index of the recorded stage; none, or one the model lacks, is the first."""
        whens = " ".join(
            f"WHEN {quote(stage.name)} THEN {index}"
            for index, stage in enumerate(self.plan.stages)
            if index > 0
        )
        return f"(CASE {recorded} {whens} ELSE 0 END)" if whens else "0"

    def withdrawn_expr(self) -> str:
        if not self.withdraw:
            return "FALSE"
        whens = " OR ".join(f"(base.cur = {i} AND {sql})" for i, sql in self.withdraw.items())
        return f"COALESCE({whens}, FALSE)"

    def stage_index_expr(self) -> str:
        stages = self.plan.stages
        highest = " ".join(
            f"WHEN {self.entered[stage.name]} THEN {index}"
            for index, stage in reversed(list(enumerate(stages)))
            if index > 0
        )
        advanced = f"GREATEST(base.cur, CASE {highest} ELSE 0 END)" if highest else "base.cur"
        back = " ".join(
            f"WHEN base.cur = {index} THEN {stages[index].withdraw_to}" for index in self.withdraw
        )
        if not back:
            return advanced
        return f"(CASE WHEN {self.withdrawn_expr()} THEN (CASE {back} END) ELSE {advanced} END)"

    def name_expr(self, index: str) -> str:
        if not self.plan.stages:
            return "NULL"
        whens = " ".join(
            f"WHEN {i} THEN {quote(stage.name)}" for i, stage in enumerate(self.plan.stages)
        )
        return f"(CASE {index} {whens} END)"

    def transition_expr(self) -> str:
        if not self.plan.stages:
            return "NULL"
        return "(CASE WHEN withdrawn THEN 'withdraw' WHEN stage_index > cur THEN 'advance' END)"
