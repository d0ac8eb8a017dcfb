"""Scores out to the CRM: a file the CRM's own import takes (HubSpot, Salesforce, or plain CSV),
holding each lead's score, tier, grade, stage and top reasons, for the leads whose values
changed since the last export (or all of them).

HubSpot matches contacts by ``Email`` (or ``Record ID``) and fills custom contact properties
named as the columns (``leadscore_score``...); Salesforce's Data Import Wizard matches leads by
``Email`` (or ``Id``) and fills custom fields (``Leadscore_Score__c``...). docs/crm.md lists
the properties and fields to create once. The columns leadscore writes start with
``leadscore_`` (any case), which ``leadscore import leads`` never reads back, so importing an
export again changes nothing."""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from leadscore._types import MILLI, format_as_of, now_us
from leadscore.app.explain import top_reasons
from leadscore.app.people import people
from leadscore.app.project import Project
from leadscore.engines.plan import compile_plan
from leadscore.errors import ConfigError, InputError
from leadscore.spec.model import ScoringModel
from leadscore.store.crm_exports import exported_digests, record_exports
from leadscore.store.scores import model_scores
from leadscore.store.store import Store

logger = logging.getLogger(__name__)

Format = Literal["hubspot", "salesforce", "csv"]
Key = Literal["email", "id"]
FORMATS: tuple[Format, ...] = ("hubspot", "salesforce", "csv")
#: The values each row carries, in order, after the key column(s).
VALUES = ("score", "tier", "grade", "stage", "reasons", "scored_at")
#: How each format names its key columns and the values (custom properties or fields).
KEY_COLUMNS: dict[Format, dict[str, str]] = {
    "hubspot": {"id": "Record ID", "email": "Email"},
    "salesforce": {"id": "Id", "email": "Email"},
    "csv": {"id": "lead_id", "email": "email"},
}


def value_columns(target: Format, names: Sequence[str]) -> list[str]:
    """How ``target`` names the values: custom properties (HubSpot, CSV) or custom fields
    (Salesforce: ``Leadscore_Scored_At__c``)."""
    if target == "salesforce":
        return [f"Leadscore_{name.title()}__c" for name in names]
    return [f"leadscore_{name}" for name in names]


#: How many reasons a row carries (the rules that added or took the most points).
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class CrmExport:
    """What one export wrote."""

    path: Path
    model: str
    written: int
    unchanged: int
    #: leads left out because they have no value for the key (no email with ``--key email``)
    keyless: int


def export_crm(
    project: Project,
    output: Path,
    *,
    target: Format,
    key: Key = "email",
    model: str | None = None,
    everything: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CrmExport:
    """Write the kept results of one model's leads in ``target``'s import format to
    ``output``: only leads whose exported values changed since the last export to that
    format, unless ``everything``. Then remember what was written."""
    if target not in FORMATS:
        raise InputError(f"unknown CRM format {target!r}; use one of {', '.join(FORMATS)}")
    scoring_model = _one_model(project.models(), model)
    with project.store() as store:
        kept = model_scores(store, scoring_model.name)
        if not kept:
            raise InputError(
                f"no kept scores under model {scoring_model.name!r}: run 'leadscore score' "
                "(or keep 'leadscore serve' running) first"
            )
        who = people(store, [row["lead_id"] for row in kept])
        before = {} if everything else exported_digests(store, target, scoring_model.name)
        rows, digests, keyless = [], {}, 0
        changed = []
        names = list(VALUES)
        if scoring_model.priority is not None:  # the grade x band matrix goes out too
            names.append("priority")
            plan = compile_plan(scoring_model)
            for result in kept:
                result["priority"] = plan.priority_of(
                    result["grade"], result["engagement"], result["score"]
                )
        for result in kept:
            key_value = _key_value(result["lead_id"], who.get(result["lead_id"], {}), key)
            if key_value is None:
                keyless += 1
                continue
            digest = _digest(key_value, result)
            if before.get(result["lead_id"]) != digest:
                changed.append((result, key_value))
                digests[result["lead_id"]] = digest
        for done, (result, key_value) in enumerate(changed, start=1):
            reasons = _reasons(store, scoring_model, result["lead_id"], result["as_of"])
            rows.append([key_value, *_values(result, reasons), *(
                [result["priority"] or ""] if "priority" in result else [])])  # fmt: skip
            if progress is not None:
                progress(done, len(changed))
        _write(output, [KEY_COLUMNS[target][key], *value_columns(target, names)], rows)
        record_exports(store, target, scoring_model.name, digests, now_us())
    logger.info("Exported %d leads of %s to %s (%s)", len(rows), scoring_model.name, output, target)
    return CrmExport(
        output, scoring_model.name, len(rows), len(kept) - len(rows) - keyless, keyless
    )


def _one_model(models: Sequence[ScoringModel], name: str | None) -> ScoringModel:
    if name is not None:
        found = [m for m in models if m.name == name]
        if not found:
            raise ConfigError(
                f"no model named {name!r}; models: {', '.join(m.name for m in models)}"
            )
        return found[0]
    if len(models) != 1:
        raise ConfigError(
            "the CRM file holds one model's scores; choose one with --model: "
            + ", ".join(m.name for m in models)
        )
    return models[0]


def _key_value(lead_id: str, attributes: dict[str, Any], key: Key) -> str | None:
    if key == "id":
        return lead_id
    email = attributes.get("email")
    return email.strip() if isinstance(email, str) and "@" in email else None


def _digest(key_value: str, result: dict[str, Any]) -> str:
    """What identifies an exported row's values (reasons aside: they follow the score)."""
    values = [result[n] for n in (*VALUES[:4], "priority") if n in result]
    text = "\x1f".join(str(v) for v in (key_value, *values))
    return hashlib.sha256(text.encode()).hexdigest()


def _values(result: dict[str, Any], reasons: str) -> list[object]:
    score = result["score"] / MILLI
    return [
        int(score) if score == int(score) else score,
        result["tier"] or "",
        result["grade"] or "",
        result["stage"] or "",
        reasons,
        format_as_of(result["as_of"]),
    ]


def _reasons(store: Store, scoring_model: ScoringModel, lead_id: str, as_of: int) -> str:
    """``top_reasons`` in words: ``webinar attendance +10; personal email domain -10``."""
    found = top_reasons(store, scoring_model, lead_id, as_of, TOP_REASONS)
    return "; ".join(f"{r['rule']} {r['points']:+g}" for r in found)


def _write(output: Path, header: list[str], rows: list[list[object]]) -> None:
    try:
        with output.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise InputError(f"{output}: cannot be written: {exc.strerror}") from None
