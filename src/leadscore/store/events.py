"""Events: written once per message id, read back per lead (its anonymous history
included) or all at once as Arrow."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from leadscore._types import Event, now_us
from leadscore.store import schema
from leadscore.store.database import Database
from leadscore.store.sql import (
    EVENTS_OF_LEADS,
    EVENTS_SCHEMA,
    RESOLVED_EVENTS,
    chunks,
    insert_rows,
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as written: either a lead id or an anonymous id (or both)."""

    message_id: str
    lead_id: str | None
    anonymous_id: str | None
    type: str
    event: str | None
    timestamp: int
    properties: dict[str, Any]

    def row(self) -> EventRow:
        """The event as written (properties as JSON text)."""
        return (
            self.message_id,
            self.lead_id,
            self.anonymous_id,
            self.type,
            self.event,
            self.timestamp,
            json.dumps(self.properties),
        )


#: An event as ``add_event_rows`` writes it: message id, lead id, anonymous id, type,
#: event, timestamp, properties as JSON text. Parsing workers and the bulk reader of lines
#: make these, so no object is built per event on the way to the database.
EventRow = tuple[str, str | None, str | None, str, str | None, int, str]


#: The events table's columns, in the order ``add_events`` writes them.
EVENT_COLUMNS = (
    "message_id",
    "lead_id",
    "anonymous_id",
    "type",
    "event",
    "timestamp",
    "properties",
    "received_at",
)

#: Each lead's latest event by its own id or through a linked anonymous id, the halves of
#: ``EVENTS_OF_LEADS`` each read from an index alone (no event row is fetched).
LAST_ACTIVITY = (
    "SELECT lead_id, MAX(latest) AS latest FROM ("
    "SELECT lead_id, MAX(timestamp) AS latest FROM events WHERE lead_id IN :ids GROUP BY lead_id "
    "UNION ALL SELECT i.lead_id, MAX(e.timestamp) FROM identities i JOIN events e "
    "ON e.anonymous_id = i.anonymous_id AND e.lead_id IS NULL WHERE i.lead_id IN :ids "
    "GROUP BY i.lead_id) r GROUP BY lead_id"
)


class EventStore(Database):
    """The events table (events reach their lead through ``identities`` when anonymous)."""

    def add_events(self, rows: Sequence[StoredEvent], conn: sa.Connection | None = None) -> int:
        """Insert events, skipping message ids already stored; returns how many were new.

        A message id repeated within ``rows`` keeps its first row, as one repeated across
        calls does (Segment's rule: the first message with an id wins)."""
        return self.add_event_rows([row.row() for row in rows], conn)

    def add_event_rows(self, rows: Sequence[EventRow], conn: sa.Connection | None = None) -> int:
        """``add_events`` for events as rows (``EventRow``)."""
        if not rows:
            return 0
        unique: dict[str, EventRow] = {}
        for row in rows:
            unique.setdefault(row[0], row)
        now = now_us()
        new = [(*row, now) for row in unique.values()]
        with self.begin(conn) as conn:
            return insert_rows(conn, schema.events, EVENT_COLUMNS, new, keys=("message_id",))

    def event_names(self) -> set[str]:
        """Every distinct track event name stored."""
        events = schema.events
        query = sa.select(events.c.event).where(events.c.event.is_not(None)).distinct()
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def lead_events(self, lead_id: str) -> Iterator[Event]:
        """The lead's events, its anonymous history included, oldest first."""
        yield from self.events_of([lead_id])[lead_id]

    def event_rows(self, lead_ids: Sequence[str]) -> list[Any]:
        """The stored events of some leads (``EVENTS_OF_LEADS``: lead_id, type, event,
        timestamp, properties as JSON text, message_id), in no particular order."""
        query = sa.text(EVENTS_OF_LEADS.format(leads=":ids")).bindparams(
            sa.bindparam("ids", expanding=True)
        )
        with self.engine.connect() as conn:
            return [
                row
                for chunk in chunks(lead_ids)
                for row in conn.execute(query, {"ids": chunk}).all()
            ]

    def last_activity(self, lead_ids: Sequence[str]) -> dict[str, int]:
        """Each lead's latest event instant, its anonymous history included (a page's "last
        activity"); leads with no event are absent. One indexed range per lead."""
        query = sa.text(LAST_ACTIVITY).bindparams(sa.bindparam("ids", expanding=True))
        with self.engine.connect() as conn:
            return {
                row.lead_id: int(row.latest)
                for chunk in chunks(lead_ids)
                for row in conn.execute(query, {"ids": chunk}).all()
            }

    def events_of(self, lead_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of several leads at once (as ``lead_events`` gives them, oldest first)."""
        found: dict[str, list[Event]] = {lead_id: [] for lead_id in lead_ids}
        if not found:
            return found
        for row in sorted(self.event_rows(list(found)), key=lambda r: r.timestamp):
            found[row.lead_id].append(
                Event(
                    row.message_id,
                    row.lead_id,
                    row.type,
                    row.event,
                    row.timestamp,
                    json.loads(row.properties),
                )
            )
        return found

    def events_arrow(self) -> pa.Table:
        """All attributed events: lead_id, type, event, timestamp, properties."""
        return self.arrow(self.events_query(), EVENTS_SCHEMA)

    def events_query(self) -> str:
        """``events_arrow``'s query."""
        return f"SELECT lead_id, type, event, timestamp, properties FROM ({RESOLVED_EVENTS}) r"
