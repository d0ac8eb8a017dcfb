"""Files of Segment messages parsed in chunks, by worker processes for a large file.

Parsing a line (JSON, the message schema, ``parse_message``'s checks) costs about as much as
writing it, so a large JSON-lines file is parsed by worker processes while this one writes:
the reader hands them chunks of lines and writes the chunks they return in file order. The
workers run the same ``parse_message`` as the service and as a small file's import, so a
message means the same whichever process read it. A chunk comes back as the ``Pending`` it
makes, its events as rows (``EventRow``, properties already JSON text: pickling a tuple
costs a tenth of a dataclass holding a dict) and each lead named once.
"""

from __future__ import annotations

import gc
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from leadscore.spec.segment import MessageError
from leadscore.store import message_lines
from leadscore.store.input_files import Reject, json_record, line_chunks
from leadscore.store.messages import Pending, parse_message

#: Lines per chunk: what one worker parses and one transaction writes.
CHUNK_LINES = 5_000
#: A JSON-lines file at least this large is parsed by worker processes; a smaller one is
#: parsed in this process (about two chunks: less is not worth a process).
WORKER_BYTES = 2_000_000


@dataclass(slots=True)
class ParsedChunk:
    """What some lines of a file said: their messages ready to write, in file order, the
    lines refused, how many messages were accepted and how many of those were calls
    (identify, group, alias), and the number of the last line read."""

    pending: Pending = field(default_factory=Pending)
    rejects: list[Reject] = field(default_factory=list)
    accepted: int = 0
    calls: int = 0
    last_line: int = 0


def parse_records(
    numbered: Iterable[tuple[int, dict[str, Any] | Reject]], now: int, *, csv_rows: bool = False
) -> ParsedChunk:
    """Records of a file as messages (a line may hold ``{"batch": [...]}``); ``csv_rows``:
    the records are event CSV rows (``csv_message``)."""
    chunk = ParsedChunk()
    for number, record in numbered:
        _parse_record(chunk, number, record, now, csv_rows)
    return chunk


def _parse_record(
    chunk: ParsedChunk, number: int, record: dict[str, Any] | Reject, now: int, csv_rows: bool
) -> None:
    chunk.last_line = number
    if isinstance(record, Reject):
        chunk.rejects.append(record)
        return
    raws = record["batch"] if isinstance(record.get("batch"), list) else [record]
    for raw in raws:
        try:
            parsed = parse_message(csv_message(raw) if csv_rows else raw, now)
        except MessageError as exc:
            chunk.rejects.append(Reject(number, exc.field, exc.reason))
            continue
        chunk.accepted += 1
        chunk.calls += parsed[0] != "event"
        chunk.pending.add(*parsed)


def csv_message(record: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as a Segment message: known columns map, the rest become properties."""
    known = {
        "message_id": "messageId",
        "lead_id": "userId",
        "user_id": "userId",
        "anonymous_id": "anonymousId",
        "type": "type",
        "event": "event",
        "timestamp": "timestamp",
        "name": "name",
    }
    message: dict[str, Any] = {"type": "track", "properties": {}}
    for column, value in record.items():
        target = known.get(column.strip().lower())
        if target is not None:
            message[target] = value
        else:
            name = column.removeprefix("properties.")
            message["properties"][name] = value
    return message


def parse_lines(
    lines: list[tuple[int, str]], encoding: str | None, now: int, *, bulk: bool = True
) -> ParsedChunk:
    """Numbered lines of a JSON-lines file parsed (a worker's task): the plain events
    vouched for in bulk (``message_lines``, unless not ``bulk``), every other line by
    ``parse_message``, in file order; what repeats without effect is dropped
    (``Pending.compact``) before the trip back."""
    vouched = message_lines.vouched_events(lines, now) if bulk else {}
    chunk = ParsedChunk()
    for number, line in lines:
        row = vouched.get(number)
        if row is not None:
            chunk.accepted += 1
            chunk.pending.add("row", row)
            continue
        record = json_record(number, line, encoding)
        if record is not None:
            _parse_record(chunk, number, record, now, False)
    chunk.pending.compact()
    if lines:
        chunk.last_line = lines[-1][0]
    return chunk


def worker_count(path: Path) -> int:
    """How many worker processes parse ``path``: none for a small file or a one-core
    machine, else one per core left beside the writing process (at most three: the writer
    is the bound by then)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 or sys.platform == "win32" or path.stat().st_size < WORKER_BYTES:
        return 0
    return min((cores or 1) - 1, 3)


def parsed_in_workers(
    path: Path, encoding: str | None, now: int, workers: int
) -> Iterator[ParsedChunk]:
    """``path``'s chunks parsed by ``workers`` processes, in file order, with at most two
    chunks a worker waiting (so memory stays bounded however large the file)."""
    # fork: a worker starts at once with the modules this process imported, and spawn
    # would run the caller's main script again in each worker. A worker only parses: it
    # touches none of the database connections or threads it inherits. It reads lines in
    # bulk with DuckDB only when this process has not loaded DuckDB: a child forked after
    # DuckDB made its threads crashes making a connection.
    # gc.freeze: a worker's garbage collections skip the objects it was forked with (a
    # chunk's tuples parse about a quarter faster so).
    bulk = "duckdb" not in sys.modules
    with ProcessPoolExecutor(
        workers, mp_context=get_context("fork"), initializer=gc.freeze
    ) as pool:
        waiting: deque[Future[ParsedChunk]] = deque()
        try:
            for lines in line_chunks(path, encoding, CHUNK_LINES):
                waiting.append(pool.submit(parse_lines, lines, encoding, now, bulk=bulk))
                if len(waiting) > 2 * workers:
                    yield waiting.popleft().result()
            while waiting:
                yield waiting.popleft().result()
        finally:
            for future in waiting:
                future.cancel()
