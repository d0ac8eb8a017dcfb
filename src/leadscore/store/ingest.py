"""CSV / JSONL / Segment files -> the store, keeping good lines and reporting bad ones.

Every rejected line is written to ``<file>.rejects.jsonl`` with its line number, the field at
fault and the reason; good lines are stored in batches as the file is read, so nothing already
accepted is lost when a later line is bad.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from leadscore._types import now_us as current_us
from leadscore.spec import json_values
from leadscore.spec.predicates import as_number
from leadscore.spec.segment import (
    MessageError,
    parse_timestamp,
)
from leadscore.store import mappings, message_files, schema
from leadscore.store.input_files import (
    Progress,
    Reject,
    csv_header,
    file_format,
    line_chunks,
    records,
)
from leadscore.store.messages import Pending
from leadscore.store.outcomes import OUTCOMES, VERDICTS
from leadscore.store.store import Store

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
#: Messages of an event file written in one transaction: a commit, the reads and writes of
#: the leads they name, and each index page they change are paid once for this many. On
#: 3,000,000 lines into SQLite: 97.6 s at 25,000, 82.4 s at 100,000, 76.2 s at 250,000
#: (BENCHMARKS.md); 100,000 holds the write lock a few seconds at most.
WRITE_MESSAGES = 100_000


@dataclass(slots=True)
class ImportSummary:
    """What an import did: ``accepted`` lines (or messages), of which ``new`` changed the
    store; for events, ``calls`` of the accepted messages are identify, group or alias calls
    (they update leads and add no event), so ``accepted - calls - new`` events were already
    stored."""

    path: Path
    accepted: int = 0
    new: int = 0
    calls: int = 0
    #: for leads: each lead's CRM stage value in the file (its last line's), for
    #: ``app.crm`` to bring into the stage history
    crm_stages: dict[str, str] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def rejected(self) -> int:
        return len(self.rejects)


def _finish(summary: ImportSummary, what: str, started: float) -> ImportSummary:
    """Write the rejects file (when there are rejects) and log the one summary line."""
    logger.info(
        "Imported %d %s from %s in %.2fs, rejected %d",
        summary.accepted,
        what,
        summary.path,
        time.perf_counter() - started,
        summary.rejected,
    )
    if summary.rejects:
        path = summary.path.with_name(summary.path.name + ".rejects.jsonl")
        with path.open("w", encoding="utf-8") as out:
            for reject in summary.rejects:
                out.write(
                    json.dumps(
                        {"line": reject.line, "field": reject.field, "reason": reject.reason}
                    )
                    + "\n"
                )
        summary.rejects_path = path
    return summary


def import_leads(
    store: Store,
    path: Path,
    *,
    mapping: str = "auto",
    progress: Progress | None = None,
    encoding: str | None = None,
    separator: str | None = None,
) -> ImportSummary:
    """Create or update leads from CSV or JSONL (HubSpot and Salesforce exports mapped).

    A file without an id column is keyed by email (``mappings.email_key``), as a CRM export
    of chosen columns has no record id; events find such a lead by their email trait. In a
    file with an id column, a line whose id is empty is rejected (keying it by email could
    make a second lead of a record the CRM knows by its id)."""
    started = time.perf_counter()
    summary = ImportSummary(path)
    pending = Pending()
    table: dict[str, str] | None = None
    id_column = False  # a CSV header naming an id column: its empty cells are rejected
    if file_format(path) == "csv":
        header = csv_header(path, encoding, separator)
        table = mappings.column_table(header, mapping)
        id_column = "lead_id" in mappings.apply(dict.fromkeys(header, ""), table)
    for number, record in records(path, progress, encoding, separator):
        if isinstance(record, Reject):
            summary.rejects.append(record)
            continue
        if table is None:
            table = mappings.column_table(list(record), mapping)
        attributes = mappings.apply(record, table)
        traits = attributes.pop("traits", None)
        if isinstance(traits, dict):
            attributes = {**traits, **attributes}
        if id_column or "lead_id" in attributes:
            lead_id = attributes.pop("lead_id", None)
            if lead_id in (None, ""):
                summary.rejects.append(Reject(number, "lead_id", "is empty"))
                continue
        else:
            lead_id = mappings.email_key(attributes.get("email"))
            if lead_id is None:
                summary.rejects.append(
                    Reject(
                        number,
                        "lead_id",
                        "is missing, and so is an email to key the lead by; give a lead_id "
                        "(or id, userId, Record ID) or an email column",
                    )
                )
                continue
        problem = _lead_problem(str(lead_id), attributes)
        if problem is not None:
            summary.rejects.append(Reject(number, *problem))
            continue
        pending.leads.append((str(lead_id), attributes, None))  # a change counts from now
        summary.accepted += 1
        if attributes.get("crm_stage") not in (None, ""):
            summary.crm_stages[str(lead_id)] = str(attributes["crm_stage"])
        if len(pending) >= BATCH_SIZE:
            summary.new += len(pending.write(store, current_us())[1])
    summary.new += len(pending.write(store, current_us())[1])
    return _finish(summary, "leads", started)


def _lead_problem(lead_id: str, attributes: dict[str, Any]) -> tuple[str, str] | None:
    """Why a lead line cannot be stored: its id, or a value no store can keep."""
    reason = json_values.id_problem(lead_id)
    if reason is not None:
        return "lead_id", reason
    return json_values.problem(attributes, "")


def import_events(
    store: Store,
    path: Path,
    *,
    now_us: int | None = None,
    progress: Progress | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    workers: int | None = None,
) -> ImportSummary:
    """Store Segment-spec messages (JSON lines, also ``{"batch": [...]}``) or event CSV rows.

    ``identify`` creates or updates the lead with its traits and links its anonymous id;
    ``track`` and ``page`` are stored once per messageId. The messages are written as the
    file is parsed, about ``WRITE_MESSAGES`` a transaction. A large JSON-lines file is
    parsed by ``workers`` processes (None: ``message_files.worker_count``; 0: here).
    """
    started = time.perf_counter()
    now = current_us() if now_us is None else now_us
    summary = ImportSummary(path)
    is_jsonl = file_format(path) == "jsonl"
    if workers is None:
        workers = message_files.worker_count(path) if is_jsonl else 0
    in_workers = workers > 0 and is_jsonl  # a CSV field may span lines: read in this process
    if in_workers:
        chunks = message_files.parsed_in_workers(path, encoding, now, workers)
    else:
        chunks = _parsed_here(path, now, progress, encoding, separator)
    pending = Pending()
    for chunk in chunks:
        summary.rejects.extend(chunk.rejects)
        summary.accepted += chunk.accepted
        summary.calls += chunk.calls
        pending.extend(chunk.pending)
        if len(pending) >= WRITE_MESSAGES:
            summary.new += pending.write(store, current_us())[0]
        if progress is not None and in_workers:
            progress(chunk.last_line)
    summary.new += pending.write(store, current_us())[0]
    return _finish(summary, "events", started)


def _parsed_here(
    path: Path,
    now: int,
    progress: Progress | None,
    encoding: str | None,
    separator: str | None,
) -> Iterator[message_files.ParsedChunk]:
    """``path``'s records parsed in this process, in chunks of ``BATCH_SIZE`` lines (a
    JSON-lines file's as a worker parses them: ``message_files.parse_lines``)."""
    if file_format(path) == "jsonl":
        for numbered in line_chunks(path, encoding, BATCH_SIZE):
            chunk = message_files.parse_lines(numbered, encoding, now)
            if progress is not None:
                progress(chunk.last_line)
            yield chunk
        return
    rows = records(path, progress, encoding, separator)
    while some := list(itertools.islice(rows, BATCH_SIZE)):
        yield message_files.parse_records(some, now, csv_rows=True)


