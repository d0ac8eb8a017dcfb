"""Leads whose kept results are behind their stored data (``schema.unscored_leads``).

A write marks its leads in the transaction that stores it; keeping their new results clears
the marks in that transaction. Whatever a crash interrupts in between is found here on
restart and rescored, so every accepted event ends up scored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.sql import insert_rows, one_of
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
    query = sa.select(table.c.lead_id, table.c.since).where(one_of(conn, table.c.lead_id, lead_ids))
    return dict(conn.execute(query).all())


def clear_marks(conn: sa.Connection, marks: Mapping[str, int]) -> None:
    """Clear the marks seen before scoring, in the transaction keeping the results. A mark
    made since (a later write to the lead replaced it) stays: its change may not have been
    seen, and the next rescoring takes it."""
    if not marks:
        return
    if conn.dialect.name == "postgresql":
        seen = "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:sinces AS bigint[]))"
        values: dict[str, Any] = {"ids": list(marks), "sinces": list(marks.values())}
    else:
        seen = (
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:pairs)"
        )
        values = {"pairs": json.dumps(list(marks.items()))}
    conn.execute(sa.text(f"DELETE FROM unscored_leads WHERE (lead_id, since) IN ({seen})"), values)


def unscored(store: Store) -> list[str]:
    """The marked leads, to rescore."""
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(schema.unscored_leads.c.lead_id)).scalars())
