"""What sales tells leadscore about a lead, and what it has told: feedback (good fit, bad
fit, not interested), outcomes (converted, won, lost) and recycles (the lead sent back to
marketing), for the dashboard's lead page and the lead API alike; and a lead's erasure (all
of it, its records too)."""

from __future__ import annotations

from typing import Any

from leadscore._types import format_as_of, now_us
from leadscore.app.recycle import recycle_lead
from leadscore.errors import InputError
from leadscore.spec.model import ScoringModel
from leadscore.store.outcomes import (
    OUTCOMES,
    VERDICTS,
    erase_lead,
    lead_records,
    record_feedback,
    record_outcome,
)
from leadscore.store.store import Store
from leadscore.store.unscored import mark_unscored

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "VERDICTS",
    "act",
    "erase_lead",
    "give_feedback",
    "lead_records",
    "record_feedback",
    "record_outcome",
    "told",
]

#: What sales can do from a lead's page, with the button's words.
ACTIONS: dict[str, str] = {
    "good_fit": "Good fit",
    "bad_fit": "Bad fit",
    "not_interested": "Not interested",
    "converted": "Converted",
    "recycle": "Recycle (back to marketing)",
}


def give_feedback(store: Store, lead_id: str, verdict: str, note: str = "") -> dict[str, Any]:
    """Record sales' verdict on a lead now (InputError for a verdict not in ``VERDICTS``,
    NotFoundError for an unknown lead); it counts as the first sales action after a hand-over
    in the report's SLA."""
    return record_feedback(store, lead_id, verdict, note[:2000])


def act(
    store: Store, scoring_model: ScoringModel, lead_id: str, action: str, note: str, by: str
) -> None:
    """Record one of ``ACTIONS`` on the lead, given by ``by``: a verdict (feedback), a
    conversion (an outcome, now), or a recycle under ``scoring_model`` (the lead goes back to
    the recycle stage and is marked for the service's next scoring round, so its score and
    stage on the pages change at once). InputError for anything else."""
    if action in VERDICTS:
        give_feedback(store, lead_id, action, note)
    elif action == "converted":
        record_outcome(store, lead_id, "converted")
    elif action == "recycle":
        at = now_us()
        reason = f"sent back by {by} from the dashboard" + (f": {note[:2000]}" if note else "")
        recycle_lead(store, scoring_model, lead_id, at, reason)
        with store.engine.begin() as conn:
            mark_unscored(conn, [lead_id], at)
    else:
        raise InputError(f"{action!r} is not one of {', '.join(ACTIONS)}")


def told(store: Store, lead_id: str) -> list[dict[str, Any]]:
    """Every outcome and feedback on the lead, newest first, with the time as people read it."""
    records = lead_records(store, lead_id)
    rows = [
        {"what": row["outcome"], "note": "", "at": row["at"]} for row in records["outcomes"]
    ] + [
        {"what": row["verdict"].replace("_", " "), "note": row["note"], "at": row["at"]}
        for row in records["feedback"]
    ]
    rows += [
        {"what": f"recycled under {t.model}", "note": t.reason, "at": t.at}
        for t in store.transitions(lead_id)
        if t.kind == "recycle"
    ]
    rows.sort(key=lambda row: -int(row["at"]))
    return [{**row, "at": format_as_of(int(row["at"]))} for row in rows]
