"""Which leads changed since a mark: what keeps a prepared batch up to date between runs.

A lead changes when one of its events arrives, when an anonymous id is linked to it (its
anonymous events become its own) or when its attributes change (a new lead's first attributes
included). An erasure removes a lead; the mark counts erasures, and a preparation made
before one is prepared anew. SQLite numbers rows in insertion order and lets one writer
commit at a time, so the highest row numbers are a mark: anything above it came later. Other
databases make no such promise, so they get no mark and every run prepares everything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from leadscore.store.store import (
    EVENTS_OF_LEADS,
    EVENTS_SCHEMA,
    LEADS_SCHEMA,
    RESOLVED_EVENTS,
    Store,
)


@dataclass(frozen=True, slots=True)
class ChangeMark:
    store_id: str
    events: int
    identities: int
    versions: int
    erasures: int  # an erasure removes a lead: only preparing anew forgets it

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ChangeMark | None:
        """The mark ``as_dict`` gave, or None when ``values`` is not one."""
        try:
            return cls(
                str(values["store_id"]),
                int(values["events"]),
                int(values["identities"]),
                int(values["versions"]),
                int(values["erasures"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


_MAXIMA = (
    "SELECT (SELECT value FROM store_info WHERE key = 'store_id'), "
    "(SELECT COALESCE(max(rowid), 0) FROM events), "
    "(SELECT COALESCE(max(rowid), 0) FROM identities), "
    "(SELECT COALESCE(max(id), 0) FROM lead_versions), "
    "(SELECT COALESCE(max(id), 0) FROM erasures)"
)

_CHANGED = (
    "SELECT COALESCE(e.lead_id, i.lead_id) FROM events e LEFT JOIN identities i "
    "ON e.lead_id IS NULL AND i.anonymous_id = e.anonymous_id WHERE e.rowid > {events} "
    "UNION SELECT lead_id FROM identities WHERE rowid > {identities} "
    "UNION SELECT lead_id FROM lead_versions WHERE id > {versions}"
)


def change_mark(store: Store) -> ChangeMark | None:
    """Where the database stands now, or None when it cannot say (not SQLite)."""
    if store.engine.dialect.name != "sqlite":
        return None
    with store.engine.connect() as conn:
        store_id, events, identities, versions, erasures = conn.exec_driver_sql(_MAXIMA).one()
    return ChangeMark(str(store_id), int(events), int(identities), int(versions), int(erasures))


def _changed(mark: ChangeMark) -> str:
    return _CHANGED.format(
        events=int(mark.events), identities=int(mark.identities), versions=int(mark.versions)
    )


_RELINKED_OR_EDITED = (
    "SELECT lead_id FROM identities WHERE rowid > {identities} "
    "UNION SELECT lead_id FROM lead_versions WHERE id > {versions}"
)

_NEW_EVENTS = RESOLVED_EVENTS + " AND e.rowid > {since} AND e.rowid <= {until}"


def relinked_or_edited(store: Store, mark: ChangeMark) -> set[str]:
    """The leads given an anonymous id's events, or new attributes, after ``mark``: changes
    that new events alone do not tell (``new_events``)."""
    query = _RELINKED_OR_EDITED.format(identities=int(mark.identities), versions=int(mark.versions))
    with store.engine.connect() as conn:
        return {lead_id for (lead_id,) in conn.exec_driver_sql(query)}


def new_events(store: Store, since: ChangeMark, until: ChangeMark) -> list[Any]:
    """The events stored after ``since`` and by ``until`` (rows as ``Store.event_rows`` gives
    them), attributed as they are at ``until``; those of no lead yet are left out."""
    query = _NEW_EVENTS.format(since=int(since.events), until=int(until.events))
    with store.engine.connect() as conn:
        return list(conn.exec_driver_sql(query))


def changed_since(store: Store, mark: ChangeMark) -> tuple[pa.Table, pa.Table]:
    """The leads changed after ``mark`` (current attributes) and all of their events.

    Changes made while this reads may be included: reading a lead twice is harmless.
    """
    changed = _changed(mark)
    leads = store.arrow(
        f"SELECT lead_id, attributes, account_id FROM leads WHERE lead_id IN ({changed}) "
        "ORDER BY lead_id",
        LEADS_SCHEMA,
    )
    resolved = EVENTS_OF_LEADS.format(leads=f"({changed})")
    events = store.arrow(
        f"SELECT lead_id, type, event, timestamp, properties FROM ({resolved}) r", EVENTS_SCHEMA
    )
    return leads, events
