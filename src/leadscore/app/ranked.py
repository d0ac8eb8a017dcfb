"""The ranked lead list: leads by their kept score under a model, highest first, with who
each lead is beside its id; what the dashboard's leads page and the API's list show."""

from __future__ import annotations

import json
from typing import Any

from leadscore.app.people import person
from leadscore.store.scores import ORDERS, order_key, ranked_scores
from leadscore.store.store import Store

__all__ = ["ORDERS", "order_key", "ranked_leads"]


def ranked_leads(
    store: Store,
    model: str,
    *,
    tier: str | None = None,
    stage: str | None = None,
    grade: str | None = None,
    owner: str | None = None,
    text: str | None = None,
    after: tuple[int, int, str] | None = None,
    limit: int = 50,
    order: str = "score",
    chance_of: str | None = None,
    chance_min: float | None = None,
) -> list[dict[str, Any]]:
    """Kept results ranked by score (or ``order``: ``ORDERS``) after the keyset position
    ``after`` (``order_key`` of the last row shown), each with its attributes (parsed) and
    ``who`` (``people.person``); with ``chance_of`` (a trained model), each with its kept
    prediction (``scores.ranked_scores``)."""
    rows = ranked_scores(
        store,
        model,
        tier=tier,
        stage=stage,
        grade=grade,
        owner=owner,
        text=text,
        after=after,
        limit=limit,
        order=order,
        chance_of=chance_of,
        chance_min=chance_min,
    )
    for row in rows:
        attributes = json.loads(row["attributes"])
        row["attributes"] = attributes if isinstance(attributes, dict) else {}
        row["who"] = person(row["attributes"])
    return rows
