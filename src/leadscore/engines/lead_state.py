"""What the incremental engine remembers of one lead, and the window of events that count.

Kept apart from the scorer so that the stage checks (``stage_checks``) read the same state and
window without importing the scorer.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from leadscore._types import Event
from leadscore.engines import bots
from leadscore.engines import semantics as s
from leadscore.spec.predicates import Predicate, field_value


@dataclass(slots=True)
class LeadState:
    """What the incremental engine remembers of one lead under one plan."""

    lead_id: str
    attributes: dict[str, object]
    matched: list[list[int]]  # per event filter: sorted timestamps of matching events
    per_day: list[Counter[int]]  # per event filter: matching events per UTC day
    activity: list[int] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    # verdicts that depend only on the attributes (fit rules, attribute conditions), by rule
    # or condition id; cleared by IncrementalScorer.set_attributes
    verdicts: dict[int, bool] = field(default_factory=dict)
    # with a bot filter: its index of the lead's events, and the events it removed
    bot_index: bots.BotIndex | None = None
    bot_filtered: list[Event] = field(default_factory=list)
    scored_events: list[Event] = field(default_factory=list)
    # the lifecycle recorded so far: the stage, and the instant of the last recycle
    stage: str | None = None
    recycled_at: int | None = None
    # per event filter, bumped whenever its counts change; and per rule, its fold over the
    # days before as_of's day, kept while (that day, the recycle cut, the version) hold
    versions: list[int] = field(default_factory=list)
    past: dict[int, tuple[tuple[int, int | None, int], tuple[int, int, int]]] = field(
        default_factory=dict
    )

    def holds(self, key: int, predicates: Iterable[Predicate]) -> bool:
        """Whether every predicate holds on the attributes, computed once per attribute set."""
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = applies(predicates, self.attributes)
        return verdict


def applies(predicates: Iterable[Predicate], attributes: dict[str, object]) -> bool:
    """Whether every predicate holds on the lead's attributes."""
    return all(p.test(field_value(attributes, p.field)) for p in predicates)


@dataclass(frozen=True, slots=True)
class Window:
    """The events that count: timestamp in ``(after, as_of]`` (``after``: the last recycle)."""

    as_of: int
    after: int | None

    @property
    def as_of_day(self) -> int:
        return s.day_of(self.as_of)

    @property
    def first_day(self) -> int | None:
        return None if self.after is None else s.day_of(self.after)

    def contains(self, ts: int) -> bool:
        return ts <= self.as_of and (self.after is None or ts > self.after)

    def span(self, stamps: list[int]) -> tuple[int, int]:
        """The index range of sorted ``stamps`` inside the window (empty when low >= upto)."""
        low = 0 if self.after is None else bisect.bisect_right(stamps, self.after)
        return low, bisect.bisect_right(stamps, self.as_of)

    def count_on(self, stamps: list[int], day: int) -> int:
        """Sorted ``stamps`` on UTC ``day`` inside the window."""
        start = day * s.DAY_US - 1
        if self.after is not None:
            start = max(start, self.after)
        end = min((day + 1) * s.DAY_US - 1, self.as_of)
        return max(0, bisect.bisect_right(stamps, end) - bisect.bisect_right(stamps, start))
