"""Files of Segment messages parsed in chunks, by worker processes for a large file.

Parsing a line (JSON, the message schema, ``parse_message``'s checks) costs about as much as
writing it, so a large JSON-lines file is parsed by worker processes while this one writes:
the reader hands them chunks of lines and writes the chunks they return in file order. The
workers run the same ``parse_message`` as the service and as a small file's import, so a
message means the same whichever process read it. An event comes back as a plain tuple with
its properties already JSON text: pickling that costs a tenth of a dataclass holding a dict.
"""

from __future__ import annotations

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
from leadscore.store.events import StoredEvent
from leadscore.store.input_files import Reject, json_record, line_chunks
from leadscore.store.messages import parse_message

#: Lines per chunk: what one worker parses and one transaction writes.
CHUNK_LINES = 5_000
#: A JSON-lines file at least this large is parsed by worker processes; a smaller one is
#: parsed in this process (about two chunks: less is not worth a process).
WORKER_BYTES = 2_000_000


@dataclass(slots=True)
class ParsedChunk:
    """What some lines of a file said: ``parse_message``'s results in file order, the lines
    refused, how many messages were accepted and how many of those were calls (identify,
    group, alias), and the number of the last line read."""

    results: list[tuple[str, Any]] = field(default_factory=list)
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
        chunk.last_line = number
        if isinstance(record, Reject):
            chunk.rejects.append(record)
            continue
        raws = record["batch"] if isinstance(record.get("batch"), list) else [record]
        for raw in raws:
            try:
                parsed = parse_message(csv_message(raw) if csv_rows else raw, now)
            except MessageError as exc:
                chunk.rejects.append(Reject(number, exc.field, exc.reason))
                continue
            chunk.accepted += 1
            chunk.calls += parsed[0] != "event"
            chunk.results.append(parsed)
    return chunk


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


def parse_lines(lines: list[tuple[int, str]], encoding: str | None, now: int) -> ParsedChunk:
    """A worker's task: numbered lines of a JSON-lines file parsed, events made tuples
    (``_as_tuple``) for the trip back."""
    records = ((number, json_record(number, line, encoding)) for number, line in lines)
    chunk = parse_records(((n, r) for n, r in records if r is not None), now)
    chunk.results = [
        ("row", _as_tuple(item)) if kind == "event" else (kind, item)
        for kind, item in chunk.results
    ]
    if lines:
        chunk.last_line = lines[-1][0]
    return chunk


def _as_tuple(event: StoredEvent) -> tuple[Any, ...]:
    return (
        event.message_id,
        event.lead_id,
        event.anonymous_id,
        event.type,
        event.event,
        event.timestamp,
        event.properties_text(),
    )


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
    chunks a worker waiting (so memory stays bounded however large the file); events are
    ``StoredEvent``s again, their properties left as the JSON text the worker wrote."""
    # fork: a worker starts at once with the modules this process imported, and spawn
    # would run the caller's main script again in each worker. A worker only parses: it
    # touches none of the database connections or threads it inherits.
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        waiting: deque[Future[ParsedChunk]] = deque()
        try:
            for lines in line_chunks(path, encoding, CHUNK_LINES):
                waiting.append(pool.submit(parse_lines, lines, encoding, now))
                if len(waiting) > 2 * workers:
                    yield _events_again(waiting.popleft().result())
            while waiting:
                yield _events_again(waiting.popleft().result())
        finally:
            for future in waiting:
                future.cancel()


def _events_again(chunk: ParsedChunk) -> ParsedChunk:
    chunk.results = [
        ("event", StoredEvent(*item)) if kind == "row" else (kind, item)
        for kind, item in chunk.results
    ]
    return chunk
