"""Predictions kept on the leads (table ``predictions``): each lead's probability, score and
top reasons under the version in use of each trained model, as of the instant they were
computed. Written whole per model (a new version, a full rescoring) or for some leads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.sql import chunks
from leadscore.store.store import Store


def score_tenths(score: float) -> int:
    """A prediction's 0-100 score (one decimal) as the integer it is kept and ordered by."""
    return round(score * 10)


def keep_predictions(
    store: Store,
    table: pa.Table,
    at: int,
    *,
    model: str,
    lead_ids: Sequence[str] | None,
    conn: sa.Connection | None = None,
) -> int:
    """Keep one model's predictions (``predict.scoring.PREDICTION_SCHEMA`` rows) computed as
    of ``at``: for every lead (``lead_ids`` None: the model's earlier rows go) or for those
    leads. One transaction (``conn``'s when given). Returns the rows kept."""
    kept = schema.predictions
    rows = [
        {
            "lead_id": row["lead_id"],
            "model": model,
            "version": row["version"],
            "probability": row["probability"],
            "score_tenths": score_tenths(row["score"]),
            "reasons": row["reasons"],
            "as_of": at,
        }
        for row in table.to_pylist()
    ]
    with store.begin(conn) as conn:
        if lead_ids is None:
            conn.execute(sa.delete(kept).where(kept.c.model == model))
        else:
            for part in chunks(lead_ids):
                conn.execute(sa.delete(kept).where(kept.c.model == model, kept.c.lead_id.in_(part)))
        if rows:
            conn.execute(sa.insert(kept), rows)
    return len(rows)


def kept_scores(conn: sa.Connection, model: str, lead_ids: Sequence[str] | None) -> dict[str, int]:
    """The kept 0-100 scores, in tenths, of ``model``'s predictions of those leads (None:
    every lead), read in ``conn``'s transaction (before it replaces them)."""
    kept = schema.predictions
    query = sa.select(kept.c.lead_id, kept.c.score_tenths).where(kept.c.model == model)
    if lead_ids is None:
        return {row[0]: row[1] for row in conn.execute(query)}
    found: dict[str, int] = {}
    for part in chunks(lead_ids):
        found.update(
            {row[0]: row[1] for row in conn.execute(query.where(kept.c.lead_id.in_(part)))}
        )
    return found


def forget_other_models(store: Store, models: Sequence[str]) -> None:
    """Drop the predictions of models no longer in use (none of ``models``)."""
    kept = schema.predictions
    with store.engine.begin() as conn:
        conn.execute(sa.delete(kept).where(kept.c.model.not_in(list(models))))


def kept_predictions(store: Store, model: str, lead_ids: Sequence[str]) -> dict[str, Any]:
    """The kept prediction of each of ``lead_ids`` that has one under ``model``: probability,
    score (0-100), reasons, version and the instant."""
    kept = schema.predictions
    found: dict[str, Any] = {}
    with store.engine.connect() as conn:
        for part in chunks(lead_ids):
            query = sa.select(kept).where(kept.c.model == model, kept.c.lead_id.in_(part))
            for row in conn.execute(query).mappings():
                found[row["lead_id"]] = {
                    "probability": row["probability"],
                    "score": row["score_tenths"] / 10,
                    "reasons": json.loads(row["reasons"]),
                    "version": row["version"],
                    "as_of": row["as_of"],
                }
    return found
