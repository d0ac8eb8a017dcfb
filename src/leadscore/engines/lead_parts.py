"""The batch engine's first phase built lead by lead, in Python: for the service's rounds.

A rescoring round scores a few hundred leads and their colleagues. ``prepared.prepare`` runs
some thirty DuckDB statements whatever the size (about 60 ms here), and every round would
prepare the colleagues again although nothing of theirs changed. Here each lead's share of a
``Prepared`` (its attribute verdicts, and its events after the bot filter with the event
filters each matches) is a ``LeadPart`` of its own, so a caller can keep the parts of leads
that did not change and ``assemble`` any set of leads in a few numpy calls.

The verdicts come from the same definitions the other engines use: each predicate's ``test``
on ``field_value``, ``Matcher.matches`` for event filters and ``bots.filtered_ids`` for the bot
filter. The property tests hold ``assemble`` to ``prepare`` (which writes them in SQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from leadscore._types import Event
from leadscore.engines.bots import SECOND_US, filtered_ids, is_checked, is_delivery
from leadscore.engines.plan import Plan
from leadscore.engines.prepared import Ints, Prepared, Series, lead_predicates
from leadscore.spec.bots import BotFilter
from leadscore.spec.predicates import field_value

#: Event filters per int64 word of flags.
WORD_BITS = 62
#: Distinct (type, event, properties) a ``PartMaker`` remembers the filters of; past this the
#: memory starts again (properties with unique values would make it grow without end).
KINDS_MAX = 100_000
#: What the bot filter removes from most leads (one set shared by their parts).
NONE_REMOVED: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class LeadPart:
    """One lead's share of a ``Prepared``: its account, each lead predicate's verdict (in
    ``lead_predicates`` order), and its events after the bot filter, oldest first, with one
    row of filter flags per event (``WORD_BITS`` filters to a word)."""

    account_id: str | None
    attributes: str  # the JSON text the verdicts were judged on
    verdicts: tuple[bool, ...]
    ts: Ints
    flags: Ints  # shape (events, words)
    removed: frozenset[str] = NONE_REMOVED  # message ids of the events the bot filter removed


#: An event as the store reads it: type, event, timestamp, properties (JSON text), message id.
EventRow = tuple[str, str | None, int, str, str]


class PartMaker:
    """Makes ``LeadPart`` s for one plan, judging each distinct (type, event, properties) once."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.predicates = lead_predicates(plan)
        self.words = _words(plan)
        self._kinds: dict[tuple[str, str | None, str], tuple[int, ...]] = {}
        self._bot_kinds: dict[tuple[str, str | None], tuple[bool, bool]] = {}

    def part(
        self,
        attributes: str,
        account_id: str | None,
        events: Sequence[EventRow],
        before: LeadPart | None = None,
    ) -> LeadPart:
        """The part of a lead with these attributes (JSON text) and all of its events;
        ``before``, the lead's earlier part, lends its verdicts when the attributes are the
        same (events arrive far more often than attributes change)."""
        if before is not None and before.attributes == attributes:
            verdicts = before.verdicts
        else:
            values: dict[str, Any] = json.loads(attributes)
            verdicts = tuple(bool(p.test(field_value(values, p.field))) for p in self.predicates)
        removed = self._removed(events)
        kept = [row for row in events if row[4] not in removed] if removed else events
        ts, flags = self._arrays(sorted(kept, key=lambda row: row[2]))
        return LeadPart(account_id, attributes, verdicts, ts, flags, removed)

    def extended(
        self, part: LeadPart, new: Sequence[EventRow], events: Iterable[EventRow]
    ) -> LeadPart | None:
        """``part`` with ``new`` events of the lead added (``events``: all of the lead's
        events, the new ones among them), or None when the whole lead must be made again.

        That is when the bot filter, looking at a new event, removes another set of earlier
        events than before: a new checked event in the same second as earlier ones, or a
        delivery just before an earlier click. Usually only the new events' own verdicts are
        new, and the earlier ones keep their place.

        Only the earlier events near the new ones are judged again, with them (``_near``):
        a lead's history can be long, and email opens are both the commonest events and
        checked ones. The part's ``removed`` says what the earlier verdicts were."""
        removed = part.removed
        bot_filter = self.plan.bot_filter
        if bot_filter is not None and any(self._judged(r[0], r[1]) for r in new):
            ids = {row[4] for row in new}
            near, changeable = self._near(bot_filter, new, events, ids)
            if self._burst(bot_filter, near, new):
                return None
            found = self._removed([*near, *new])
            if found.intersection(changeable) != removed.intersection(changeable):
                return None
            removed = removed.union(found.intersection(ids))
            new = [row for row in new if row[4] not in removed] if removed else new
        if not new:
            return replace(part, removed=removed)
        ts, flags = self._arrays(new)
        order = np.argsort(ts, kind="stable")
        if not len(part.ts) or ts[order[0]] >= part.ts[-1]:  # the usual case: all newer
            return LeadPart(
                part.account_id,
                part.attributes,
                part.verdicts,
                np.concatenate((part.ts, ts[order])),
                np.concatenate((part.flags, flags[order])),
                removed,
            )
        slots = np.searchsorted(part.ts, ts[order], side="right")
        return LeadPart(
            part.account_id,
            part.attributes,
            part.verdicts,
            np.insert(part.ts, slots, ts[order]),
            np.insert(part.flags, slots, flags[order], axis=0),
            removed,
        )

    def _arrays(self, rows: Sequence[EventRow]) -> tuple[Ints, Ints]:
        """The timestamps of ``rows`` and their filter flags, one row of words each."""
        ts = np.fromiter((row[2] for row in rows), np.int64, len(rows))
        flags = np.array([self._flags(row) for row in rows], np.int64).reshape(-1, self.words)
        return ts, flags

    @staticmethod
    def _near(
        bot_filter: BotFilter, new: Sequence[EventRow], events: Iterable[EventRow], ids: set[str]
    ) -> tuple[list[EventRow], set[str]]:
        """The earlier events near the new ones (not in ``ids``), and the message ids of
        those whose verdict the new ones can change (``bots.BotIndex``): a new checked event
        counts with those in its second, and a new delivery reaches the clicks up to
        ``after_delivery_seconds`` after it. A verdict reads the events of its second and
        that long before it, so the near events, within that time and two seconds either
        side of the new ones, hold all that those verdicts, and the new events' own, read."""
        after = (bot_filter.after_delivery_seconds or 0) * SECOND_US
        low, high = min(row[2] for row in new), max(row[2] for row in new)
        near = [
            row
            for row in events
            if low - after - 2 * SECOND_US <= row[2] <= high + after + 2 * SECOND_US
            and row[4] not in ids
        ]
        changeable = {
            row[4] for row in near if low - SECOND_US <= row[2] <= high + after + SECOND_US
        }
        return near, changeable

    def _burst(
        self, bot_filter: BotFilter, near: Sequence[EventRow], new: Sequence[EventRow]
    ) -> bool:
        """Whether a new checked event falls in the same second as an earlier one: then
        the earlier one is usually removed now (a burst), and the part is made again at once
        rather than after judging the near events for nothing."""
        if bot_filter.same_second is None:
            return False
        seconds = {row[2] // SECOND_US for row in new if self._checked(row)}
        return any(row[2] // SECOND_US in seconds for row in near if self._checked(row))

    def _removed(self, events: Iterable[EventRow]) -> frozenset[str]:
        """The message ids of the events the bot filter removes from these (all of a
        lead's: its tests compare a lead's events with each other)."""
        bot_filter = self.plan.bot_filter
        if bot_filter is None:
            return NONE_REMOVED
        judged = [
            Event(row[4], "", row[0], row[1], row[2], _properties(row[3]))
            for row in events
            if self._judged(row[0], row[1])
        ]
        return frozenset(filtered_ids(judged, bot_filter)) if judged else NONE_REMOVED

    def _judged(self, call_type: str, event: str | None) -> bool:
        """Whether the bot filter looks at events of this type and name: only checked events
        and deliveries take part in its tests (engines/bots.py)."""
        return self._bot_kind(call_type, event)[1]

    def _checked(self, row: EventRow) -> bool:
        """Whether the bot filter checks this event (may remove it)."""
        return self._bot_kind(row[0], row[1])[0]

    def _bot_kind(self, call_type: str, event: str | None) -> tuple[bool, bool]:
        """Whether events of this type and name are checked, and whether they are judged."""
        key = (call_type, event)
        found = self._bot_kinds.get(key)
        if found is None:
            bot_filter = self.plan.bot_filter
            assert bot_filter is not None
            light = Event("", "", call_type, event, 0)
            checked = is_checked(light, bot_filter)
            found = self._bot_kinds[key] = (checked, checked or is_delivery(light, bot_filter))
        return found

    def _flags(self, row: EventRow) -> tuple[int, ...]:
        key = (row[0], row[1], row[3])
        found = self._kinds.get(key)
        if found is None:
            properties = json.loads(row[3])
            words = [0] * self.words
            for index, matcher in enumerate(self.plan.matchers):
                if matcher.matches(row[0], row[1], properties):
                    words[index // WORD_BITS] |= 1 << (index % WORD_BITS)
            if len(self._kinds) >= KINDS_MAX:
                self._kinds.clear()
            found = self._kinds[key] = tuple(words)
        return found


def _words(plan: Plan) -> int:
    """How many words of ``WORD_BITS`` flags hold the plan's event filters (at least one)."""
    return max(1, -(-len(plan.matchers) // WORD_BITS))


@lru_cache(maxsize=65_536)
def _properties(text: str) -> dict[str, Any]:
    """Properties parsed once per distinct text: the bot filter reads a lead's events again
    each time the lead changes. Shared between callers, so only ever read."""
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def assemble(plan: Plan, parts: Mapping[str, LeadPart]) -> Prepared:
    """The ``Prepared`` of these leads (``prepare``'s result for them and their events)."""
    lead_ids = sorted(parts)
    ordered = [parts[lead_id] for lead_id in lead_ids]
    predicates = lead_predicates(plan)
    table = np.array([part.verdicts for part in ordered], np.bool_).reshape(
        len(ordered), len(predicates)
    )
    counts = np.fromiter((len(part.ts) for part in ordered), np.int64, len(ordered))
    lead = np.repeat(np.arange(len(ordered), dtype=np.int32), counts)
    words = _words(plan)
    if ordered:
        ts = np.concatenate([part.ts for part in ordered])
        flags = np.concatenate([part.flags for part in ordered]).reshape(-1, words)
    else:
        ts, flags = np.zeros(0, np.int64), np.zeros((0, words), np.int64)
    matched = []
    for index in range(len(plan.matchers)):
        mask = (flags[:, index // WORD_BITS] & (1 << (index % WORD_BITS))) != 0
        matched.append(Series(lead[mask], ts[mask]))
    return Prepared(
        plan=plan,
        lead_ids=pa.array(lead_ids, pa.string()),
        account_ids=pa.array([part.account_id for part in ordered], pa.string()),
        verdicts={id(p): table[:, column].copy() for column, p in enumerate(predicates)},
        matched=tuple(matched),
        activity=Series(lead, ts),
    )
