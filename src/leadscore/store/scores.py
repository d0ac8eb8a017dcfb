"""Each lead's latest result per model: what the service keeps current as events arrive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
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


def replace_scores(store: Store, results: pa.Table, at: int) -> list[str]:
    """Keep a batch run's results (``score_all``'s table) as each lead's current result, model
    by model; a model whose kept results are newer than ``at`` is left alone (scoring the past
    does not replace the present). Returns the names of the models left alone."""
    table = schema.lead_scores
    skipped = []
    with store.engine.begin() as conn:
        for model in pc.unique(results["model"]).to_pylist():
            newest = conn.execute(
                sa.select(sa.func.max(table.c.as_of)).where(table.c.model == model)
            ).scalar_one()
            if newest is not None and newest > at:
                skipped.append(model)
                continue
            conn.execute(table.delete().where(table.c.model == model))
            mine = results.filter(pc.equal(results["model"], model))
            rows = mine.select(list(COLUMNS[:-1])).to_pylist()
            for start in range(0, len(rows), 10_000):
                chunk = rows[start : start + 10_000]
                conn.execute(table.insert(), [{**row, "as_of": at} for row in chunk])
    return skipped


def ranked_scores(
    store: Store,
    model: str,
    *,
    tier: str | None = None,
    stage: str | None = None,
    grade: str | None = None,
    text: str | None = None,
    after: tuple[int, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Leads by score, highest first (ties by lead id), with the filters given; ``after`` is
    the (score, lead_id) of the last row of the previous page (keyset pagination, so pages
    stay stable while scores change)."""
    table, leads = schema.lead_scores, schema.leads
    query = (
        sa.select(table, leads.c.attributes)
        .join(leads, leads.c.lead_id == table.c.lead_id)
        .where(table.c.model == model)
    )
    for column, value in ((table.c.tier, tier), (table.c.stage, stage), (table.c.grade, grade)):
        if value is not None:
            query = query.where(column == value)
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        query = query.where(
            sa.or_(
                sa.func.lower(table.c.lead_id).like(pattern, escape="\\"),
                sa.func.lower(leads.c.attributes).like(pattern, escape="\\"),
            )
        )
    if after is not None:
        score, lead_id = after
        query = query.where(
            sa.or_(
                table.c.score < score, sa.and_(table.c.score == score, table.c.lead_id > lead_id)
            )
        )
    query = query.order_by(table.c.score.desc(), table.c.lead_id).limit(limit)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
