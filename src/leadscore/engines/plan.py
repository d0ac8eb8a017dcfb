"""Compile a ScoringModel into a Plan: the normalised primitives both engines execute.

Defaults and inheritance are resolved once here (a rule's decay falls back to its group's, then
to the model's; points become milli-points; identical event filters are shared), so the engines
never read the raw spec and cannot resolve it differently.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from leadscore._types import MILLI
from leadscore.engines import semantics as s
from leadscore.engines.semantics import to_milli
from leadscore.spec import accounts
from leadscore.spec import conditions as c
from leadscore.spec.bots import BotFilter
from leadscore.spec.decay import Decay
from leadscore.spec.model import Band, ScoringModel
from leadscore.spec.predicates import Bounds, Predicate, field_value


@dataclass(frozen=True, slots=True)
class Matcher:
    """An event filter: Segment call type, optional track name, property predicates (all hold)."""

    type: str
    event: str | None
    where: tuple[Predicate, ...]

    def matches(self, call_type: str, event: str | None, properties: dict[str, object]) -> bool:
        if call_type != self.type or (self.event is not None and event != self.event):
            return False
        return all(p.test(field_value(properties, p.field)) for p in self.where)


@dataclass(frozen=True, slots=True)
class FitStep:
    name: str
    points: int
    when: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class RuleStep:
    index: int
    name: str
    matcher: int
    points: int
    group: int | None
    once: bool
    daily_cap: int | None
    cap: int | None
    within_days: int | None
    decay: Decay | None
    #: diminishing returns within a day, in parts per million (None: every event the same)
    repeat_ppm: int | None = None

    @property
    def by_day(self) -> bool:
        """Whether a day's events are summed before they are decayed (a daily cap or a
        repeat factor), rather than each decayed on its own."""
        return self.daily_cap is not None or self.repeat_ppm is not None


@dataclass(frozen=True, slots=True)
class GroupStep:
    name: str
    cap: int | None
    #: at most this many milli-points a day from all the group's rules (None: no limit)
    daily_cap: int | None = None


@dataclass(frozen=True, slots=True)
class StageStep:
    name: str
    when: c.Condition | None
    withdraw: c.Condition | None = None
    withdraw_to: int = 0  # stage index a withdrawal returns to


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything an engine needs, in engine units (milli-points, days, matcher indexes)."""

    model: str
    applies_to: tuple[Predicate, ...]
    fit: tuple[FitStep, ...]
    matchers: tuple[Matcher, ...]
    rules: tuple[RuleStep, ...]
    groups: tuple[GroupStep, ...]
    engagement_cap: int | None
    clip: tuple[int, int] | None
    tiers: tuple[tuple[str, float | None], ...]
    grades: tuple[tuple[str, float | None], ...]
    stages: tuple[StageStep, ...]
    condition_matchers: dict[int, int]  # id(condition leaf) -> matcher index
    bot_filter: BotFilter | None = None
    recycle_to: int = 0  # stage index a recycle returns to
    restart_engagement: bool = True  # a recycle makes earlier events count for nothing
    uses_accounts: bool = False  # some fit rule or stage condition reads account.* facts
    engaged_min: int = 19_000  # milli-points: a lead counts in account.engaged_leads from here
    account_counts: tuple[tuple[str, int], ...] = ()  # (fact name, matcher index)
    #: every predicate fit rules and stage conditions read (``attribute_predicates``)
    attribute_predicates: tuple[Predicate, ...] = ()
    #: the priority matrix: what its bands measure and the bands (None: no priority)
    priority: tuple[str, tuple[tuple[str, float | None], ...]] | None = None
    #: the model compiled: a plan crosses to another process (Spark's executors) as its
    #: model and is compiled again there, as ``condition_matchers`` is keyed by identity
    source: ScoringModel | None = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        if self.source is None:
            raise TypeError(f"the plan of {self.model!r} was not compiled from a model")
        return compile_plan, (self.source,)

    def priority_of(self, grade: str | None, engagement: int, score: int) -> str | None:
        """The lead's priority (``semantics.priority``), derived from a kept or computed
        result: None when the model has no priority matrix."""
        if self.priority is None:
            return None
        of, bands = self.priority
        return s.priority(grade, engagement if of == "engagement" else score, bands)

    def stage_index(self, name: str | None) -> int:
        """A recorded stage's index; a stage the model no longer has counts as the first."""
        for index, stage in enumerate(self.stages):
            if stage.name == name:
                return index
        return 0

    @property
    def decays(self) -> tuple[Decay | None, ...]:
        """The distinct decays used by rules, in first-use order (a rule's decay id)."""
        seen: list[Decay | None] = []
        for rule in self.rules:
            if rule.decay not in seen:
                seen.append(rule.decay)
        return tuple(seen)

    def decay_id(self, rule: RuleStep) -> int:
        return self.decays.index(rule.decay)

    def matcher_of(self, leaf: c.EventCount | c.DaysSinceEvent) -> Matcher:
        return self.matchers[self.condition_matchers[id(leaf)]]


