"""Scoring the project's leads with a registered predictive model: each lead as it stands at
the instant asked (attributes then, events before it), its calibrated probability, 0-100 score
and reasons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from leadscore._types import format_as_of
from leadscore.errors import NotFoundError
from leadscore.predict import history
from leadscore.predict.dataset import Dataset
from leadscore.predict.registry import Loaded
from leadscore.predict.trees import FLAT_POINTS, Reason
from leadscore.store.store import Store

PREDICTION_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("model", pa.string()),
        ("version", pa.int64()),
        ("probability", pa.float64()),
        ("score", pa.float64()),
        ("reasons", pa.string()),
    ]
)


def predict(
    store: Store,
    loaded: Loaded,
    as_of: int,
    lead_ids: Sequence[str] | None = None,
    top: int = 3,
    *,
    skip_missing: bool = False,
) -> pa.Table:
    """Every lead's (or those given) prediction as of ``as_of``, best first. A lead given
    that is not stored is a ``NotFoundError``, or left out with ``skip_missing``."""
    data = history.leads_as_of(store, as_of, loaded.kinds, lead_ids)
    if lead_ids is not None and not skip_missing:
        missing = sorted(set(lead_ids) - set(data.ids))
        if missing:
            raise NotFoundError(f"lead {missing[0]!r} is not in the database")
    table = predictions(loaded, data, top)
    return table.sort_by([("score", "descending"), ("lead_id", "ascending")])


def predictions(loaded: Loaded, data: Dataset, top: int = 3) -> pa.Table:
    """The rows of ``data`` scored by ``loaded`` (``PREDICTION_SCHEMA``, in their order):
    what ``predict`` ranks, and what a lake's partitions give (``app.lake_predictions``)."""
    if not data.ids:
        return PREDICTION_SCHEMA.empty_table()
    probability, reasons = loaded.model.explained(data, top=top)
    return pa.table(
        {
            "lead_id": data.ids,
            "model": [loaded.name] * len(data.ids),
            "version": [loaded.version] * len(data.ids),
            "probability": probability,
            "score": (100.0 * probability).round(1),
            "reasons": [json.dumps([_reason(r) for r in rs]) for rs in reasons],
        },
        schema=PREDICTION_SCHEMA,
    )


def _reason(reason: Reason) -> dict[str, Any]:
    return {"feature": reason.feature, "text": reason.text, "points": round(reason.points, 1)}


def explain(store: Store, loaded: Loaded, lead_id: str, as_of: int) -> dict[str, Any]:
    """One lead's probability, score, the average lead's score and every reason."""
    data = history.leads_as_of(store, as_of, loaded.kinds, [lead_id])
    if not data.ids:
        raise NotFoundError(f"lead {lead_id!r} is not in the database")
    found, explained = loaded.model.explained(data, top=len(loaded.model.feature_names))
    probability, reasons = float(found[0]), explained[0]
    average = loaded.model.average_score(data)
    flat = abs(100 * probability - average) < FLAT_POINTS
    return {
        "lead_id": lead_id,
        "model": loaded.name,
        "version": loaded.version,
        "as_of": format_as_of(as_of),
        "probability": probability,
        "score": round(100 * probability, 1),
        "average_score": round(average, 1),
        # calibration gives this lead the average score: the reasons are the trees' own
        "reasons_basis": "uncalibrated probability" if flat else "score",
        "reasons": [_reason(r) for r in reasons],
    }
