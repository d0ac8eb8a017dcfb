"""Small value types shared by every layer (any layer may import this module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Milli-points: 1 point = 1000. Scores and contributions are exact integers in this unit.
MilliPoints = int
#: Microseconds since the Unix epoch, UTC.
TimestampUs = int
#: How a lead's stage changed: an engine decides advance and withdraw; a person recycles.
TransitionKind = Literal["advance", "withdraw", "recycle"]


@dataclass(frozen=True, slots=True)
class Event:
    """One Segment ``track`` or ``page`` call, attributed to a lead, time in UTC microseconds."""

    message_id: str
    lead_id: str
    type: str
    event: str | None
    timestamp: TimestampUs
    properties: dict[str, object] = field(default_factory=dict)
