"""The scoring model: fit and engagement rules, groups, decay, scale, tiers, grades and stages.

A model is one YAML file, validated here in full: a mistyped key is an error, not a default.
Points may have at most three decimals, because engines count in integer milli-points.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadscore._types import MILLI
from leadscore.spec import accounts, conditions
from leadscore.spec.bots import BotFilter
from leadscore.spec.conditions import Condition, EventFilter
from leadscore.spec.decay import Decay
from leadscore.spec.predicates import Predicate

_NAME = r"^[^\s](?:.{0,78}[^\s])?$"  # 1-80 characters, no outer white space


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldError(ValueError):
    """A check across the model that can say which field is wrong: ``loc`` is its path from
    the model's root, which the loader turns into the field's line and column."""

    def __init__(self, message: str, loc: tuple[int | str, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def _three_decimals(value: float | None) -> float | None:
    if value is not None and abs(value * MILLI - round(value * MILLI)) > 1e-6:
        raise ValueError(f"must have at most 3 decimals; got {value!r}")
    return value


def _six_decimals(value: float | None) -> float | None:
    """A factor the engines hold in parts per million must say no more than that."""
    if value is not None and abs(value * 1_000_000 - round(value * 1_000_000)) > 1e-3:
        raise ValueError(f"must have at most 6 decimals; got {value!r}")
    return value


class FitRule(_Spec):
    """Points for who the lead is, when every predicate in ``when`` holds. Fit never decays."""

    name: str = Field(pattern=_NAME)
    points: float
    when: list[Predicate] = Field(min_length=1)

    _points = field_validator("points")(_three_decimals)


class EngagementRule(EventFilter):
    """Points for each matching event, with optional once, daily cap, cap, window and decay."""

    name: str = Field(pattern=_NAME)
    points: float
    group: str | None = None
    once: bool = Field(default=False, description="count only the most recent matching event")
    daily_cap: float | None = Field(
        default=None, gt=0, description="at most this many points a day"
    )
    repeat_factor: float | None = Field(
        default=None,
        ge=0.01,
        le=0.99,
        description="diminishing returns: within a day, each repeat is worth this fraction "
        "of the one before (0.5: 10, 5, 2.5, ...)",
    )
    cap: float | None = Field(default=None, gt=0, description="at most this many points in all")
    within_days: int | None = Field(default=None, ge=0, description="ignore older events")
    decay: Decay | None = None

    _points = field_validator("points", "daily_cap", "cap")(_three_decimals)
    _factor = field_validator("repeat_factor")(_six_decimals)

    @model_validator(mode="after")
    def _track_needs_event(self) -> EngagementRule:
        if self.type == "track" and not self.event:
            raise ValueError("a track rule needs 'event' (or set type: page for page calls)")
        return self


class Group(_Spec):
    """Rules that share a cap and, unless a rule says otherwise, a decay."""

    name: str = Field(pattern=_NAME)
    cap: float | None = Field(default=None, gt=0)
    daily_cap: float | None = Field(
        default=None, gt=0, description="at most this many points a day from all its rules"
    )
    decay: Decay | None = None

    _cap = field_validator("cap", "daily_cap")(_three_decimals)


class Clip(_Spec):
    min: float = 0
    max: float = 100

    @model_validator(mode="after")
    def _ordered(self) -> Clip:
        if self.min >= self.max:
            raise ValueError(f"min must be below max; got {self.min!r} and {self.max!r}")
        return self


class Band(_Spec):
    """A named tier or grade: reached when the value is at least ``min``."""

    name: str = Field(pattern=_NAME)
    min: float | None = Field(default=None, description="omit on the lowest band: everything else")


class Priority(_Spec):
    """A grade x band matrix, Pardot's A1..D4: the lead's grade (fit) followed by the band its
    engagement (or score) reaches, so ``A1`` is the best fit with the most engagement and
    sales can route on one value."""

    of: Literal["engagement", "score"] = Field(
        default="engagement", description="what the bands measure (the grade measures fit)"
    )
    bands: list[Band] = Field(min_length=1, description="highest min first, e.g. 1, 2, 3, 4")


class Withdraw(_Spec):
    """When a lead that reached a stage loses it (e.g. an MQL inactive for 90 days)."""

    when: Condition
    to: str | None = Field(default=None, description="an earlier stage; default: the first")


class Stage(_Spec):
    """A lifecycle stage: entered when ``when`` holds, left only by ``withdraw`` or a recycle."""

    name: str = Field(pattern=_NAME)
    when: Condition | None = None
    withdraw: Withdraw | None = None


class AccountCount(EventFilter):
    """A named account fact: how many of the account's leads have a matching event."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="read as account.<name>")


