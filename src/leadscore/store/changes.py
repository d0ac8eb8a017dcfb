"""Which leads changed since a mark: what keeps a prepared batch up to date between runs.

A lead changes when one of its events arrives, when an anonymous id is linked to it (its
anonymous events become its own) or when its attributes change (a new lead's first attributes
included). An erasure removes a lead; the mark counts erasures, and a preparation made
before one is prepared anew.

Two kinds of mark, one meaning ("everything written by then"):

- SQLite numbers rows in insertion order and lets one writer commit at a time, so the
  highest row numbers are a mark: anything above it came later.
- PostgreSQL commits concurrent writers in any order, so a row number says nothing. Each
  row there keeps the transaction that wrote it (``written_xid``, migration 0010) and the
  mark is a snapshot of the server (``pg_current_snapshot()``): a row came later when its
  transaction is not visible in the snapshot (``pg_visible_in_snapshot``). Rows of
  transactions older than the snapshot's oldest running one are visible to it, so an index
  on ``written_xid`` finds the rest.

Another database gets no mark, and every run prepares everything.
"""

from __future__ import annotations

import re
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
    """Where a database stood: SQLite's highest row numbers, or PostgreSQL's snapshot
    (``snapshot``, the numbers then 0); and the erasures made by then on both."""

    store_id: str
    events: int
    identities: int
    versions: int
    erasures: int  # an erasure removes a lead: only preparing anew forgets it
    snapshot: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ChangeMark | None:
        """The mark ``as_dict`` gave, or None when ``values`` is not one."""
        try:
            snapshot = str(values.get("snapshot", ""))
            if snapshot and not _SNAPSHOT.fullmatch(snapshot):
                return None
            return cls(
                str(values["store_id"]),
                int(values["events"]),
                int(values["identities"]),
                int(values["versions"]),
                int(values["erasures"]),
                snapshot,
            )
        except (KeyError, TypeError, ValueError):
            return None


#: A PostgreSQL snapshot as text: ``xmin:xmax:xip,...`` (it is written into queries).
_SNAPSHOT = re.compile(r"\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?")

_MAXIMA = (
    "SELECT (SELECT value FROM store_info WHERE key = 'store_id'), "
    "(SELECT COALESCE(max(rowid), 0) FROM events), "
    "(SELECT COALESCE(max(rowid), 0) FROM identities), "
    "(SELECT COALESCE(max(id), 0) FROM lead_versions), "
    "(SELECT COALESCE(max(id), 0) FROM erasures)"
)

_SNAPSHOT_NOW = (
    "SELECT (SELECT value FROM store_info WHERE key = 'store_id'), "
    "pg_current_snapshot()::text, (SELECT count(*) FROM erasures)"
)

#: The row number each table's rows are told apart by on SQLite.
_ROW_NUMBER = {"events": "rowid", "identities": "rowid", "lead_versions": "id"}


def change_mark(store: Store) -> ChangeMark | None:
    """Where the database stands now, or None when it cannot say (neither SQLite nor
    PostgreSQL)."""
    dialect = store.engine.dialect.name
    if dialect == "postgresql":
        with store.engine.connect() as conn:
            store_id, snapshot, erasures = conn.exec_driver_sql(_SNAPSHOT_NOW).one()
        return ChangeMark(str(store_id), 0, 0, 0, int(erasures), str(snapshot))
    if dialect != "sqlite":
        return None
    with store.engine.connect() as conn:
        store_id, events, identities, versions, erasures = conn.exec_driver_sql(_MAXIMA).one()
    return ChangeMark(str(store_id), int(events), int(identities), int(versions), int(erasures))


def _after(alias: str, table: str, mark: ChangeMark) -> str:
    """SQL that holds for a row of ``table`` (as ``alias``) written after ``mark``."""
    if mark.snapshot:
        snapshot = _snapshot(mark)
        return (
            f"{alias}.written_xid >= pg_snapshot_xmin({snapshot}) "
            f"AND NOT pg_visible_in_snapshot({alias}.written_xid, {snapshot})"
        )
    count = {"events": mark.events, "identities": mark.identities, "lead_versions": mark.versions}
    return f"{alias}.{_ROW_NUMBER[table]} > {int(count[table])}"


def _by(alias: str, table: str, mark: ChangeMark) -> str:
    """SQL that holds for a row of ``table`` (as ``alias``) written by ``mark``."""
    if mark.snapshot:
        return f"pg_visible_in_snapshot({alias}.written_xid, {_snapshot(mark)})"
    count = {"events": mark.events, "identities": mark.identities, "lead_versions": mark.versions}
    return f"{alias}.{_ROW_NUMBER[table]} <= {int(count[table])}"


def _snapshot(mark: ChangeMark) -> str:
    if not _SNAPSHOT.fullmatch(mark.snapshot):  # a mark read back from a file is checked
        raise ValueError(f"not a PostgreSQL snapshot: {mark.snapshot!r}")
    return f"'{mark.snapshot}'::pg_snapshot"


def _changed(mark: ChangeMark) -> str:
    return (
        "SELECT COALESCE(e.lead_id, i.lead_id) FROM events e LEFT JOIN identities i "
        "ON e.lead_id IS NULL AND i.anonymous_id = e.anonymous_id "
        f"WHERE {_after('e', 'events', mark)} "
        f"UNION {_relinked_or_edited(mark)}"
    )


def _relinked_or_edited(mark: ChangeMark) -> str:
    return (
        f"SELECT i.lead_id FROM identities i WHERE {_after('i', 'identities', mark)} "
        f"UNION SELECT v.lead_id FROM lead_versions v WHERE {_after('v', 'lead_versions', mark)}"
    )


def relinked_or_edited(store: Store, mark: ChangeMark) -> set[str]:
    """The leads given an anonymous id's events, or new attributes, after ``mark``: changes
    that new events alone do not tell (``new_events``)."""
    with store.engine.connect() as conn:
        return {lead_id for (lead_id,) in conn.exec_driver_sql(_relinked_or_edited(mark))}


def new_events(store: Store, since: ChangeMark, until: ChangeMark) -> list[Any]:
    """The events stored after ``since`` and by ``until`` (rows as ``Store.event_rows`` gives
    them), attributed as they are at ``until``; those of no lead yet are left out."""
    query = f"{RESOLVED_EVENTS} AND {_after('e', 'events', since)} AND {_by('e', 'events', until)}"
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
