"""Which events a model's bot filter removes: the one Python definition (spec/bots.py says why).

The batch engine writes the same three tests as SQL window functions; the property test holds
the two to the same answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from leadscore._types import Event
from leadscore.spec.bots import BotFilter, is_bot_user_agent
from leadscore.spec.predicates import field_value

SECOND_US = 1_000_000


def is_checked(event: Event, bot_filter: BotFilter) -> bool:
    return event.type == "track" and event.event in bot_filter.events


def is_delivery(event: Event, bot_filter: BotFilter) -> bool:
    return event.type == "track" and event.event == bot_filter.delivery_event


def filtered_ids(events: Iterable[Event], bot_filter: BotFilter) -> set[str]:
    """Message ids of one lead's events that the filter removes (see spec/bots.py)."""
    checked: list[Event] = []
    deliveries: dict[str, list[int]] = defaultdict(list)
    for event in events:
        if is_checked(event, bot_filter):
            checked.append(event)
        elif is_delivery(event, bot_filter):
            key = field_value(event.properties, bot_filter.key)
            if isinstance(key, str):
                deliveries[key].append(event.timestamp)
    per_second = Counter(event.timestamp // SECOND_US for event in checked)

    def by_agent(event: Event) -> bool:
        agent = field_value(event.properties, "user_agent")
        return bot_filter.user_agent and is_bot_user_agent(agent)

    def by_second(event: Event) -> bool:
        limit = bot_filter.same_second
        return limit is not None and per_second[event.timestamp // SECOND_US] >= limit

    def by_delivery(event: Event) -> bool:
        if bot_filter.after_delivery_seconds is None:
            return False
        key = field_value(event.properties, bot_filter.key)
        limit = bot_filter.after_delivery_seconds * SECOND_US
        return isinstance(key, str) and any(
            0 <= event.timestamp - delivered <= limit for delivered in deliveries[key]
        )

    return {e.message_id for e in checked if by_agent(e) or by_second(e) or by_delivery(e)}
