"""Leads whose kept results are behind their stored data (``schema.unscored_leads``).

A write marks its leads in the transaction that stores it; keeping their new results clears
the marks in that transaction. Whatever a crash interrupts in between is found here on
restart and rescored, so every accepted event ends up scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.sql import insert_rows
from leadscore.store.store import Store


def mark_unscored(conn: sa.Connection, lead_ids: Iterable[str], at: int) -> None:
    """Mark leads as changed at ``at``, in ``conn``'s transaction (the one storing the change)."""
    rows = [(lead_id, at) for lead_id in sorted(set(lead_ids))]
    insert_rows(
        conn, schema.unscored_leads, ("lead_id", "since"), rows, keys=("lead_id",), replace=True
    )


def marks_of(conn: sa.Connection, lead_ids: Sequence[str] | None) -> dict[str, int]:
    """The marks of these leads (None: of every lead), lead -> when made. Read them before
    reading what to score: a mark seen then was committed before the scoring read."""
    table = schema.unscored_leads
    if lead_ids is None:
        return dict(conn.execute(sa.select(table.c.lead_id, table.c.since)).all())
    found: dict[str, int] = {}
    for start in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[start : start + 500])
        query = sa.select(table.c.lead_id, table.c.since).where(table.c.lead_id.in_(chunk))
        found.update(conn.execute(query).all())
    return found


def clear_marks(conn: sa.Connection, marks: Mapping[str, int]) -> None:
    """Clear the marks seen before scoring, in the transaction keeping the results. A mark
    made since (a later write to the lead replaced it) stays: its change may not have been
    seen, and the next rescoring takes it."""
    table = schema.unscored_leads
    pairs = sorted(marks.items())
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        conn.execute(table.delete().where(sa.tuple_(table.c.lead_id, table.c.since).in_(chunk)))


def unscored(store: Store) -> list[str]:
    """The marked leads, to rescore."""
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(schema.unscored_leads.c.lead_id)).scalars())
