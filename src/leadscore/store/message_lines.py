"""Lines of Segment events vouched for in bulk: a chunk of JSON lines read by one DuckDB
query and checked over whole Arrow columns, the plain track, page and screen calls given as
stored rows (timestamps converted, properties as JSON text) without a Python object per line.

Parsing a line one at a time (``parse_message``: JSON, the value checks, the pydantic
schema) costs about 15 µs; this costs about 4.5 µs a line. It vouches only for lines it can
judge exactly as ``parse_message`` would, and leaves every other line to it: a line that is
not ASCII, holds a backslash (an escape), DEL, NaN, Infinity, a run of 16 digits, an
exponent of three digits, a trailing comma (DuckDB's JSON reader takes one, Python's does
not) or more than ``MAX_NESTING`` brackets; a call of another type; a message without a
``messageId`` (its id is a digest of the parsed message); an id that is not a string, or
that ``id_problem`` could refuse; a time not spelt ``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)``
or too far in the future; a key given twice (Python keeps the last, DuckDB the first);
properties that hold an object; a ``context.campaign``. So a line vouched for gives the row
``parse_message`` gives, and a line left is parsed, and refused with its reason, as before:
``tests/properties/test_message_lines.py`` holds the two equal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from leadscore.spec.json_values import MAX_ID_CHARACTERS, MAX_NESTING
from leadscore.spec.segment import EARLIEST, LATEST, MAX_FUTURE_SKEW_SECONDS

if TYPE_CHECKING:
    import pyarrow as pa

#: Fewer lines than this are parsed one at a time (the query's own cost is about 2 ms).
MIN_LINES = 500

#: The keys of a message read here (a key given twice is read by DuckDB as its first
#: value, by Python as its last: such a line is left to ``parse_message``).
_READ = (
    "type",
    "userId",
    "anonymousId",
    "messageId",
    "event",
    "name",
    "timestamp",
    "originalTimestamp",
    "properties",
    "context",
)
#: Keys pydantic would read as a message's fields (``populate_by_name``), or as a batch of
#: messages: a line holding one is left to ``parse_message``.
_REFUSED = (
    "user_id",
    "anonymous_id",
    "message_id",
    "original_timestamp",
    "previous_id",
    "group_id",
    "batch",
)

#: The parts of a message read, each as its JSON text (SQL NULL when missing or null): the
#: document is parsed once for all of them.
_PARTS = json.dumps({**dict.fromkeys(_READ[:-1], "JSON"), "context": {"userAgent": "JSON"}})

#: The lines worth reading as JSON (the guards above), their keys and their parts.
_QUERY = f"""
select number, keys, parts, json_keys(parts.properties) as property_keys
from (
    select number, json_keys(line) as keys, json_transform(line, '{_PARTS}') as parts
    from message_lines
    where strlen(line) = length(line)
      and strpos(line, '\\') = 0
      and strpos(line, chr(127)) = 0
      and strpos(line, 'NaN') = 0
      and strpos(line, 'Infinity') = 0
      and strpos(line, '"campaign"') = 0
      and not regexp_matches(
          line, '[0-9]{{16}}|[0-9][eE][-+]?[0-9]{{3}}|, *[\\]}}]|"userAgent".*"userAgent"')
      and length(line) - length(replace(replace(line, '{{', ''), '[', '')) <= {MAX_NESTING}
      and json_valid(line)
      and left(ltrim(line), 1) = '{{'
)
"""

#: A time as ``parse_timestamp`` reads it, in the one spelling vouched for.
_TIME = (
    r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,6}))?"
    r"(?:Z|(?P<sign>[+-])(?P<zone_hours>[0-9]{2}):(?P<zone_minutes>[0-9]{2}))$"
)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def vouched_events(lines: Sequence[tuple[int, str]], now: int) -> dict[int, tuple[Any, ...]]:
    """The lines (numbered) that are events ``parse_message`` takes, each as the row it
    would store: (message id, lead id, anonymous id, type, event, timestamp, properties
    as JSON text), by line number. Every other line is left out."""
    if len(lines) < MIN_LINES:
        return {}
    import pyarrow as pa

    table = pa.table(
        {
            "number": pa.array([number for number, _ in lines], pa.int64()),
            "line": pa.array([line.rstrip("\r\n") for _, line in lines], pa.string()),
        }
    )
    con = _connection()
    con.register("message_lines", table)
    try:
        parts = con.sql(_QUERY).to_arrow_table()
    finally:
        con.unregister("message_lines")
    return _rows(parts, now)


def _rows(table: pa.Table, now: int) -> dict[int, tuple[Any, ...]]:
    """The lines of ``_QUERY``'s answer that are events, checked column by column, as
    stored rows by line number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = table.num_rows
    read = table["parts"].combine_chunks()
    part = {name: read.field(name) for name in _READ[:-1]}
    keys = table["keys"].combine_chunks()
    named = _key_counts(keys, _READ + _REFUSED, rows)
    keep = (named[:, : len(_READ)] <= 1).all(axis=1) & (named[:, len(_READ) :] == 0).all(axis=1)

    def string(name: str) -> tuple[np.ndarray, pa.Array]:
        """Where the part is a JSON string, and its text (no escapes: none were read)."""
        return _bools(pc.starts_with(part[name], '"')), pc.utf8_slice_codeunits(part[name], 1, -1)

    def string_or_null(name: str) -> np.ndarray:
        either: np.ndarray = np.logical_or(string(name)[0], _bools(part[name].is_null()))
        return either

    def fits(value: pa.Array, *, slash: bool = True) -> np.ndarray:
        """At most ``MAX_ID_CHARACTERS`` (True where null), no '/' unless ``slash``."""
        short = pc.less_equal(pc.utf8_length(value), MAX_ID_CHARACTERS)
        if not slash:
            short = pc.and_(short, pc.invert(pc.match_substring(value, "/")))
        return _bools(short, True)

    type_string, kind = string("type")
    track = _bools(pc.equal(kind, "track")) & type_string
    page = _bools(pc.is_in(kind, pa.array(["page", "screen"]))) & type_string
    _, user = string("userId")
    _, anonymous = string("anonymousId")
    user = pc.if_else(pc.equal(user, ""), None, user)
    anonymous = pc.if_else(pc.equal(anonymous, ""), None, anonymous)
    id_string, message_id = string("messageId")
    event_string, event = string("event")
    _, name = string("name")
    stamp_string, stamp = string("timestamp")
    event = pc.if_else(pa.array(track), event, name)
    keep &= (
        (track & event_string & _bools(pc.not_equal(event, "")) | page & string_or_null("name"))
        & string_or_null("userId")
        & string_or_null("anonymousId")
        & string_or_null("originalTimestamp")
        & id_string
        & stamp_string
        & ~(_bools(user.is_null()) & _bools(anonymous.is_null()))
        & fits(user, slash=False)
        & fits(anonymous, slash=False)
        & fits(message_id)
        & fits(event)
        & _bools(pc.greater(pc.utf8_length(message_id), 0))
    )
    properties, plain = _properties(
        part["properties"],
        named[:, _READ.index("properties")],
        table["property_keys"].combine_chunks(),
        read.field("context").field("userAgent"),
    )
    keep &= plain
    timestamps, spelt = _times(stamp)
    keep &= spelt & (timestamps - now <= MAX_FUTURE_SKEW_SECONDS * 1_000_000)
    chosen = pa.array(keep)
    columns = [
        table["number"],
        message_id,
        user,
        anonymous,
        pc.if_else(pc.equal(kind, "screen"), "page", kind),
        event,
        pa.array(timestamps),
        properties,
    ]
    chosen_rows = zip(*(pc.filter(column, chosen).to_pylist() for column in columns), strict=True)
    return {row[0]: row[1:] for row in chosen_rows}


