"""Sales feedback in predictive scoring: the collaborative part of the brief.

Training reads it as a feature: each lead's latest verdict given *before* a cut-off (good fit,
bad fit, not interested; none when nobody judged it) is one of its attributes, named
``FEATURE``, so the model learns from history how much a salesperson's verdict says about
converting, and weighs it against the rest, rather than being told to trust it (as labelled
negatives or weights would). A verdict after the cut-off is never seen by that row.

Evaluation reads the verdicts given *after* a cut-off, within the horizon, against the score
the lead had at the cut-off: how often the score agreed with what sales found when they
called (``agreement``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.sql import chunks
from leadscore.store.store import Store

#: The attribute a lead's latest verdict before the cut-off is read as.
FEATURE = "sales feedback"
#: Verdicts that say the lead was worth the call, and those that say it was not.
GOOD, BAD = ("good_fit",), ("bad_fit", "not_interested")
#: The score tiers agreement is reported by: the top 20 % of rows, the next 30 %, the rest.
TIERS = (("top 20 %", 0.2), ("next 30 %", 0.5), ("bottom 50 %", 1.0))

_SCHEMA = pa.schema(
    [("id", pa.int64()), ("lead_id", pa.string()), ("verdict", pa.string()), ("at", pa.int64())]
)


def no_verdicts() -> pa.Table:
    """``feedback_arrow``'s table with no verdict in it (data without sales feedback)."""
    return _SCHEMA.empty_table()


def feedback_arrow(store: Store, lead_ids: Sequence[str] | None = None) -> pa.Table:
    """Every verdict kept (or those about ``lead_ids``: scoring one lead reads its own):
    id, lead_id, verdict, at. Read as rows: a table of a few verdicts a lead at most reads
    faster so than through ``Store.arrow``'s reader process (0.4 s)."""
    table = schema.feedback
    query = sa.select(table.c.id, table.c.lead_id, table.c.verdict, table.c.at)
    with store.engine.connect() as conn:
        if lead_ids is None:
            rows = conn.execute(query).all()
        else:
            rows = [
                row
                for chunk in chunks(list(lead_ids))
                for row in conn.execute(query.where(table.c.lead_id.in_(chunk))).all()
            ]
    if not rows:
        return _SCHEMA.empty_table()
    columns = [list(column) for column in zip(*rows, strict=True)]
    return pa.table(columns, schema=_SCHEMA)


def verdicts_sql(cutoff: int, horizon: int | None) -> str:
    """CTEs ``said`` (each lead's latest verdict before ``cutoff``) and ``heard`` (its first
    within ``horizon`` after it; none without a horizon), over a ``feedback`` table."""
    order = 'CAST("at" AS HUGEINT) * 10000000000 + id'
    heard = (
        f"SELECT lead_id, arg_min(verdict, {order}) AS verdict FROM feedback "
        f'WHERE "at" >= {cutoff} AND "at" < {cutoff + horizon} GROUP BY 1'
        if horizon is not None
        else "SELECT NULL::VARCHAR AS lead_id, NULL::VARCHAR AS verdict WHERE false"
    )
    return (
        f"said AS (SELECT lead_id, arg_max(verdict, {order}) AS verdict FROM feedback "
        f'WHERE "at" < {cutoff} GROUP BY 1), heard AS ({heard})'
    )


def agreement(score: np.ndarray, heard: np.ndarray) -> dict[str, Any] | None:
    """How the score at the cut-off agreed with the verdicts sales gave after it, by score
    tier (``TIERS``, by rank among the rows): how many of each verdict, and the share of
    verdicts that agree (good fit in the top half of rows, bad fit or not interested in the
    bottom half). None when no row has a later verdict."""
    judged = np.array([isinstance(v, str) for v in heard])
    if not judged.any():
        return None
    rank = np.empty(len(score))
    rank[np.argsort(-score, kind="stable")] = np.arange(len(score)) / max(1, len(score))
    tiers = []
    start = 0.0
    for name, end in TIERS:
        inside = judged & (rank >= start) & (rank < end)
        verdicts = [str(v) for v in heard[inside]]
        tiers.append({"tier": name, **{v: verdicts.count(v) for v in (*GOOD, *BAD)}})
        start = end
    top_half = rank < 0.5
    given = np.array([str(v) for v in heard[judged]])
    agrees = np.where(np.isin(given, GOOD), top_half[judged], ~top_half[judged])
    return {"verdicts": int(judged.sum()), "agreement": float(agrees.mean()), "by_tier": tiers}