def milli_bounds(bounds: Bounds) -> Bounds:
    """The same bounds in milli-points, for comparing with integer scores."""
    scale = float(MILLI)

    def mul(value: float | None) -> float | None:
        return None if value is None else value * scale

    return Bounds(gt=mul(bounds.gt), gte=mul(bounds.gte), lt=mul(bounds.lt), lte=mul(bounds.lte))


def _band_steps(bands: list[Band]) -> tuple[tuple[str, float | None], ...]:
    return tuple((band.name, None if band.min is None else band.min * MILLI) for band in bands)


#: Plans already compiled, by model object: replaying a lead (the service does it for every
#: lead written) compiled its model each time, 0.7 ms. Models are frozen, so a model object
#: always compiles to the same plan; the entry keeps its model alive, so the id stays its own.
_COMPILED: OrderedDict[int, tuple[ScoringModel, Plan]] = OrderedDict()
_COMPILED_MAX = 64
_COMPILED_LOCK = threading.Lock()


def compile_plan(scoring_model: ScoringModel) -> Plan:
    """Resolve a validated model into a Plan (once per model object)."""
    with _COMPILED_LOCK:
        found = _COMPILED.get(id(scoring_model))
        if found is not None and found[0] is scoring_model:
            _COMPILED.move_to_end(id(scoring_model))
            return found[1]
    plan = _compile(scoring_model)
    with _COMPILED_LOCK:
        _COMPILED[id(scoring_model)] = (scoring_model, plan)
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    return plan


def _compile(scoring_model: ScoringModel) -> Plan:
    matchers: list[Matcher] = []

    def matcher_index(event_filter: c.EventFilter) -> int:
        matcher = Matcher(event_filter.type, event_filter.event, tuple(event_filter.where))
        if matcher not in matchers:
            matchers.append(matcher)
        return matchers.index(matcher)

    groups = tuple(
        GroupStep(g.name, _opt_milli(g.cap), _opt_milli(g.daily_cap)) for g in scoring_model.groups
    )
    group_index = {g.name: i for i, g in enumerate(scoring_model.groups)}
    group_decay = {g.name: g.decay for g in scoring_model.groups}
    rules = []
    for index, rule in enumerate(scoring_model.engagement):
        decay = rule.decay
        if decay is None and rule.group is not None:
            decay = group_decay[rule.group]
        if decay is None:
            decay = scoring_model.decay
        rules.append(
            RuleStep(
                index=index,
                name=rule.name,
                matcher=matcher_index(rule),
                points=to_milli(rule.points),
                group=None if rule.group is None else group_index[rule.group],
                once=rule.once,
                daily_cap=_opt_milli(rule.daily_cap),
                cap=_opt_milli(rule.cap),
                within_days=rule.within_days,
                decay=decay,
                repeat_ppm=None
                if rule.repeat_factor is None
                else round(rule.repeat_factor * s.PPM),
            )
        )
    condition_matchers: dict[int, int] = {}
    stages = []
    stage_index = {stage.name: i for i, stage in enumerate(scoring_model.stages)}
    for stage in scoring_model.stages:
        withdraw = stage.withdraw
        trees = [t for t in (stage.when, withdraw.when if withdraw else None) if t is not None]
        for node in (node for tree in trees for node in c.walk(tree)):
            if isinstance(node, c.EventCount | c.DaysSinceEvent):
                condition_matchers[id(node)] = matcher_index(node.event_filter())
        stages.append(
            StageStep(
                stage.name,
                stage.when,
                None if withdraw is None else withdraw.when,
                0 if withdraw is None or withdraw.to is None else stage_index[withdraw.to],
            )
        )
    recycle = scoring_model.recycle
    account_counts = tuple(
        (count.name, matcher_index(count)) for count in scoring_model.accounts.counts
    )
    attribute_predicates = tuple(scoring_model.attribute_predicates())
    uses_accounts = any(accounts.fact_name(p.field) is not None for p in attribute_predicates)
    clip = scoring_model.clip
    return Plan(
        model=scoring_model.name,
        applies_to=tuple(scoring_model.applies_to),
        fit=tuple(FitStep(f.name, to_milli(f.points), tuple(f.when)) for f in scoring_model.fit),
        matchers=tuple(matchers),
        rules=tuple(rules),
        groups=groups,
        engagement_cap=_opt_milli(scoring_model.engagement_cap),
        clip=None if clip is None else (to_milli(clip.min), to_milli(clip.max)),
        tiers=_band_steps(list(scoring_model.tiers)),
        grades=_band_steps(list(scoring_model.grades)),
        stages=tuple(stages),
        condition_matchers=condition_matchers,
        bot_filter=scoring_model.bot_filter,
        recycle_to=0 if recycle.to is None else stage_index[recycle.to],
        restart_engagement=recycle.restart_engagement,
        uses_accounts=uses_accounts,
        engaged_min=to_milli(scoring_model.accounts.engaged_min),
        account_counts=account_counts,
        attribute_predicates=attribute_predicates,
        priority=None
        if scoring_model.priority is None
        else (scoring_model.priority.of, _band_steps(scoring_model.priority.bands)),
        source=scoring_model,
    )


def _opt_milli(points: float | None) -> int | None:
    return None if points is None else to_milli(points)
