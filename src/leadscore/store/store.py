"""Store: leads, identities, events and the stage history in a SQL database (embedded SQLite
by default), put together from the modules that own each table.

Writes go through SQLAlchemy Core and are idempotent: an event's ``message_id`` is its key, so
re-importing a file changes nothing. Reads for the batch engine come out as Arrow tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from leadscore.store.events import EventStore, StoredEvent
from leadscore.store.leads import LeadStore
from leadscore.store.sql import (
    EARLIEST,
    EVENTS_OF_LEADS,
    EVENTS_SCHEMA,
    LEADS_SCHEMA,
    RESOLVED_EVENTS,
    VERSIONS_SCHEMA,
    upsert,
)
from leadscore.store.stages import StageStore, StageTransition

__all__ = [
    "EARLIEST",
    "EVENTS_OF_LEADS",
    "EVENTS_SCHEMA",
    "LEADS_SCHEMA",
    "RESOLVED_EVENTS",
    "VERSIONS_SCHEMA",
    "StageTransition",
    "Store",
    "StoredEvent",
    "upsert",
]


class Store(LeadStore, EventStore, StageStore):
    """A leadscore database. Open with ``Store.open(url)``; close with ``close()``."""

    def leads_and_events_arrow(self, as_of: int | None = None) -> tuple[pa.Table, pa.Table]:
        """``leads_arrow(as_of)`` and ``events_arrow()``, the batch engine's whole input, in
        one ``arrows`` call: one child process reads both from SQLite, PostgreSQL reads them
        at the same time."""
        leads, events = self.arrows(
            [(self.leads_query(as_of), LEADS_SCHEMA), (self.events_query(), EVENTS_SCHEMA)]
        )
        return leads, events

    def accounts_arrow(self, lead_ids: Sequence[str]) -> tuple[pa.Table, pa.Table]:
        """Some leads and everyone at their accounts (current attributes), and all their
        events: the batch engine's input for rescoring those leads exactly."""
        rows = self.lead_rows(self.with_colleagues(lead_ids))
        rows.sort(key=lambda row: row.lead_id)
        members = pa.table(
            {name: [row[i] for row in rows] for i, name in enumerate(LEADS_SCHEMA.names)},
            schema=LEADS_SCHEMA,
        )
        found = self.event_rows([row.lead_id for row in rows]) if rows else []
        events = pa.table(
            {name: [row[i] for row in found] for i, name in enumerate(EVENTS_SCHEMA.names)},
            schema=EVENTS_SCHEMA,
        )
        return members, events
