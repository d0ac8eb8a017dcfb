"""Score one lead at a time as its events arrive: the real-time engine.

``LeadState`` keeps, per event filter of the plan, the sorted timestamps of the lead's matching
events; ``score_one`` folds them through ``semantics`` as of any instant, so decay and "days
since" move with time without a new event. The batch engine must give the same answer for every
lead; ``tests/properties/test_engine_agreement.py`` holds the two to it.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence

from leadscore._types import Event
from leadscore.engines import bots
from leadscore.engines import semantics as s
from leadscore.engines.lead_state import LeadState, Window, applies
from leadscore.engines.plan import Plan, RuleStep
from leadscore.engines.results import (
    AccountFacts,
    LeadScore,
    RuleContribution,
)
from leadscore.engines.stage_checks import StageFacts, StageRules, walk_stage_conditions
from leadscore.spec import conditions as c
from leadscore.spec.accounts import account_of, fact_name
from leadscore.spec.predicates import Predicate

__all__ = ["IncrementalScorer", "LeadState", "applies"]


class IncrementalScorer:
    """Per-record scoring under one compiled plan.

    Examples:
        >>> from leadscore.spec.loader import parse_model
        >>> from leadscore.engines.plan import compile_plan
        >>> plan = compile_plan(parse_model('''
        ... name: m
        ... engagement: [{name: open, event: Email Opened, points: 2}]'''))
        >>> scorer = IncrementalScorer(plan)
        >>> state = scorer.new_state("L-1", {})
        >>> day = 86_400_000_000
        >>> opened = Event("m1", "L-1", "track", "Email Opened", 20_000 * day)
        >>> scorer.update_one(state, opened).score
        2000
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._stage_rules = StageRules(plan)
        self._ppm: list[dict[int, int]] = [{} for _ in plan.rules]  # decay factor by age
        # fit rules and attribute conditions that read account facts (never cached)
        self._reads_account: set[int] = {
            id(rule) for rule in plan.fit if any(fact_name(p.field) for p in rule.when)
        }
        for node in walk_stage_conditions(plan):
            if isinstance(node, c.AttributeCondition) and fact_name(node.where.field):
                self._reads_account.add(id(node))

    def new_state(self, lead_id: str, attributes: dict[str, object]) -> LeadState:
        matchers = self.plan.matchers
        return LeadState(
            lead_id,
            dict(attributes),
            [[] for _ in matchers],
            [Counter() for _ in matchers],
            versions=[0] * len(matchers),
        )

    def set_lifecycle(self, state: LeadState, stage: str | None, recycled_at: int | None) -> None:
        """The recorded stage and last recycle instant (``Store.lifecycle``), which the next
        evaluation starts from; no recount is needed, as both are applied at scoring time.

        ``score_one`` reports a transition but records nothing: whoever records it (``leadscore
        score``, the service) sets the new stage here, so the next evaluation starts from it.
        """
        state.stage = stage
        state.recycled_at = recycled_at

    def set_attributes(self, state: LeadState, attributes: dict[str, object]) -> None:
        """Replace the lead's attributes (an identify call, a CRM update)."""
        state.attributes = dict(attributes)
        state.verdicts.clear()

    def add_one(self, state: LeadState, event: Event) -> None:
        """Record one event in the state; a message id seen before changes nothing.

        With a bot filter, a new click can reveal that earlier ones were a scanner's (same
        second, or just after delivery): the lead's counts are then rebuilt without them.
        """
        if event.message_id in state.seen:
            return
        state.seen.add(event.message_id)
        bot_filter = self.plan.bot_filter
        if bot_filter is None:
            self._count(state, event)
            return
        state.scored_events.append(event)
        if state.bot_index is None:
            state.bot_index = bots.BotIndex(bot_filter)
        affected = state.bot_index.add(event)  # verdicts only ever turn to "bot"
        filtered = {e.message_id for e in state.bot_filtered}
        newly = [e for e in affected if e.message_id not in filtered and state.bot_index.is_bot(e)]
        state.bot_filtered.extend(newly)
        if any(e.message_id != event.message_id for e in newly):
            self._rebuild(state, filtered | {e.message_id for e in newly})
        elif not newly:
            self._count(state, event)

    def _count(self, state: LeadState, event: Event) -> None:
        bisect.insort(state.activity, event.timestamp)
        for index, matcher in enumerate(self.plan.matchers):
            if matcher.matches(event.type, event.event, event.properties):
                bisect.insort(state.matched[index], event.timestamp)
                state.per_day[index][s.day_of(event.timestamp)] += 1
                state.versions[index] += 1

    def _rebuild(self, state: LeadState, removed: set[str]) -> None:
        state.activity.clear()  # recounting bumps every version: no cached fold survives
        for stamps, days in zip(state.matched, state.per_day, strict=True):
            stamps.clear()
            days.clear()
        for past in state.scored_events:
            if past.message_id not in removed:
                self._count(state, past)

    def update_one(self, state: LeadState, event: Event, as_of: int | None = None) -> LeadScore:
        """Record one event and return the lead's score as of ``as_of`` (default: the event)."""
        self.add_one(state, event)
        return self.score_one(state, event.timestamp if as_of is None else as_of)

    def account_facts(
        self, account_id: str | None, members: Iterable[LeadState], as_of: int
    ) -> AccountFacts:
        """The account facts as of ``as_of`` from its leads' states (the lead itself
        included); leads the model does not apply to are not counted."""
        counted = [m for m in members if applies(self.plan.applies_to, m.attributes)]
        engagements = [self._engagement(m, self._window(m, as_of), []) for m in counted]
        return self._facts(account_id, counted, engagements, as_of)

    def _facts(
        self, account_id: str | None, counted: list[LeadState], engagements: list[int], as_of: int
    ) -> AccountFacts:
        counts = {
            name: sum(1 for m in counted if self._has_event(m, matcher, as_of))
            for name, matcher in self.plan.account_counts
        }
        return AccountFacts(
            account_id,
            len(counted),
            sum(1 for e in engagements if e >= self.plan.engaged_min),
            sum(engagements),
            counts,
        )

    def _window(self, state: LeadState, as_of: int) -> Window:
        return Window(as_of, state.recycled_at if self.plan.restart_engagement else None)

    def _has_event(self, state: LeadState, matcher: int, as_of: int) -> bool:
        low, upto = self._window(state, as_of).span(state.matched[matcher])
        return upto > low

    def score_one(
        self, state: LeadState, as_of: int, account: AccountFacts | None = None
    ) -> LeadScore:
        """The lead's full result, with its explanation, as of ``as_of``.

        ``account`` gives the facts of the lead's account (``account_facts``) when the model
        reads them; without it the lead counts as an account of its own.
        """
        plan = self.plan
        window = self._window(state, as_of)
        engaged: list[RuleContribution] = []
        engagement = self._engagement(state, window, engaged)
        if plan.uses_accounts and account is None:  # an account of its own
            alone = [state] if applies(plan.applies_to, state.attributes) else []
            own = [engagement] if alone else []
            account = self._facts(account_of(state.attributes), alone, own, as_of)
        extra = {} if account is None else account.attributes()
        contributions: list[RuleContribution] = []
        fit = 0
        for fit_rule in plan.fit:
            if self._holds(state, extra, id(fit_rule), fit_rule.when):
                fit += fit_rule.points
                contributions.append(
                    RuleContribution("fit", fit_rule.name, fit_rule.points, matches=1)
                )
        contributions.extend(engaged)
        raw_score = fit + engagement
        low, high = plan.clip if plan.clip is not None else (None, None)
        score = s.clip(raw_score, low, high)
        if score != raw_score:
            contributions.append(RuleContribution("clip", "score", score - raw_score))
        facts = StageFacts(
            self._stage_rules, state, window, self._holds, fit, engagement, score, extra
        )
        stage_checks, stage, transition = facts.stages()
        return LeadScore(
            lead_id=state.lead_id,
            model=plan.model,
            as_of=as_of,
            fit=fit,
            engagement=engagement,
            score=score,
            tier=s.band(score, plan.tiers),
            grade=s.band(fit, plan.grades),
            stage=stage,
            contributions=tuple(contributions),
            stages=stage_checks,
            previous_stage=state.stage,
            transition=transition,
            account=account,
        )

    def _holds(
        self, state: LeadState, extra: dict[str, object], key: int, predicates: Sequence[Predicate]
    ) -> bool:
        """Predicates on the attributes (cached per attribute set) or, when they read account
        facts, on the attributes and the facts (judged every time: the facts move)."""
        if key in self._reads_account:
            return applies(predicates, {**state.attributes, **extra})
        return state.holds(key, predicates)

    def _engagement(
        self, state: LeadState, window: Window, contributions: list[RuleContribution]
    ) -> int:
        """The lead's engagement (milli-points, ``semantics.engagement_sum``), appending rule
        and cap lines to ``contributions``. Engagement never depends on account facts."""
        plan = self.plan
        lines = [self._rule(rule, state, window) for rule in plan.rules]
        contributions.extend(c for c in lines if c.matches or c.filtered or c.bot_filtered)
        summed = s.engagement_sum(
            plan.rules,
            plan.groups,
            plan.engagement_cap,
            [c.points for c in lines],
            lambda group: self._group_days(group, state, window),
            s.clamp,
            0,
        )
        for index, group in summed.groups.items():
            name = plan.groups[index].name
            if group.by_day != group.rules:  # the rules' lines as if uncapped, then the difference
                contributions.append(
                    RuleContribution("group_daily_cap", name, group.by_day - group.rules)
                )
            if group.capped != group.by_day:
                contributions.append(
                    RuleContribution("group_cap", name, group.capped - group.by_day)
                )
        if summed.capped != summed.total:
            contributions.append(
                RuleContribution("engagement_cap", "engagement", summed.capped - summed.total)
            )
        return summed.capped

    def _rule(self, rule: RuleStep, state: LeadState, window: Window) -> RuleContribution:
        """One rule's contribution from per-day counts: O(active days), not O(events)."""
        stamps = state.matched[rule.matcher]
        as_of_day = window.as_of_day
        _, upto = window.span(stamps)
        if rule.once:  # only the most recent matching event
            raw, decayed, matches = self._fold(rule, self._once_day(rule, state, window), as_of_day)
        else:
            # the days before as_of's day change rarely (events arrive in time order): fold
            # them once per (day, recycle cut, counts version); then add today's part
            key = (as_of_day, window.after, state.versions[rule.matcher])
            cached = state.past.get(rule.index)
            if cached is not None and cached[0] == key:
                raw, decayed, matches = cached[1]
            else:
                past = self._past_days(rule, state, window)
                raw, decayed, matches = self._fold(rule, past, as_of_day)
                state.past[rule.index] = (key, (raw, decayed, matches))
            today = window.count_on(stamps, as_of_day)
            if today:
                day_raw, day_decayed, _ = self._fold(rule, [(as_of_day, today)], as_of_day)
                raw, decayed, matches = raw + day_raw, decayed + day_decayed, matches + today
        group = None if rule.group is None else self.plan.groups[rule.group].name
        return RuleContribution(
            "engagement",
            rule.name,
            s.clamp(decayed, rule.cap),
            matches=matches,
            filtered=upto - matches,
            bot_filtered=sum(
                1
                for e in state.bot_filtered
                if window.contains(e.timestamp)
                and self.plan.matchers[rule.matcher].matches(e.type, e.event, e.properties)
            ),
            raw=raw,
            decayed=decayed,
            group=group,
        )

    def _once_day(self, rule: RuleStep, state: LeadState, window: Window) -> list[tuple[int, int]]:
        """A ``once`` rule's counted event: [(its day, 1)], or [] (none, or too old)."""
        stamps = state.matched[rule.matcher]
        low, upto = window.span(stamps)
        if upto <= low:
            return []
        last_day = s.day_of(stamps[upto - 1])
        if rule.within_days is not None and not s.within(
            window.as_of_day - last_day, rule.within_days
        ):
            return []
        return [(last_day, 1)]

    def _past_days(self, rule: RuleStep, state: LeadState, window: Window) -> list[tuple[int, int]]:
        """(day, count) of a rule's counted events on the days before ``as_of``'s day: after
        the recycle cut and within ``within_days``."""
        stamps = state.matched[rule.matcher]
        as_of_day, first_day = window.as_of_day, window.first_day
        past = []
        for day, count in state.per_day[rule.matcher].items():
            if day >= as_of_day:
                continue
            if rule.within_days is not None and not s.within(as_of_day - day, rule.within_days):
                continue
            if first_day is not None and day < first_day:
                continue
            if day == first_day:  # the recycle cuts this day
                count = window.count_on(stamps, day)
            if count:
                past.append((day, count))
        return past

    def _group_days(self, group: int, state: LeadState, window: Window) -> int:
        """The points of a group with a ``daily_cap`` (``semantics``): its rules' day points
        added per day, limited to the daily cap, each day's sum decayed once by the group's
        decay (its rules have none of their own)."""
        plan = self.plan
        members = [rule for rule in plan.rules if rule.group == group]
        per_day: dict[int, int] = {}
        for rule in members:
            if rule.once:
                days = self._once_day(rule, state, window)
            else:
                days = self._past_days(rule, state, window)
                today = window.count_on(state.matched[rule.matcher], window.as_of_day)
                if today:
                    days.append((window.as_of_day, today))
            for day, count in days:
                points = s.day_points(count, rule.points, rule.daily_cap, rule.repeat_ppm)
                per_day[day] = per_day.get(day, 0) + points
        cap, decay = plan.groups[group].daily_cap, members[0].decay
        return sum(
            s.apply_factor(s.clamp(total, cap), s.decay_ppm(decay, window.as_of_day - day))
            for day, total in per_day.items()
        )

    def _fold(
        self, rule: RuleStep, days: list[tuple[int, int]], as_of_day: int
    ) -> tuple[int, int, int]:
        """Raw points, decayed points and matches of (day, count) pairs under one rule."""
        raw = decayed = matches = 0
        ppm = self._ppm[rule.index]
        for day, count in days:
            day_raw = s.day_points(count, rule.points, rule.daily_cap, rule.repeat_ppm)
            raw += day_raw
            matches += count
            age = as_of_day - day
            factor = ppm.get(age)
            if factor is None:
                factor = ppm[age] = s.decay_ppm(rule.decay, age)
            if not rule.by_day:  # each event decayed and rounded on its own
                decayed += count * s.apply_factor(rule.points, factor)
            else:  # the day's capped sum decayed once
                decayed += s.apply_factor(day_raw, factor)
        return raw, decayed, matches
