"""Each lead's latest result per model: what the service keeps current as events arrive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.store import Store

COLUMNS = ("lead_id", "model", "fit", "engagement", "score", "tier", "grade", "stage", "as_of")


def save_scores(store: Store, rows: Sequence[dict[str, Any]]) -> None:
    """Replace the stored result of each (lead, model) in ``rows`` (keys: ``COLUMNS``)."""
    if not rows:
        return
    table = schema.lead_scores
    with store.engine.begin() as conn:
        for row in rows:
            conn.execute(
                table.delete().where(
                    table.c.lead_id == row["lead_id"], table.c.model == row["model"]
                )
            )
        conn.execute(table.insert(), [{name: row[name] for name in COLUMNS} for row in rows])


def stored_scores(store: Store, lead_id: str) -> list[dict[str, Any]]:
    """The lead's stored results, one per model, in model order."""
    table = schema.lead_scores
    query = sa.select(table).where(table.c.lead_id == lead_id).order_by(table.c.model)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
