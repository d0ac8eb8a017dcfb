"""Stage conditions evaluated for one lead as of one instant, each leaf recorded in plain words.

The incremental engine's explanation of a stage: which conditions hold, with the value that was
measured. ``semantics.next_stage`` states the stage rule; the batch engine applies the same rule
to every lead at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from leadscore.engines import semantics as s
from leadscore.engines.lead_state import LeadState, Window
from leadscore.engines.plan import Plan, milli_bounds
from leadscore.engines.results import ConditionCheck, StageCheck, Transition
from leadscore.spec import conditions as c
from leadscore.spec.predicates import Bounds, Predicate, field_value
from leadscore.spec.wording import condition_words

Judge = Callable[[LeadState, dict[str, object], int, Sequence[Predicate]], bool]


class StageRules:
    """A plan's stage conditions compiled once: each leaf's text and its milli-point bounds."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.texts: dict[int, str] = {}
        #: each leaf in plain words, and its opposite (said under a ``not``)
        self.words: dict[int, tuple[str, str]] = {}
        self.bounds: dict[int, Bounds] = {}
        for node in walk_stage_conditions(plan):
            self.texts[id(node)] = describe(node)
            if not isinstance(node, c.All | c.AnyOf | c.Not):
                self.words[id(node)] = (condition_words(node), condition_words(node, True))
            if isinstance(node, c.ScoreAtLeast):
                self.bounds[id(node)] = milli_bounds(node)


def walk_stage_conditions(plan: Plan) -> list[c.Condition]:
    """Every node of every stage's entry and withdraw condition."""
    trees = [tree for stage in plan.stages for tree in (stage.when, stage.withdraw) if tree]
    return [node for tree in trees for node in c.walk(tree)]


