"""Segment tracking-spec messages (identify, track, page), validated and normalised.

Only what scoring needs is checked strictly; the many other fields Segment clients send
(``context``, ``integrations``, ``sentAt`` ...) are accepted and ignored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadscore.errors import InputError

#: Events may be this far in the future (clock skew between the sender and us).
MAX_FUTURE_SKEW_SECONDS = 300


class SegmentMessage(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: Literal["identify", "track", "page"]
    user_id: str | int | None = Field(default=None, alias="userId")
    anonymous_id: str | int | None = Field(default=None, alias="anonymousId")
    message_id: str | None = Field(default=None, alias="messageId")
    timestamp: str | None = None
    original_timestamp: str | None = Field(default=None, alias="originalTimestamp")
    event: str | None = None
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)


class MessageError(InputError, ValueError):
    """A message that cannot be accepted; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_timestamp(text: str, field: str = "timestamp") -> int:
    """ISO 8601 with a UTC offset -> microseconds since the epoch; naive times are refused."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MessageError(field, f"{text!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise MessageError(field, f"{text!r} has no UTC offset; add 'Z' or '+00:00'")
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def message_id_of(message: SegmentMessage, raw: dict[str, Any]) -> str:
    """The message's own id, or a stable digest of its content so re-imports stay idempotent."""
    if message.message_id:
        return message.message_id
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def checked_time(message: SegmentMessage, now_us: int) -> int:
    """The event time in UTC microseconds, refusing events too far in the future."""
    text = message.timestamp or message.original_timestamp
    if not text:
        raise MessageError("timestamp", "is required")
    ts = parse_timestamp(text)
    skew = (ts - now_us) / 1_000_000
    if skew > MAX_FUTURE_SKEW_SECONDS:
        raise MessageError(
            "timestamp",
            f"is {_duration(skew)} in the future; the allowed skew is "
            f"{MAX_FUTURE_SKEW_SECONDS // 60} minutes",
        )
    return ts


def _duration(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:.0f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.0f} hours"
    return f"{seconds / 60:.0f} minutes"