class Accounts(_Spec):
    """How account facts (``account.*`` fields) are computed for this model."""

    engaged_min: float = Field(
        default=19, description="a lead counts in account.engaged_leads from this engagement"
    )
    counts: list[AccountCount] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> Accounts:
        names = [count.name for count in self.counts]
        _unique(names, "account count")
        for name in names:
            if name in accounts.BUILT_IN_FACTS:
                raise ValueError(f"account count name {name!r} is a built-in account fact")
        return self


class Recycle(_Spec):
    """What a recycle does (sales disqualifies a lead): the stage it returns to, and whether
    engagement restarts from zero at that moment (the events stay stored and explained)."""

    to: str | None = Field(default=None, description="the stage a recycle returns to")
    restart_engagement: bool = Field(
        default=True, description="events up to the recycle stop counting, in points and stages"
    )


def _check_bands(bands: list[Band], what: str) -> list[Band]:
    mins = [band.min for band in bands]
    if any(m is None for m in mins[:-1]):
        raise ValueError(f"only the last {what} may omit 'min'")
    given = [m for m in mins if m is not None]
    if given != sorted(set(given), reverse=True):
        raise ValueError(f"{what}s must be listed from the highest 'min' down; got {given}")
    _unique([band.name for band in bands], what)
    return bands


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} name {name!r} is used twice")
        seen.add(name)