def _key_counts(keys: pa.Array, names: tuple[str, ...], rows: int) -> np.ndarray:
    """How many times each row's list of keys holds each of ``names`` (rows by names)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(pc.list_flatten(keys), value_set=pa.array(names, pa.string()))
    where = _bools(found.is_valid())
    parents = pc.list_parent_indices(keys).to_numpy()[where]
    columns = pc.fill_null(found, 0).to_numpy()[where]
    counts = np.bincount(parents * len(names) + columns, minlength=rows * len(names))
    return np.asarray(counts.reshape(rows, len(names)))


def _properties(
    given: pa.Array, named: np.ndarray, keys: pa.Array, agent: pa.Array
) -> tuple[pa.Array, np.ndarray]:
    """Each line's properties as stored, and whether they are plain: an object holding no
    object and no key twice, or no properties (``{}``; ``named``: how many times the line
    names properties, ``keys``: theirs). Segment's ``context.userAgent`` (``agent``, as JSON)
    is added as ``user_agent`` where the properties name none, as ``parse_message`` does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = len(given)
    properties = pc.if_else(pa.array(named == 0), "{}", given)
    plain = _bools(pc.starts_with(properties, "{")) & _bools(
        pc.equal(pc.count_substring(properties, "{"), 1)
    )
    flat = pc.list_flatten(keys)
    parents = pc.list_parent_indices(keys).to_numpy()
    if len(flat):
        pairs = (
            pa.table({"row": parents, "key": flat})
            .group_by(["row", "key"])
            .aggregate([("row", "count")])
        )
        twice = pairs["row"].to_numpy()[pairs["row_count"].to_numpy() > 1]
        plain[twice] = False
    named_agent = np.zeros(rows, dtype=bool)
    named_agent[parents[_bools(pc.equal(flat, "user_agent"))]] = True
    add = _bools(pc.starts_with(agent, '"')) & ~named_agent
    if add.any():
        empty = _bools(pc.equal(properties, "{}"))
        joined = pc.binary_join_element_wise(
            pc.if_else(pa.array(empty), "{", pc.utf8_slice_codeunits(properties, 0, -1)),
            pc.if_else(pa.array(empty), "", ","),
            '"user_agent":',
            agent,
            "}",
            "",
        )
        properties = pc.if_else(pa.array(add), joined, properties)
    return properties, plain


