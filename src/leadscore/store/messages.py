"""Segment messages checked and normalised, and the buffer that writes them together.

One path for both doors: the service's ``/v1/batch`` and ``leadscore import events`` parse
each message with ``parse_message`` (the schema is ``spec.segment``) and write through
``Pending``, so a message means the same whichever way it came in. The quick readers of the
commonest messages (``plain_event`` here for the service, ``message_lines`` for files) give
the rows ``parse_message`` gives, and property tests hold them to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from pydantic import ValidationError

from leadscore.spec import json_values
from leadscore.spec.segment import (
    GROUP_TRAITS,
    MESSAGE,
    Alias,
    Group,
    Identify,
    MessageError,
    Page,
    Screen,
    Track,
    checked_time,
    checked_timestamp,
    message_id_of,
)
from leadscore.store.account_traits import GroupCall, share_group_traits
from leadscore.store.aliases import merge_aliases, routes
from leadscore.store.events import EventRow
from leadscore.store.mappings import email_key
from leadscore.store.store import Store, StoredEvent
from leadscore.store.unscored import mark_unscored


@dataclass
class Pending:
    """Parsed messages waiting to be written together: leads and their traits (identify),
    events, and anonymous ids linked to leads."""

    events: list[EventRow] = field(default_factory=list)
    leads: list[tuple[str, dict[str, Any], int | None]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    #: (previous id, user id) of alias calls, applied after the rest (``store.aliases``)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    #: what group calls said of accounts, shared with every lead of each (``account_traits``)
    groups: list[GroupCall] = field(default_factory=list)
    #: user id -> the lead id its email gives (``mappings.email_key``): an identify's email
    #: trait, or the user id itself when it is an address
    emails: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.events) + len(self.leads) + len(self.aliases)

    def add(self, kind: str, item: Any) -> None:
        """Take one ``parse_message`` result (or an ``EventRow`` of kind "row")."""
        if kind == "row":
            self._add_row(item)
            return
        if kind == "group":  # the calling lead joins the account; every lead of it shares
            lead_id, traits, _, at = item
            company = {k: v for k, v in traits.items() if k != "account_id"}
            self.groups.append((traits["account_id"], company, at))
            kind = "identify"
        if kind == "identify":
            lead_id, traits, anonymous_id, at = item
            self.leads.append((lead_id, traits, at))
            if anonymous_id:
                self.links.append((anonymous_id, lead_id))
            self._note_email(lead_id, traits.get("email"))
            return
        if kind == "alias":
            previous, lead_id = item
            self.leads.append((lead_id, {}, None))
            self.aliases.append((previous, lead_id))
            return
        self._add_row(item.row())

    def _add_row(self, row: EventRow) -> None:
        self.events.append(row)
        lead_id, anonymous_id = row[1], row[2]
        if lead_id is not None:
            self.leads.append((lead_id, {}, None))
            if anonymous_id:
                self.links.append((anonymous_id, lead_id))
            if "@" in lead_id:
                self._note_email(lead_id, None)

    def compact(self) -> None:
        """Drop what repeats without effect: an event's lead named again (it only has to
        exist), a link made again. So a parsing worker sends back one entry a lead."""
        seen: set[str] = set()
        leads = []
        for lead_id, traits, at in self.leads:
            if not traits and at is None:
                if lead_id in seen:
                    continue
                seen.add(lead_id)
            leads.append((lead_id, traits, at))
        self.leads = leads
        self.links = list(dict.fromkeys(self.links))

    def extend(self, other: Pending) -> None:
        """Take ``other``'s messages after these."""
        self.events.extend(other.events)
        self.leads.extend(other.leads)
        self.links.extend(other.links)
        self.aliases.extend(other.aliases)
        self.groups.extend(other.groups)
        self.emails.update(other.emails)

    def _note_email(self, user_id: str, email: object) -> None:
        key = email_key(email)
        if key is None and "@" in user_id:
            key = email_key(user_id)
        if key is not None and key != user_id:
            self.emails[user_id] = key

    @classmethod
    def merged(cls, parts: list[Pending]) -> Pending:
        """One ``Pending`` holding all of ``parts``, in order."""
        whole = cls()
        for part in parts:
            whole.extend(part)
        return whole

    def lead_ids(self) -> set[str]:
        """The leads these messages name (anonymous events name none until linked)."""
        return {lead_id for lead_id, _, _ in self.leads} | {lead for _, lead in self.links}

    def anonymous_ids(self) -> set[str]:
        return {row[2] for row in self.events if row[1] is None and row[2]}

    def write(self, store: Store, at: int) -> tuple[int, set[str]]:
        """Write everything and mark the leads it touches unscored as of ``at``, in one
        transaction, whichever door the messages came in by: a running service rescores
        what a file import wrote too (it picks up the marks). Returns how many events were
        new and the leads touched (with those whose anonymous events these link)."""
        with store.engine.begin() as conn:
            matched, known = self._route(store, conn)
            touched = self.lead_ids()
            anonymous = self.anonymous_ids()
            new = store.add_event_rows(self.events, conn)
            store.upsert_leads(self.leads, conn, known=known)
            shared = share_group_traits(self.groups, conn)
            store.upsert_leads(shared, conn, known={lead for lead, _, _ in shared})
            touched.update(lead for lead, _, _ in shared)
            store.link_identities(self.links, conn)
            merge_aliases(store, matched + self.aliases, conn)
            touched |= store.anonymous_leads(anonymous, conn)
            mark_unscored(conn, touched, at)
        self.events.clear()
        self.leads.clear()
        self.links.clear()
        self.aliases.clear()
        self.groups.clear()
        self.emails.clear()
        return new, touched

    def _route(self, store: Store, conn: sa.Connection) -> tuple[list[tuple[str, str]], set[str]]:
        """Send messages naming a user id that belongs to another lead to that lead
        (``store.aliases.routes``); returns the new matches to merge and link, and which of
        the leads now named exist (so the upsert need not read that again)."""
        named = {lead for lead, _, _ in self.leads} | {into for _, into in self.aliases}
        existing = store.existing_leads(sorted(named), conn)
        route, matched = routes(store, named, self.emails, conn, existing)
        known = existing | set(route.values())  # a route leads to a stored lead
        if not route:
            return matched, known
        self.leads = [(route.get(lead, lead), traits, at) for lead, traits, at in self.leads]
        self.links = [(anonymous, route.get(lead, lead)) for anonymous, lead in self.links]
        self.aliases = [(old, route.get(into, into)) for old, into in self.aliases]
        self.events = [
            (row[0], route[row[1]], *row[2:]) if row[1] in route else row for row in self.events
        ]
        return matched, known


