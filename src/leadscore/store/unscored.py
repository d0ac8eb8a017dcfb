"""Leads whose kept results are behind their stored data (``schema.unscored_leads``).

A write marks its leads in the transaction that stores it; keeping their new results clears
the marks in that transaction. Whatever a crash interrupts in between is found here on
restart and rescored, so every accepted event ends up scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.store import Store


def mark_unscored(conn: sa.Connection, lead_ids: Iterable[str], at: int) -> None:
    """Mark leads as changed at ``at``, in ``conn``'s transaction (the one storing the change)."""
    table = schema.unscored_leads
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        conn.execute(table.delete().where(table.c.lead_id.in_(chunk)))
        conn.execute(table.insert(), [{"lead_id": lead_id, "since": at} for lead_id in chunk])


def clear_unscored(conn: sa.Connection, lead_ids: Sequence[str] | None, at: int) -> None:
    """Clear the marks of leads scored as of ``at`` (None: every lead) made at or before it; a
    mark made later stays, for its change may not have been seen."""
    table = schema.unscored_leads
    if lead_ids is None:
        conn.execute(table.delete().where(table.c.since <= at))
        return
    for start in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[start : start + 500])
        conn.execute(table.delete().where(table.c.lead_id.in_(chunk), table.c.since <= at))


def unscored(store: Store) -> list[str]:
    """The marked leads, to rescore."""
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(schema.unscored_leads.c.lead_id)).scalars())
