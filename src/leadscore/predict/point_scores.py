"""Point models (hand-written or learned) scored on learning rows by the real batch engine, so
an evaluation measures exactly what ``leadscore score`` would have said."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore._types import MILLI, now_us
from leadscore.engines.plan import compile_plan
from leadscore.engines.registry import get_engine
from leadscore.predict.dataset import Dataset
from leadscore.spec.model import ScoringModel
from leadscore.store.store import LEADS_SCHEMA, Store


def _json_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _table_leads(data: Dataset, rows: np.ndarray) -> pa.Table:
    records = data.raw.iloc[rows].to_dict(orient="records")
    attributes = [
        json.dumps({k: v for k, v in ((k, _json_value(v)) for k, v in r.items()) if v is not None})
        for r in records
    ]
    ids = [f"row-{i}" for i in rows]
    return pa.table(
        {"lead_id": ids, "attributes": attributes, "account_id": [None] * len(ids)},
        schema=LEADS_SCHEMA,
    )


def point_scores(
    model: ScoringModel, data: Dataset, store: Store | None = None
) -> tuple[np.ndarray, list[str | None]]:
    """Each row's score (points) and tier. Rows of a table are leads without events; rows of
    the project's history are scored as of just before their cut-off, from the events and
    attributes stored then. A lead the model does not apply to scores 0, tier none."""
    engine = get_engine()
    plan = compile_plan(model)
    scores = np.zeros(len(data.label))
    tiers: list[str | None] = [None] * len(data.label)
    if store is None:
        rows = np.arange(len(data.label))
        result = engine.score_many(plan, _table_leads(data, rows), None, now_us())
        placed(result, {f"row-{i}": int(i) for i in rows}, scores, tiers)
        return scores, tiers
    events = store.events_arrow()
    for cutoff in np.unique(data.order):
        rows = np.flatnonzero(data.order == cutoff)
        wanted = {data.ids[i]: int(i) for i in rows}
        # every lead is scored, the rows' leads kept: an account's facts count all its leads
        # then, those already converted or not seen yet included, as scoring did at the time
        leads = store.leads_arrow(int(cutoff))
        before = events.filter(pc.less(events["timestamp"], int(cutoff)))
        result = engine.score_many(plan, leads, before, int(cutoff) - 1)
        result = result.filter(pc.is_in(result["lead_id"], pa.array(list(wanted), pa.string())))
        placed(result, wanted, scores, tiers)
    return scores, tiers


def placed(
    result: pa.Table, where: dict[str, int], scores: np.ndarray, tiers: list[str | None]
) -> None:
    """Each result row's score (points) and tier at its row (``where``: lead id to row)."""
    for lead_id, score, tier in zip(
        result["lead_id"].to_pylist(),
        result["score"].to_pylist(),
        result["tier"].to_pylist(),
        strict=True,
    ):
        row = where[lead_id]
        scores[row] = score / MILLI
        tiers[row] = tier
