"""Small value types shared by every layer (any layer may import this module)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

#: Milli-points: 1 point = 1000. Scores and contributions are exact integers in this unit.
MilliPoints = int
#: Milli-points in one point.
MILLI = 1000
#: Microseconds since the Unix epoch, UTC.
TimestampUs = int
#: How a lead's stage changed: an engine decides advance and withdraw; a person recycles;
#: ``crm`` is a stage the CRM already knew, imported with the lead (``leadscore import leads``).
TransitionKind = Literal["advance", "withdraw", "recycle", "crm"]
#: What became of a lead, as the CRM tells it (the labels predictive scoring learns from).
Outcome = Literal["converted", "won", "lost"]
#: Sales' verdict on a lead (``POST /v1/leads/{id}/feedback``).
Verdict = Literal["good_fit", "bad_fit", "not_interested"]
#: The changes a webhook subscription can ask to hear of.
WebhookKind = Literal["stage_changed", "tier_changed", "threshold_crossed", "chance_crossed"]
#: The largest threshold taken, in points (scores are kept in thousandths, as 64-bit integers).
MAX_THRESHOLD = 1_000_000_000_000


@dataclass(frozen=True, slots=True)
class Event:
    """One Segment ``track`` or ``page`` call, attributed to a lead, time in UTC microseconds."""

    message_id: str
    lead_id: str
    type: str
    event: str | None
    timestamp: TimestampUs
    properties: dict[str, object] = field(default_factory=dict)


def format_as_of(as_of: TimestampUs) -> str:
    """A UTC instant as people read it in reports: ``2026-01-31 23:59:59 UTC``."""
    return datetime.fromtimestamp(as_of / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def now_us() -> TimestampUs:
    """Now, in microseconds since the epoch (UTC): every "received at" and "recorded at"."""
    return time.time_ns() // 1000
