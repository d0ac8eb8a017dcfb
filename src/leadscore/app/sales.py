"""What sales tells leadscore about a lead, and what it has told: feedback (good fit, bad
fit, not interested) and outcomes (converted, won, lost), for the dashboard's lead page and
the lead API alike."""

from __future__ import annotations

from typing import Any

from leadscore._types import format_as_of
from leadscore.store.outcomes import VERDICTS, lead_records, record_feedback, record_outcome
from leadscore.store.store import Store

__all__ = ["VERDICTS", "give_feedback", "record_outcome", "told"]


def give_feedback(store: Store, lead_id: str, verdict: str, note: str = "") -> dict[str, Any]:
    """Record sales' verdict on a lead now (InputError for a verdict not in ``VERDICTS``,
    NotFoundError for an unknown lead); it counts as the first sales action after a hand-over
    in the report's SLA."""
    return record_feedback(store, lead_id, verdict, note[:2000])


def told(store: Store, lead_id: str) -> list[dict[str, Any]]:
    """Every outcome and feedback on the lead, newest first, with the time as people read it."""
    records = lead_records(store, lead_id)
    rows = [
        {"what": row["outcome"], "note": "", "at": row["at"]} for row in records["outcomes"]
    ] + [
        {"what": row["verdict"].replace("_", " "), "note": row["note"], "at": row["at"]}
        for row in records["feedback"]
    ]
    rows.sort(key=lambda row: -int(row["at"]))
    return [{**row, "at": format_as_of(int(row["at"]))} for row in rows]
