"""Stage condition trees: all / any / not over score, attribute, event and recency leaves.

A leaf is written with a ``type``; a branch with one key (``all``, ``any`` or ``not``)::

    when:
      all:
        - {type: attribute, where: {type: range, field: company_size, gt: 10}}
        - {type: events, event: Content Downloaded, where: [{type: equals, field: premium,
           value: true}], gte: 2}
        - {not: {type: days_since_activity, gt: 30}}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from leadscore.spec.predicates import Bounds, Predicate


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventFilter(_Spec):
    """Which events a rule or a condition counts: a Segment ``track`` name or ``page`` calls."""

    event: str | None = Field(default=None, description="track event name; omit for page calls")
    type: Literal["track", "page"] = "track"
    where: list[Predicate] = Field(default_factory=list, description="all must hold")


class ScoreAtLeast(Bounds):
    """The model's score, fit or engagement (points, before tiers) within bounds."""

    type: Literal["score"]
    of: Literal["score", "fit", "engagement"] = "score"


class AttributeCondition(_Spec):
    """A predicate on the lead's attributes, as in fit rules."""

    type: Literal["attribute"]
    where: Predicate


class EventCount(Bounds):
    """How many matching events the lead has, optionally within the last ``within_days`` days."""

    type: Literal["events"]
    event: str | None = None
    event_type: Literal["track", "page"] = "track"
    where: list[Predicate] = Field(default_factory=list)
    within_days: int | None = Field(default=None, ge=0)

    def event_filter(self) -> EventFilter:
        return EventFilter(event=self.event, type=self.event_type, where=self.where)


class DaysSinceActivity(Bounds):
    """Whole days since the lead's last event of any kind; a lead with none counts as infinite."""

    type: Literal["days_since_activity"]


class DaysSinceEvent(Bounds):
    """Whole days since the last matching event; infinite when there is none."""

    type: Literal["days_since_event"]
    event: str | None = None
    event_type: Literal["track", "page"] = "track"
    where: list[Predicate] = Field(default_factory=list)

    def event_filter(self) -> EventFilter:
        return EventFilter(event=self.event, type=self.event_type, where=self.where)


class StageReached(_Spec):
    """True when the lead is already at or past an earlier stage, or its conditions hold now."""

    type: Literal["stage_reached"]
    stage: str


class All(_Spec):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Spec):
    any: list[Condition] = Field(min_length=1)


class Not(_Spec):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Leaf = ScoreAtLeast | AttributeCondition | EventCount | DaysSinceActivity | DaysSinceEvent
Leaf |= StageReached


def _condition_tag(value: Any) -> str | None:
    """Tell a branch (by its single key) from a leaf (by its ``type``)."""
    data = value if isinstance(value, dict) else getattr(value, "__dict__", {})
    for key in ("all", "any"):
        if key in data:
            return key
    if "not" in data or "not_" in data:
        return "not"
    leaf_type = data.get("type")
    return str(leaf_type) if leaf_type is not None else None


Condition = Annotated[
    Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[ScoreAtLeast, Tag("score")]
    | Annotated[AttributeCondition, Tag("attribute")]
    | Annotated[EventCount, Tag("events")]
    | Annotated[DaysSinceActivity, Tag("days_since_activity")]
    | Annotated[DaysSinceEvent, Tag("days_since_event")]
    | Annotated[StageReached, Tag("stage_reached")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition_kind",
        custom_error_message=(
            "a condition needs 'all', 'any', 'not' or a 'type' among score, attribute, events, "
            "days_since_activity, days_since_event, stage_reached"
        ),
    ),
]

All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def walk(condition: Condition) -> list[Condition]:
    """Every node of a condition tree, depth first, parents before children."""
    nodes: list[Condition] = [condition]
    if isinstance(condition, All):
        for child in condition.all:
            nodes.extend(walk(child))
    elif isinstance(condition, AnyOf):
        for child in condition.any:
            nodes.extend(walk(child))
    elif isinstance(condition, Not):
        nodes.extend(walk(condition.not_))
    return nodes


Located = tuple[tuple[int | str, ...], Condition]


def walk_located(condition: Condition, loc: tuple[int | str, ...] = ()) -> list[Located]:
    """Every node of a condition tree with its path below ``loc`` (as pydantic locates
    fields), so a model-level check can point at the YAML line of the node it rejects."""
    nodes: list[Located] = [(loc, condition)]
    if isinstance(condition, All):
        for index, child in enumerate(condition.all):
            nodes.extend(walk_located(child, (*loc, "all", index)))
    elif isinstance(condition, AnyOf):
        for index, child in enumerate(condition.any):
            nodes.extend(walk_located(child, (*loc, "any", index)))
    elif isinstance(condition, Not):
        nodes.extend(walk_located(condition.not_, (*loc, "not")))
    return nodes
