"""Predictions kept on the leads, like point results: each lead's probability, 0-100 score
and top reasons under the version in use of each trained model, so lists rank and filter by
them without computing them per request.

They are kept for every lead when a trained version is put in use (``leadscore train``,
``leadscore models activate``) and when every lead is rescored (``leadscore score``,
``leadscore rescore``), and for the leads of each of the service's rescoring rounds
(``lead_predictions``, then ``keep_lead_predictions`` in the write lane). A lead written by
a file import has none until the next of those, and ranking by chance leaves it out until
then. ``GET /v1/leads/{id}`` computes the lead's prediction afresh, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from leadscore.app.model_versions import trained_in_use, trained_names
from leadscore.app.notifications import chance_watchers, queue_chance_deliveries
from leadscore.app.project import Project
from leadscore.store.predictions import forget_other_models, keep_predictions, kept_scores
from leadscore.store.store import Store
from leadscore.store.webhooks import webhooks


@dataclass(frozen=True, slots=True)
class Kept:
    model: str
    version: int
    leads: int


def keep_every_prediction(project: Project, store: Store, at: int) -> list[Kept]:
    """Every lead's prediction as of ``at`` under each trained model in use, kept (those of
    models no longer in use go). Returns what was kept, per model."""
    from leadscore.predict.scoring import predict  # the learning libraries, when needed

    in_use = trained_in_use(project)
    forget_other_models(store, [loaded.name for loaded in in_use])
    kept = []
    for loaded in in_use:
        table = predict(store, loaded, at)
        count = _keep(store, table, at, loaded.name, None)
        kept.append(Kept(loaded.name, loaded.version, count))
    return kept


def _keep(
    store: Store, table: pa.Table, at: int, model: str, lead_ids: Sequence[str] | None
) -> int:
    """Keep one model's predictions and, in the same transaction, the ``chance_crossed``
    deliveries they owe against the ones they replace."""
    with store.engine.begin() as conn:
        watching = chance_watchers(webhooks(store, conn), model)
        before = kept_scores(conn, model, lead_ids) if watching else {}
        count = keep_predictions(store, table, at, model=model, lead_ids=lead_ids, conn=conn)
        queue_chance_deliveries(conn, store, watching, model, table, before, at)
    return count


def lead_predictions(
    project: Project, store: Store, at: int, lead_ids: Sequence[str]
) -> list[tuple[str, pa.Table]]:
    """Some leads' predictions as of ``at`` under each trained model in use (leads no longer
    stored are left out), to keep with ``keep_lead_predictions``: computing is the slow part
    and needs no write lock."""
    if not lead_ids or not trained_names(project):
        return []
    from leadscore.predict.scoring import predict  # the learning libraries, when needed

    return [
        (loaded.name, predict(store, loaded, at, lead_ids, skip_missing=True))
        for loaded in trained_in_use(project)
    ]


def keep_lead_predictions(
    store: Store, at: int, lead_ids: Sequence[str], found: list[tuple[str, pa.Table]]
) -> None:
    """Keep ``lead_predictions``' tables for those leads (a lead left out loses its row)."""
    for model, table in found:
        _keep(store, table, at, model, lead_ids)


def chance_model(project: Project) -> str | None:
    """The trained model whose kept predictions lists show as the chance to convert: the
    first in use by name (None without one)."""
    names = trained_names(project)
    return names[0] if names else None