def _outcome_time(text: object) -> int:
    """An outcome's time: ISO 8601 with an offset, or a date (the start of that UTC day)."""
    value = str(text or "").strip()
    if len(value) == 10:
        try:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise MessageError("at", f"{value!r} is not a date (YYYY-MM-DD)") from None
        return int(day.timestamp()) * 1_000_000
    return parse_timestamp(value, "at")


def import_outcomes(
    store: Store, path: Path, *, progress: Progress | None = None, encoding: str | None = None
) -> ImportSummary:
    """Record outcomes from CSV or JSONL: lead_id, outcome (converted, won, lost), at, value.

    A line naming a lead the database does not hold is rejected, not guessed at."""
    return _import_rows(store, path, _outcome_row, schema.outcomes, "outcomes", progress, encoding)


def import_feedback(
    store: Store, path: Path, *, progress: Progress | None = None, encoding: str | None = None
) -> ImportSummary:
    """Record sales feedback from CSV or JSONL: lead_id, verdict (good_fit, bad_fit,
    not_interested), at, note; what a CRM kept of its salespeople's verdicts, with their
    dates, so a trained model learns from them as of when they were given.

    A line naming a lead the database does not hold is rejected, not guessed at."""
    return _import_rows(store, path, _feedback_row, schema.feedback, "feedback", progress, encoding)