def parse_message(raw: dict[str, Any], now: int, *, text_checked: bool = False) -> tuple[str, Any]:
    """One Segment message checked and normalised: ("identify", (lead_id, traits,
    anonymous_id, at)), ("group", the same with the account's traits), ("alias", (previous
    id, lead_id)) or ("event", StoredEvent); a ``MessageError`` names the bad field.
    ``text_checked``: the JSON it was read from spelt no text a store refuses
    (``json_values.text_is_clean``)."""
    found = json_values.problem(raw, "", text_checked=text_checked)
    if found is not None:
        raise MessageError(found[0] or "message", found[1])
    try:
        message = MESSAGE.validate_python(raw)
    except ValidationError as exc:
        raise _message_error(exc) from None
    user_id = _id(message.user_id, "userId")
    anonymous_id = _id(message.anonymous_id, "anonymousId")
    _check(json_values.name_problem, message.message_id, "messageId")
    if isinstance(message, Track):
        _check(json_values.name_problem, message.event, "event")
    elif isinstance(message, Page | Screen):
        _check(json_values.name_problem, message.name, "name")
    if isinstance(message, Identify | Group | Alias):
        if user_id is None:
            raise MessageError("userId", f"is required for {message.type} (it names the lead)")
        if isinstance(message, Alias):
            previous = _id(message.previous_id, "previousId")
            if previous is None:
                raise MessageError("previousId", "is required for alias (the id used before)")
            return "alias", (previous, user_id)
        # traits change as of the message's time (now when it has none)
        at = checked_time(message, now) if message.timestamp or message.original_timestamp else None
        if isinstance(message, Group):
            return "group", (user_id, _group_attributes(message), anonymous_id, at)
        return "identify", (user_id, dict(message.traits), anonymous_id, at)
    if user_id is None and anonymous_id is None:
        raise MessageError("userId", "is missing, and so is anonymousId; one is required")
    if isinstance(message, Track) and not message.event:
        raise MessageError("event", "is required for track calls")
    timestamp = checked_time(message, now)
    properties = dict(message.properties)
    context = (message.model_extra or {}).get("context")
    agent = context.get("userAgent") if isinstance(context, dict) else None
    if isinstance(agent, str) and "user_agent" not in properties:
        properties["user_agent"] = agent  # Segment's context.userAgent, for the bot filter
    campaign = context.get("campaign") if isinstance(context, dict) else None
    if isinstance(campaign, dict) and "campaign" not in properties:
        # Segment's context.campaign (the UTM parameters), for attribution reports
        kept = {k: v for k, v in campaign.items() if k in CAMPAIGN_KEYS and isinstance(v, str)}
        if kept:
            properties["campaign"] = kept
    return "event", StoredEvent(
        message_id=message_id_of(message, raw),
        lead_id=user_id,
        anonymous_id=anonymous_id,
        type="page" if isinstance(message, Screen) else message.type,
        event=message.event if isinstance(message, Track) else message.name,
        timestamp=timestamp,
        properties=properties,
    )