@dataclass(slots=True)
class StageFacts:
    """Evaluates stage conditions for one lead as of one instant, recording each leaf."""

    rules: StageRules
    state: LeadState
    window: Window
    judge: Judge  # the engine's verdict on attribute predicates (cached where it can be)
    fit: int
    engagement: int
    score: int
    account: dict[str, object]  # the account.* facts, when the model reads them

    def stages(self) -> tuple[tuple[StageCheck, ...], str | None, Transition | None]:
        """Every stage's entry check, the current stage's withdraw check, the new stage and
        the transition (``semantics.next_stage`` states the rule)."""
        plan = self.rules.plan
        if not plan.stages:
            return (), None, None
        current = plan.stage_index(self.state.stage)
        reached: dict[str, bool] = {}
        checks: list[StageCheck] = []
        entered: list[bool] = []
        for index, stage in enumerate(plan.stages):
            leaves: list[ConditionCheck] = []
            ok = index == 0 or (stage.when is not None and self._eval(stage.when, reached, leaves))
            reached[stage.name] = ok or index <= current
            entered.append(ok)
            checks.append(StageCheck(stage.name, ok, tuple(leaves)))
        withdrawn = False
        step = plan.stages[current]
        if step.withdraw is not None:
            leaves = []
            withdrawn = self._eval(step.withdraw, reached, leaves)
            checks.append(StageCheck(step.name, withdrawn, tuple(leaves), kind="withdraw"))
        new = s.next_stage(current, entered, withdrawn, step.withdraw_to)
        transition: Transition | None = (
            "withdraw" if withdrawn else "advance" if new > current else None
        )
        return tuple(checks), plan.stages[new].name, transition

    def _eval(self, node: c.Condition, reached: dict[str, bool], out: list[ConditionCheck]) -> bool:
        if isinstance(node, c.All):
            # a list, not a generator: every leaf is evaluated and recorded for the explanation
            return all([self._eval(child, reached, out) for child in node.all])  # noqa: C419
        if isinstance(node, c.AnyOf):
            return any([self._eval(child, reached, out) for child in node.any])  # noqa: C419
        if isinstance(node, c.Not):
            inner: list[ConditionCheck] = []
            result = not self._eval(node.not_, reached, inner)
            if len(inner) == 1 and not isinstance(node.not_, c.All | c.AnyOf | c.Not):
                leaf = inner[0]
                words = self.rules.words[id(node.not_)][1]
                inner = [
                    ConditionCheck(f"not ({leaf.condition})", leaf.value, not leaf.holds, words)
                ]
            out.extend(inner)
            return result
        value, ok = self._leaf(node, reached)
        words = self.rules.words[id(node)][0]
        out.append(ConditionCheck(self.rules.texts[id(node)], value, ok, words))
        return ok

    def _leaf(self, node: c.Condition, reached: dict[str, bool]) -> tuple[str, bool]:
        if isinstance(node, c.ScoreAtLeast):
            measured = {"score": self.score, "fit": self.fit, "engagement": self.engagement}[
                node.of
            ]
            return f"{measured / s.MILLI:g}", self.rules.bounds[id(node)].holds(measured)
        if isinstance(node, c.AttributeCondition):
            value = field_value({**self.state.attributes, **self.account}, node.where.field)
            holds = self.judge(self.state, self.account, id(node), (node.where,))
            return repr(value), holds
        if isinstance(node, c.EventCount):
            count = len(self._stamps(node, node.within_days))
            return str(count), node.holds(count)
        if isinstance(node, c.DaysSinceActivity):
            days = self._days_since(self.state.activity)
            return _days_text(days), node.holds(days)
        if isinstance(node, c.DaysSinceEvent):
            days = self._days_since(self._stamps(node, None))
            return _days_text(days), node.holds(days)
        if isinstance(node, c.StageReached):
            return str(reached[node.stage]).lower(), reached[node.stage]
        raise TypeError(f"not a leaf condition: {node!r}")  # pragma: no cover

    def _stamps(self, node: c.EventCount | c.DaysSinceEvent, within_days: int | None) -> list[int]:
        stamps = self.state.matched[self.rules.plan.condition_matchers[id(node)]]
        low, upto = self.window.span(stamps)
        inside = stamps[low:upto]
        if within_days is None:
            return inside
        as_of_day = self.window.as_of_day
        return [ts for ts in inside if s.within(as_of_day - s.day_of(ts), within_days)]

    def _days_since(self, stamps: list[int]) -> int:
        low, upto = self.window.span(stamps)
        if upto <= low:
            return s.NEVER_DAYS
        return self.window.as_of_day - s.day_of(stamps[upto - 1])


def _days_text(days: int) -> str:
    return "never" if days == s.NEVER_DAYS else f"{days} days"


def _bounds_text(bounds: Bounds) -> str:
    parts = [f"{op} {value:g}" for op, value in bounds.given()]
    return " and ".join(parts)


def _predicate_text(predicate: Predicate) -> str:
    data = predicate.model_dump(exclude={"field", "type", "negate"}, exclude_defaults=True)
    detail = ", ".join(f"{k}={v!r}" for k, v in data.items())
    negation = "not " if predicate.negate else ""
    return f"{predicate.field} {negation}{predicate.type}" + (f" {detail}" if detail else "")


def describe(node: c.Condition) -> str:
    """A short readable form of a leaf condition, for explanations."""
    if isinstance(node, c.ScoreAtLeast):
        return f"{node.of} {_bounds_text(node)}"
    if isinstance(node, c.AttributeCondition):
        return _predicate_text(node.where)
    if isinstance(node, c.EventCount | c.DaysSinceEvent):
        what = node.event if node.event is not None else f"{node.event_type} calls"
        if node.where:
            what += " where " + " and ".join(_predicate_text(p) for p in node.where)
        if isinstance(node, c.EventCount):
            window = f" in the last {node.within_days} days" if node.within_days is not None else ""
            return f"count of {what}{window} {_bounds_text(node)}"
        return f"days since {what} {_bounds_text(node)}"
    if isinstance(node, c.DaysSinceActivity):
        return f"days since any activity {_bounds_text(node)}"
    if isinstance(node, c.StageReached):
        return f"stage {node.stage} reached"
    return type(node).__name__
