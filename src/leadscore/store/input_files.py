"""Reading the files people import: CSV or JSON lines, line by line, each line good or a
``Reject`` saying where and why, so one bad line never costs the others.

Bytes that are not text in the file's encoding (Excel writes cp1252, not UTF-8) are read
with ``surrogateescape``, which keeps each undecodable byte as a marker character instead of
failing the whole file; the line holding one is rejected, naming the byte and the way out
(``--encoding``).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadscore.errors import InputError
from leadscore.spec import json_values

#: Called with the number of lines read so far.
Progress = Callable[[int], None]
#: What a file is read as when no encoding is given (a byte-order mark is skipped).
DEFAULT_ENCODING = "utf-8-sig"

_UNDECODED = re.compile("[\udc80-\udcff]")
#: The separators a CSV header is tried with, the first winning ties (European Excel writes ``;``).
SEPARATORS = (",", ";", "\t", "|")


@dataclass(frozen=True, slots=True)
class Reject:
    """A line not taken: its number (1 is the first line of the file), the field, why."""

    line: int
    field: str
    reason: str


def file_format(path: Path) -> str:
    """``csv`` or ``jsonl``, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    raise InputError(f"{path}: unknown file type {suffix!r}; use .csv or .jsonl (JSON lines)")


def csv_separator(header: str, given: str | None = None) -> str:
    """The separator of a CSV file whose first line is ``header``: ``given`` when set (``\\t``
    may be written for a tab), else whichever of ``SEPARATORS`` splits the header into the
    most columns (quoted names are one column, whatever they hold)."""
    if given is not None:
        separator = "\t" if given in ("\\t", "tab") else given
        if len(separator) != 1 or separator in '\r\n"':
            raise InputError(f"--separator: {given!r} must be one character (or \\t for a tab)")
        return separator
    counts = {s: len(next(csv.reader([header], delimiter=s), [])) for s in SEPARATORS}
    return max(SEPARATORS, key=lambda s: (counts[s], -SEPARATORS.index(s)))


def _first_line(path: Path, encoding: str | None) -> str:
    """A file's first line (at most 1,000,000 characters; empty when it cannot be read:
    ``records`` says why)."""
    try:
        with path.open(encoding=encoding or DEFAULT_ENCODING, errors="replace", newline="") as f:
            return f.readline(1_000_000)
    except (OSError, LookupError):
        return ""


def file_separator(path: Path, encoding: str | None = None, given: str | None = None) -> str:
    """A CSV file's separator: ``given``, or the one its header suggests (``csv_separator``)."""
    return csv_separator(_first_line(path, encoding), given)


def csv_header(path: Path, encoding: str | None = None, separator: str | None = None) -> list[str]:
    """The column names of a CSV file (none for a file that cannot be read)."""
    first = _first_line(path, encoding)
    return next(csv.reader([first], delimiter=csv_separator(first, separator)), [])


def records(
    path: Path,
    progress: Progress | None = None,
    encoding: str | None = None,
    separator: str | None = None,
) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """(line number, record or Reject) for each data line of a CSV or JSONL file; a CSV's
    separator is ``separator`` or found from its header (``csv_separator``)."""
    kind = file_format(path)
    encoding = encoding or DEFAULT_ENCODING
    with _opened(path, encoding) as handle:
        if kind == "csv":
            yield from _csv_records(path, handle, progress, encoding, separator)
        else:
            yield from _json_records(handle, progress, encoding)


def line_chunks(
    path: Path, encoding: str | None = None, size: int = 5_000
) -> Iterator[list[tuple[int, str]]]:
    """A JSON-lines file's lines, numbered from 1, in lists of ``size``, not yet read as JSON
    (``json_record`` reads each): for a reader that hands chunks to other processes."""
    encoding = encoding or DEFAULT_ENCODING
    with _opened(path, encoding) as handle:
        chunk: list[tuple[int, str]] = []
        for numbered in enumerate(handle, start=1):
            chunk.append(numbered)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _opened(path: Path, encoding: str) -> Any:
    """The file opened as text in ``encoding``, undecodable bytes kept as markers; an
    ``InputError`` for an encoding Python does not know or a file that cannot be read."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding: {encoding!r} is not an encoding Python knows") from None
    try:
        return path.open(encoding=encoding, errors="surrogateescape", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror}") from None


def _csv_records(
    path: Path, handle: Any, progress: Progress | None, encoding: str, separator: str | None
) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    first = handle.readline(1_000_000)  # a header is one line; the sniff reads no more
    handle.seek(0)
    reader = csv.DictReader(handle, delimiter=csv_separator(first, separator))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise InputError(f"{path}:1: the CSV header cannot be read: {exc}") from None
    if not header:
        raise InputError(f"{path}: the CSV file has no header line")
    bad_header = _undecoded(" ".join(header), encoding)
    if bad_header:
        raise InputError(f"{path}:1: the header {bad_header}")
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, Reject(reader.line_num, "", f"cannot be read as CSV: {exc}")
            continue
        if progress is not None and reader.line_num % 1000 == 0:
            progress(reader.line_num)
        if None in record:
            yield reader.line_num, Reject(reader.line_num, "", "has more values than the header")
            continue
        values = {k: v for k, v in record.items() if v not in (None, "")}
        problem = next(
            ((k, why) for k, v in values.items() if (why := _undecoded(v, encoding))), None
        )
        if problem is not None:
            yield reader.line_num, Reject(reader.line_num, *problem)
            continue
        yield reader.line_num, values


def _json_records(
    handle: Any, progress: Progress | None, encoding: str
) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    for number, line in enumerate(handle, start=1):
        if progress is not None and number % 1000 == 0:
            progress(number)
        record = json_record(number, line, encoding)
        if record is not None:
            yield number, record


def json_record(
    number: int, line: str, encoding: str | None = None
) -> dict[str, Any] | Reject | None:
    """Line ``number`` of a JSON-lines file read: its object, a ``Reject`` saying why it is
    not one, or None for a blank line."""
    if not line.strip():
        return None
    undecoded = _undecoded(line, encoding or DEFAULT_ENCODING)
    if undecoded:
        return Reject(number, "", undecoded)
    try:
        value = json_values.loads(line)
    except ValueError as exc:
        reason = exc.msg if hasattr(exc, "msg") else str(exc)
        return Reject(number, "", f"is not valid JSON ({reason})")
    if not isinstance(value, dict):
        return Reject(number, "", "must be a JSON object")
    return value


def _undecoded(text: str, encoding: str) -> str | None:
    """Why ``text`` holds bytes that are not ``encoding`` text, or None."""
    found = _UNDECODED.search(text)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    hint = " (a file saved by Excel? try --encoding cp1252)" if "utf" in encoding else ""
    return (
        f"holds byte 0x{byte:02x} at character {found.start() + 1}, which is not "
        f"{codecs.lookup(encoding).name} text{hint}"
    )
