"""Files into the project: leads, with what a CRM export tells beyond their attributes,
events and outcomes.

A CRM export says which stage the CRM has each lead in and what became of it. Imported stages
enter the stage history (kind ``crm``, with the value and the file as the reason) and a
Customer or Closed Won is recorded as an outcome, so scoring continues from what sales
already knows and training learns from it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadscore._types import Outcome, now_us
from leadscore.app.project import Project
from leadscore.errors import ConflictError, NotFoundError
from leadscore.settings import CrmStage
from leadscore.spec.model import ScoringModel
from leadscore.store import ingest
from leadscore.store.ingest import ImportSummary
from leadscore.store.input_files import Progress
from leadscore.store.mappings import stage_key, stage_meanings
from leadscore.store.outcomes import record_new_outcomes
from leadscore.store.stages import StageTransition
from leadscore.store.store import Store
from leadscore.store.unscored import mark_unscored

__all__ = [
    "CrmStages",
    "ImportSummary",
    "apply_crm_stages",
    "import_events",
    "import_leads",
    "import_outcomes",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CrmStages:
    """What the CRM stage values of one import did."""

    #: stage changes recorded (a lead and a model each)
    transitions: int = 0
    #: outcomes recorded (none twice for a lead)
    outcomes: int = 0
    #: values that mean nothing here (not in the defaults nor the ``crm_stages`` setting),
    #: with how many leads had each
    unknown: dict[str, int] = field(default_factory=dict)


def import_leads(
    project: Project,
    path: Path,
    *,
    mapping: str = "auto",
    progress: Progress | None = None,
    encoding: str | None = None,
    separator: str | None = None,
) -> tuple[ImportSummary, CrmStages]:
    """Create or update leads from a file (``store.ingest.import_leads``), then bring the
    CRM stages it holds into the stage history of every model and record its outcomes."""
    with project.store() as store:
        summary = ingest.import_leads(
            store, path, mapping=mapping, progress=progress, encoding=encoding, separator=separator
        )
        if not summary.crm_stages:
            return summary, CrmStages()
        applied = apply_crm_stages(
            store,
            project.models(),
            stage_meanings(project.settings.crm_stages),
            summary.crm_stages,
            source=path.name,
        )
    return summary, applied


def import_events(
    project: Project,
    path: Path,
    *,
    progress: Progress | None = None,
    encoding: str | None = None,
    separator: str | None = None,
) -> ImportSummary:
    """Store Segment messages or event rows (``store.ingest.import_events``)."""
    with project.store() as store:
        return ingest.import_events(
            store, path, progress=progress, encoding=encoding, separator=separator
        )


def import_outcomes(
    project: Project, path: Path, *, progress: Progress | None = None, encoding: str | None = None
) -> ImportSummary:
    """Record outcomes from a file (``store.ingest.import_outcomes``)."""
    with project.store() as store:
        return ingest.import_outcomes(store, path, progress=progress, encoding=encoding)


def import_feedback(
    project: Project, path: Path, *, progress: Progress | None = None, encoding: str | None = None
) -> ImportSummary:
    """Record sales feedback from a file (``store.ingest.import_feedback``)."""
    with project.store() as store:
        return ingest.import_feedback(store, path, progress=progress, encoding=encoding)


def apply_crm_stages(
    store: Store,
    models: Sequence[ScoringModel],
    meanings: Mapping[str, CrmStage],
    values: Mapping[str, str],
    *,
    source: str,
    at: int | None = None,
) -> CrmStages:
    """Record what each lead's CRM stage value (``values``: lead -> value) means, at ``at``
    (default now), in one transaction.

    A stage moves a lead forward under each model that has a stage of that name, from the
    stage recorded for it (the first stage when none is): stages only move forward on their
    own, so a CRM stage behind leadscore's changes nothing, and importing the same file again
    records nothing new. The leads whose stage changed are marked unscored, so kept scores
    (the service's too) are brought up to date."""
    at = now_us() if at is None else at
    unknown: Counter[str] = Counter()
    meant: dict[str, tuple[str, CrmStage]] = {}
    for lead_id, value in values.items():
        meaning = meanings.get(stage_key(value))
        if meaning is None:
            unknown[value] += 1
        else:
            meant[lead_id] = (value, meaning)
    transitions = [row for model in models for row in _forward(store, model, meant, at, source)]
    outcomes: list[tuple[str, Outcome]] = [
        (lead_id, meaning.outcome)
        for lead_id, (_, meaning) in meant.items()
        if meaning.outcome is not None
    ]
    with store.begin() as conn:
        store.record_transitions(transitions, conn)
        recorded = record_new_outcomes(conn, outcomes, at)
        mark_unscored(conn, {row.lead_id for row in transitions}, at)
    logger.info(
        "CRM stages from %s: %d stage changes, %d outcomes, %d unknown values",
        source,
        len(transitions),
        recorded,
        len(unknown),
    )
    return CrmStages(len(transitions), recorded, dict(unknown.most_common()))


def _forward(
    store: Store,
    model: ScoringModel,
    meant: Mapping[str, tuple[str, CrmStage]],
    at: int,
    source: str,
) -> list[StageTransition]:
    """The stage changes under ``model``: leads whose CRM stage is ahead of their recorded one."""
    names = [stage.name for stage in model.stages]
    ahead = {
        lead_id: (value, names.index(meaning.stage))
        for lead_id, (value, meaning) in meant.items()
        if meaning.stage in names
    }
    if not ahead:
        return []
    recorded = store.lifecycles(model.name, at, None if len(ahead) > 500 else sorted(ahead))
    rows = []
    for lead_id, (value, index) in ahead.items():
        stage = recorded.get(lead_id, (None, None))[0]
        current = names.index(stage) if stage in names else 0
        if index > current:
            rows.append(
                StageTransition(
                    lead_id,
                    model.name,
                    at,
                    stage or names[0],
                    names[index],
                    "crm",
                    f"the CRM has the lead as {value!r} (imported from {source})",
                )
            )
    return rows


def write_lead(store: Store, lead_id: str, attributes: dict[str, Any], new: bool) -> None:
    """Create (``new``) or update one lead and mark it for the next scoring round, in one
    transaction (the lead API's POST and PATCH): ConflictError when a new lead's id exists,
    NotFoundError when a changed one does not."""
    at = now_us()
    with store.engine.begin() as conn:
        exists = store.has_lead(lead_id, conn)
        if new and exists:
            raise ConflictError(f"lead {lead_id!r} exists; change it with PATCH /v1/leads/ID")
        if not new and not exists:
            raise NotFoundError(f"no lead with id {lead_id!r}")
        store.upsert_leads([(lead_id, attributes, None)], conn)
        mark_unscored(conn, [lead_id], at)