#: The keys of a plain event message, by type (``plain_event``).
_PLAIN_KEYS = {
    "track": frozenset(
        ("type", "userId", "anonymousId", "messageId", "timestamp", "properties", "event")
    ),
    "page": frozenset(
        ("type", "userId", "anonymousId", "messageId", "timestamp", "properties", "name")
    ),
}


def plain_event(raw: dict[str, Any], now: int, *, text_checked: bool = False) -> EventRow | None:
    """``parse_message(raw, now)``'s row for the commonest message, or None for any other.

    Most of what a service receives is track and page calls with text ids, a message id, a
    time and plain properties. For those this is the row ``parse_message`` makes, in a
    fraction of its time: no model is built and no field is named. Any other message (other
    keys such as ``context``, integer or missing ids, anything ``parse_message`` refuses) is
    None, and ``parse_message`` then parses it or names what is wrong.
    ``tests/properties/test_plain_events.py`` holds the two to each other."""
    kind = raw.get("type")
    keys = _PLAIN_KEYS.get(kind) if type(kind) is str else None
    if keys is None or not keys.issuperset(raw):
        return None
    user_id, message_id, text = raw.get("userId"), raw.get("messageId"), raw.get("timestamp")
    anonymous_id = raw.get("anonymousId")
    name = raw.get("event" if kind == "track" else "name")
    properties = raw.get("properties", {})
    if not (
        _plain_text(user_id, json_values.id_problem)
        and (anonymous_id is None or _plain_text(anonymous_id, json_values.id_problem))
        and _plain_text(message_id, json_values.name_problem)
        and (_plain_text(name, json_values.name_problem) or (name is None and kind == "page"))
        and _plain_text(text, lambda _: None)
        and type(properties) is dict
        and json_values.problem(raw, "", text_checked=text_checked) is None
    ):
        return None
    try:
        timestamp = checked_timestamp(cast(str, text), now)
    except MessageError:
        return None
    row = (message_id, user_id, anonymous_id, kind, name, timestamp, json.dumps(properties))
    return cast(EventRow, row)


def _plain_text(value: object, rule: Callable[[str], str | None]) -> bool:
    """Whether ``value`` is text, not empty, that ``rule`` finds nothing wrong with."""
    return type(value) is str and value != "" and rule(value) is None


#: The parts of Segment's ``context.campaign`` kept with an event (utm_name and so on).
CAMPAIGN_KEYS = ("name", "source", "medium", "term", "content")


def _group_attributes(message: Group) -> dict[str, Any]:
    """The lead attributes a group call sets (``spec.segment.Group``)."""
    group_id = _id(message.group_id, "groupId")
    if group_id is None:
        raise MessageError("groupId", "is required for group (it names the company)")
    attributes: dict[str, Any] = {"account_id": group_id}
    for name, value in message.traits.items():
        attributes[GROUP_TRAITS.get(name, f"company.{name}")] = value
    return attributes


_JSON_TYPES = {bool: "true or false", float: "a decimal number", list: "a list", dict: "an object"}


def _id(value: str | int | None, field: str) -> str | None:
    """An id as stored (integers as their digits); None when absent or empty."""
    if value is None or value == "":
        return None
    text = str(value)
    _check(json_values.id_problem, text, field)
    return text


def _check(rule: Callable[[str], str | None], value: str | None, field: str) -> None:
    reason = None if value is None else rule(value)
    if reason is not None:
        raise MessageError(field, reason)


def _message_error(exc: ValidationError) -> MessageError:
    """The first problem pydantic found, named by its field (a message's own fields, not
    under the ``type`` the parser chose)."""
    first = exc.errors()[0]
    kind, loc = first["type"], [str(part) for part in first["loc"]]
    if kind == "union_tag_invalid":
        given = first["input"]["type"]
        known = "identify, track, page, screen, group or alias"
        return MessageError("type", f"must be {known}. Got {given!r} instead")
    if kind == "union_tag_not_found":
        return MessageError("type", "Field required")
    if kind == "model_attributes_type":
        return MessageError("message", "must be an object")
    if len(loc) > 1 and loc[1] in ("userId", "anonymousId", "groupId", "previousId"):
        given = _JSON_TYPES.get(type(first["input"]), "value")
        return MessageError(loc[1], f"must be a string or an integer. Got {given} instead")
    return MessageError(".".join(loc[1:]) or "message", first["msg"])