class ScoringModel(_Spec):
    """One scoring model; several can run side by side, each for the leads it applies to."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    applies_to: list[Predicate] = Field(default_factory=list, description="all must hold")
    decay: Decay | None = None
    fit: list[FitRule] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    engagement: list[EngagementRule] = Field(default_factory=list)
    bot_filter: BotFilter | None = Field(
        default=None, description="filter email-scanner and bot events (no points, no activity)"
    )
    engagement_cap: float | None = Field(default=None, gt=0, description="cap on all engagement")
    clip: Clip | None = None
    tiers: list[Band] = Field(default_factory=list)
    grades: list[Band] = Field(default_factory=list)
    priority: Priority | None = Field(
        default=None, description="grade x band (A1..D4), a result column beside tier and grade"
    )
    stages: list[Stage] = Field(default_factory=list)
    recycle: Recycle = Field(default_factory=Recycle)
    accounts: Accounts = Field(default_factory=Accounts)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, tiers: list[Band]) -> list[Band]:
        return _check_bands(tiers, "tier")

    @field_validator("grades")
    @classmethod
    def _grades(cls, grades: list[Band]) -> list[Band]:
        return _check_bands(grades, "grade")

    @field_validator("priority")
    @classmethod
    def _priority(cls, priority: Priority | None) -> Priority | None:
        if priority is not None:
            _check_bands(priority.bands, "priority band")
        return priority

    @model_validator(mode="after")
    def _priority_needs_grades(self) -> ScoringModel:
        if self.priority is not None and not self.grades:
            raise FieldError("priority pairs each grade with a band: give 'grades' too",
                             ("priority",))  # fmt: skip
        return self

    @model_validator(mode="after")
    def _references(self) -> ScoringModel:
        _unique([rule.name for rule in self.fit], "fit rule")
        _unique([rule.name for rule in self.engagement], "engagement rule")
        _unique([group.name for group in self.groups], "group")
        _unique([stage.name for stage in self.stages], "stage")
        group_names = {group.name for group in self.groups}
        daily_capped = {group.name for group in self.groups if group.daily_cap is not None}
        for number, rule in enumerate(self.engagement):
            if rule.group is not None and rule.group not in group_names:
                raise FieldError(
                    f"engagement rule {rule.name!r} names group {rule.group!r}, which is not "
                    f"defined; defined groups: {sorted(group_names)}",
                    ("engagement", number, "group"),
                )
            for key in ("decay", "cap"):  # a day's sum over the group is decayed as one
                if rule.group in daily_capped and getattr(rule, key) is not None:
                    raise FieldError(
                        f"engagement rule {rule.name!r} is in group {rule.group!r}, which has a "
                        f"daily_cap: its rules take the group's decay and have no {key} of "
                        "their own (cap the group instead)",
                        ("engagement", number, key),
                    )
        for index, stage in enumerate(self.stages):
            if index == 0 and (stage.when is not None or stage.withdraw is not None):
                raise FieldError(
                    f"the first stage {stage.name!r} is the entry stage: no 'when' or 'withdraw'",
                    ("stages", 0),
                )
            if index > 0 and stage.when is None:
                raise FieldError(f"stage {stage.name!r} needs 'when'", ("stages", index))
            earlier = [s.name for s in self.stages[:index]]
            located = self._stage_trees(index)
            if stage.withdraw is not None and stage.withdraw.to not in (None, *earlier):
                raise FieldError(
                    f"stage {stage.name!r} withdraws to {stage.withdraw.to!r}, which is not an "
                    f"earlier stage; earlier stages: {earlier}",
                    ("stages", index, "withdraw", "to"),
                )
            for loc, node in located:
                if isinstance(node, conditions.StageReached) and node.stage not in earlier:
                    raise FieldError(
                        f"stage {stage.name!r} refers to stage {node.stage!r}; only earlier "
                        f"stages may be referred to: {earlier}",
                        (*loc, "stage"),
                    )
        self._check_account_fields()
        names = [s.name for s in self.stages]
        if self.recycle.to is not None and self.recycle.to not in names:
            raise FieldError(
                f"recycle returns to {self.recycle.to!r}, which is not a stage; stages: {names}",
                ("recycle", "to"),
            )
        return self

    def _stage_trees(self, index: int) -> list[conditions.Located]:
        """Every node of a stage's entry and withdraw conditions, with its path."""
        stage = self.stages[index]
        nodes = []
        if stage.when is not None:
            nodes.extend(conditions.walk_located(stage.when, ("stages", index, "when")))
        if stage.withdraw is not None:
            base = ("stages", index, "withdraw", "when")
            nodes.extend(conditions.walk_located(stage.withdraw.when, base))
        return nodes

    def _check_account_fields(self) -> None:
        """Account facts may be read by fit rules and stage conditions, but not by
        ``applies_to``: membership of an account depends on it."""
        known = {*accounts.BUILT_IN_FACTS, *(count.name for count in self.accounts.counts)}
        for number, predicate in enumerate(self.applies_to):
            if accounts.fact_name(predicate.field) is not None:
                raise FieldError(
                    f"applies_to cannot read account facts ({predicate.field!r}): which leads "
                    "an account counts depends on applies_to",
                    ("applies_to", number, "field"),
                )
        located: list[tuple[tuple[int | str, ...], Predicate]] = [
            (("fit", i, "when", j, "field"), p)
            for i, rule in enumerate(self.fit)
            for j, p in enumerate(rule.when)
        ]
        for index in range(len(self.stages)):
            located.extend(
                ((*loc, "where", "field"), node.where)
                for loc, node in self._stage_trees(index)
                if isinstance(node, conditions.AttributeCondition)
            )
        for loc, predicate in located:
            fact = accounts.fact_name(predicate.field)
            if fact is not None and fact not in known:
                raise FieldError(
                    f"{predicate.field!r} is not an account fact; known: "
                    f"{sorted(accounts.PREFIX + name for name in known)}",
                    loc,
                )

    def attribute_predicates(self) -> list[Predicate]:
        """Every predicate on lead attributes: fit rules and stage attribute conditions."""
        found = [p for rule in self.fit for p in rule.when]
        for stage in self.stages:
            trees = [stage.when, stage.withdraw.when if stage.withdraw else None]
            for tree in (tree for tree in trees if tree is not None):
                found.extend(
                    node.where
                    for node in conditions.walk(tree)
                    if isinstance(node, conditions.AttributeCondition)
                )
        return found
