"""Segment tracking-spec messages (identify, track, page): the one schema that the importer
and the service parse with and that the OpenAPI document shows.

Only what scoring needs is checked strictly; the many other fields Segment clients send
(``context``, ``integrations``, ``sentAt`` ...) are accepted and ignored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic.config import JsonDict

from leadscore.errors import InputError
from leadscore.spec.json_values import ID_TEXT_SCHEMA, NAME_SCHEMA

#: The times taken (anything else is a mistake, and near year 1 or 9999 a UTC offset
#: carries it out of what a datetime can hold).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
#: Events may be this far in the future (clock skew between the sender and us).
MAX_FUTURE_SKEW_SECONDS = 300


#: An id as the document shows it (a non-empty string or an integer); the parser also takes an
#: empty string, which names no one.
_ID_SCHEMA: JsonDict = {"anyOf": [ID_TEXT_SCHEMA, {"type": "integer"}]}
#: An event's or a page's name, a message id.
Name = Annotated[str | None, WithJsonSchema(NAME_SCHEMA)]
Id = Annotated[StrictStr | StrictInt | None, WithJsonSchema(_ID_SCHEMA)]
Time = Annotated[str | None, WithJsonSchema({"type": "string", "format": "date-time"})]
_ONE_ID: JsonDict = {"anyOf": [{"required": ["userId"]}, {"required": ["anonymousId"]}]}


class _Message(BaseModel):
    """What every Segment message may carry; other fields (context, integrations, sentAt...)
    are taken and ignored, as Segment does."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    user_id: Id = Field(None, alias="userId", description="The lead's id.")
    anonymous_id: Id = Field(None, alias="anonymousId", description="A visitor not yet identified.")
    message_id: Name = Field(None, alias="messageId", description="Ingestion is idempotent on it.")
    timestamp: Time = Field(
        None, description="When it happened, with a UTC offset (default: when received)."
    )
    original_timestamp: Time = Field(
        None, alias="originalTimestamp", description="Taken when there is no timestamp."
    )


class Identify(_Message):
    """Who a lead is: its traits become the lead's attributes from the message's time."""

    model_config = ConfigDict(json_schema_extra={"required": ["type", "userId"]})
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict, description="The lead's attributes.")


class Track(_Message):
    """Something a lead did; ``event`` names it (required: the parser says so by name)."""

    model_config = ConfigDict(json_schema_extra={"required": ["type", "event"], **_ONE_ID})
    type: Literal["track"] = "track"
    event: Annotated[str | None, WithJsonSchema({**NAME_SCHEMA, "minLength": 1})] = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Page(_Message):
    """A page a lead (or a visitor not yet identified) viewed."""

    model_config = ConfigDict(json_schema_extra={"required": ["type"], **_ONE_ID})
    type: Literal["page"] = "page"
    name: Name = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Screen(_Message):
    """A screen of a mobile app a lead viewed: stored and scored as a page view (rules with
    ``type: page`` count it; its name is the page's name)."""

    model_config = ConfigDict(json_schema_extra={"required": ["type"], **_ONE_ID})
    type: Literal["screen"] = "screen"
    name: Name = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Group(_Message):
    """The lead belongs to a company (``groupId``, its account) described by ``traits``:
    the lead's ``account_id`` becomes the group id, and Segment's reserved company traits
    become the attributes fit rules read (``employees`` -> ``company_size``, ``name`` ->
    ``company``, ``industry``, ``website``); any other trait ``t`` becomes ``company.t``."""

    model_config = ConfigDict(json_schema_extra={"required": ["type", "userId", "groupId"]})
    type: Literal["group"] = "group"
    group_id: Id = Field(None, alias="groupId", description="The company's (account's) id.")
    traits: dict[str, Any] = Field(default_factory=dict, description="The company's traits.")


class Alias(_Message):
    """``previousId`` and ``userId`` are one person: the events of the previous id (an
    anonymous visitor's, or a lead's that is merged away) count for ``userId``."""

    model_config = ConfigDict(json_schema_extra={"required": ["type", "userId", "previousId"]})
    type: Literal["alias"] = "alias"
    previous_id: Id = Field(None, alias="previousId", description="The id used before.")


#: Segment's reserved group traits, as the lead attributes fit rules read.
GROUP_TRAITS = {
    "employees": "company_size",
    "name": "company",
    "industry": "industry",
    "website": "website",
}

SegmentMessage = Identify | Track | Page | Screen | Group | Alias
#: The parser of one message: its ``type`` says which it is.
MESSAGE: TypeAdapter[SegmentMessage] = TypeAdapter(
    Annotated[SegmentMessage, Field(discriminator="type")]
)


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
    if not EARLIEST <= moment <= LATEST:
        raise MessageError(field, f"{text!r} is outside {EARLIEST.year}..{LATEST.year}")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
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
    return checked_timestamp(text, now_us)


def checked_timestamp(text: str, now_us: int) -> int:
    """``checked_time`` of a message whose time is ``text``."""
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
