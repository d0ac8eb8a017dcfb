"""Which events a model's bot filter removes: the one Python definition (spec/bots.py says why).

``BotIndex`` keeps a lead's checked events by second and by key, and its deliveries by key, so
the incremental engine learns in O(1) which events a new one can change. The batch engine writes
the same three tests in SQL; the property test holds the two to the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from leadscore._types import Event
from leadscore.spec.bots import BotFilter, is_bot_user_agent
from leadscore.spec.predicates import field_value

SECOND_US = 1_000_000


def is_checked(event: Event, bot_filter: BotFilter) -> bool:
    return event.type == "track" and event.event in bot_filter.events


def is_delivery(event: Event, bot_filter: BotFilter) -> bool:
    return event.type == "track" and event.event == bot_filter.delivery_event


class BotIndex:
    """One lead's events as the bot filter sees them."""

    def __init__(self, bot_filter: BotFilter) -> None:
        self.bot_filter = bot_filter
        self.by_second: dict[int, list[Event]] = defaultdict(list)
        self.by_key: dict[str, list[Event]] = defaultdict(list)
        self.deliveries: dict[str, list[int]] = defaultdict(list)

    def _key(self, event: Event) -> str | None:
        key = field_value(event.properties, self.bot_filter.key)
        return key if isinstance(key, str) else None

    def add(self, event: Event) -> list[Event]:
        """Index one event; return the checked events whose verdict it may change."""
        key = self._key(event)
        if is_checked(event, self.bot_filter):
            same_second = self.by_second[event.timestamp // SECOND_US]
            same_second.append(event)
            if key is not None:
                self.by_key[key].append(event)
            return list(same_second)
        if is_delivery(event, self.bot_filter) and key is not None:
            self.deliveries[key].append(event.timestamp)
            return list(self.by_key.get(key, ()))
        return []

    def is_bot(self, event: Event) -> bool:
        """The verdict on one indexed checked event."""
        bot_filter = self.bot_filter
        if bot_filter.user_agent and is_bot_user_agent(field_value(event.properties, "user_agent")):
            return True
        limit = bot_filter.same_second
        if limit is not None and len(self.by_second[event.timestamp // SECOND_US]) >= limit:
            return True
        if bot_filter.after_delivery_seconds is None:
            return False
        key = self._key(event)
        window = bot_filter.after_delivery_seconds * SECOND_US
        return key is not None and any(
            0 <= event.timestamp - delivered <= window for delivered in self.deliveries[key]
        )


def filtered_ids(events: Iterable[Event], bot_filter: BotFilter) -> set[str]:
    """Message ids of one lead's events that the filter removes."""
    index = BotIndex(bot_filter)
    checked = []
    for event in events:
        index.add(event)
        if is_checked(event, bot_filter):
            checked.append(event)
    return {event.message_id for event in checked if index.is_bot(event)}