def _import_rows(
    store: Store,
    path: Path,
    make_row: Callable[[dict[str, Any]], dict[str, Any]],
    table: sa.Table,
    what: str,
    progress: Progress | None,
    encoding: str | None,
) -> ImportSummary:
    started = time.perf_counter()
    summary = ImportSummary(path)
    pending: list[tuple[int, dict[str, Any]]] = []
    for number, record in records(path, progress, encoding):
        if isinstance(record, Reject):
            summary.rejects.append(record)
            continue
        try:
            row = make_row(record)
        except MessageError as exc:
            summary.rejects.append(Reject(number, exc.field, exc.reason))
            continue
        pending.append((number, row))
        if len(pending) >= BATCH_SIZE:
            _store_rows(store, table, pending, summary)
            pending.clear()
    _store_rows(store, table, pending, summary)
    return _finish(summary, what, started)


def _lead_id(record: dict[str, Any]) -> str:
    lead_id = str(record.get("lead_id") or "").strip()
    if not lead_id:
        raise MessageError("lead_id", "is missing")
    reason = json_values.id_problem(lead_id)
    if reason is not None:
        raise MessageError("lead_id", reason)
    return lead_id


def _feedback_row(record: dict[str, Any]) -> dict[str, Any]:
    lead_id = _lead_id(record)
    verdict = str(record.get("verdict") or "").strip().lower().replace(" ", "_")
    if verdict not in VERDICTS:
        raise MessageError("verdict", f"{verdict!r} is not one of {', '.join(VERDICTS)}")
    note = str(record.get("note") or "")
    reason = json_values.text_problem(note)
    if reason is not None:
        raise MessageError("note", reason)
    return {
        "lead_id": lead_id,
        "verdict": verdict,
        "note": note,
        "at": _outcome_time(record.get("at")),
    }


def _outcome_row(record: dict[str, Any]) -> dict[str, Any]:
    lead_id = _lead_id(record)
    outcome = str(record.get("outcome") or "").strip().lower()
    if outcome not in OUTCOMES:
        raise MessageError("outcome", f"{outcome!r} is not one of {', '.join(OUTCOMES)}")
    value = record.get("value")
    amount = None
    if value not in (None, ""):
        amount = as_number(value)
        if amount is None:
            raise MessageError("value", f"{value!r} is not a number")
    return {
        "lead_id": lead_id,
        "outcome": outcome,
        "value": amount,
        "at": _outcome_time(record.get("at")),
        "recorded_at": current_us(),
    }


def _store_rows(
    store: Store,
    table: sa.Table,
    pending: list[tuple[int, dict[str, Any]]],
    summary: ImportSummary,
) -> None:
    if not pending:
        return
    with store.begin() as conn:
        known = store.existing_leads(sorted({row["lead_id"] for _, row in pending}), conn)
        rows = []
        for number, row in pending:
            if row["lead_id"] in known:
                rows.append(row)
            else:
                summary.rejects.append(
                    Reject(number, "lead_id", f"{row['lead_id']!r} is not in the database")
                )
        if rows:
            conn.execute(table.insert(), rows)
    summary.accepted += len(rows)
    summary.new += len(rows)