def _bools(values: Any, null: bool = False) -> np.ndarray:
    """Arrow booleans as a numpy array, ``null`` where a value is null."""
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(values, null).to_numpy(zero_copy_only=False), dtype=bool)


def _times(stamp: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each text as ``parse_timestamp`` reads it, in microseconds since the epoch, and
    whether it was spelt as this reads it exactly (elsewhere the time is 0)."""
    import pyarrow.compute as pc

    found = pc.extract_regex(pc.fill_null(stamp, ""), _TIME)
    spelt = _bools(found.is_valid())

    def number(field: str) -> np.ndarray:
        text = pc.if_else(pc.equal(found.field(field), ""), "0", found.field(field))
        return np.asarray(pc.cast(pc.fill_null(text, "0"), "int64"), dtype=np.int64)

    year, month, day = number("year"), number("month"), number("day")
    hour, minute, second = number("hour"), number("minute"), number("second")
    digits = pc.fill_null(pc.utf8_length(found.field("fraction")), 0).to_numpy()
    fraction = number("fraction") * 10 ** (6 - np.minimum(digits, 6))
    sign = np.where(_bools(pc.equal(found.field("sign"), "-")), -1, 1)
    zone_hours, zone_minutes = number("zone_hours"), number("zone_minutes")
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
    spelt &= (
        (year > EARLIEST.year)
        & (year < LATEST.year - 1)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= month_days)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
        & (zone_hours <= 23)
        & (zone_minutes <= 59)
    )
    days = _days_from_civil(year, month, day)
    seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    seconds -= sign * (zone_hours * 3_600 + zone_minutes * 60)
    return np.where(spelt, seconds * 1_000_000 + fraction, 0), spelt


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (Howard Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = np.floor_divide(year, 400)
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return np.asarray(era * 146_097 + day_of_era - 719_468, dtype=np.int64)


#: (process id, connection): a forked worker makes its own rather than share its parent's.
_CONNECTION: tuple[int, Any] | None = None


def _connection() -> Any:
    """This process's DuckDB connection, one thread (the importing process writes beside
    the parsing workers), made on first use."""
    import duckdb

    global _CONNECTION
    if _CONNECTION is None or _CONNECTION[0] != os.getpid():
        _CONNECTION = (os.getpid(), duckdb.connect(config={"threads": 1}))
    return _CONNECTION[1]
