"""JSON from outside, bounded: what a message may hold so that every store can keep it.

Python's ``json`` accepts more than a database can store or a scorer should see: integers of
thousands of digits (their conversion raises past 4,300), ``NaN`` and ``Infinity``, unpaired
surrogates (``"\\ud800"`` is valid JSON but not Unicode text: SQLite cannot encode it and
PostgreSQL refuses it), NUL characters (PostgreSQL text cannot hold them) and nesting deep
enough to overflow the parser's stack. ``loads`` parses without ever raising anything but
``ValueError`` and marks the numbers it cannot represent; ``problem`` then finds the first
thing a message holds that cannot be kept, by its field, so that message alone is refused and
its neighbours in a batch or a file are kept.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from typing import Any

#: Deepest nesting of objects and lists inside one message (Segment's own are a few levels).
MAX_NESTING = 32
#: Longest id or event name, in characters (the store's columns hold 255).
MAX_ID_CHARACTERS = 255
#: Most digits of an integer taken as a number (a 64-bit integer has 19).
MAX_INTEGER_DIGITS = 100

_ID_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/]")

#: ``id_problem``'s rules as JSON Schema, for the OpenAPI document (it cannot say
#: "no unpaired surrogates"; the service refuses them all the same).
ID_TEXT_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_CHARACTERS,
    "pattern": "^[^/\\u0000-\\u001f\\u007f]+$",
}
#: ``name_problem``'s rules as JSON Schema.
NAME_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": MAX_ID_CHARACTERS}


class Unrepresentable(str):
    """A number JSON spells but a store cannot keep (too many digits, NaN, infinite); kept as
    its text, so the message holding it is refused by field rather than the whole body."""


def _integer(text: str) -> int | Unrepresentable:
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else Unrepresentable(text)


def _float(text: str) -> float | Unrepresentable:
    value = float(text)
    return value if math.isfinite(value) else Unrepresentable(text)


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises ``ValueError`` (a ``json.JSONDecodeError`` when the text is
    not JSON) and nothing else. The C parser reads the text; only when it refuses a number
    (an integer past Python's 4,300 digits) is the text read again with the numbers it cannot
    represent marked, so the message holding one is refused, not the whole body."""
    try:
        return json.loads(text, parse_constant=Unrepresentable)  # NaN and Infinity as spelt
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _marked(text)
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None


def _marked(text: str | bytes) -> Any:
    try:
        return json.loads(
            text, parse_int=_integer, parse_float=_float, parse_constant=Unrepresentable
        )
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None


_TOO_DEEP = "it nests lists or objects too deeply to be read"
_INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as text, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which text cannot hold"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"contains an unpaired surrogate (\\u{code:04x}), which is not Unicode text"
    return None


#: JSON escapes spelling what ``text_problem`` refuses: NUL and (unpaired) surrogates. JSON
#: text can hold neither otherwise: a raw NUL is not JSON, and UTF-8 cannot carry surrogates.
_RISKY_ESCAPES = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_RISKY_ESCAPE_BYTES = re.compile(_RISKY_ESCAPES.pattern.encode())


def text_is_clean(raw: str | bytes) -> bool:
    r"""Whether JSON text (as received, before parsing) spells no text ``text_problem``
    refuses, so its strings need no check: one scan of the body instead of a test per string
    (a surrogate pair, or an escaped backslash before ``u0000``, only costs the full check).

    Examples:
        >>> text_is_clean(b'{"userId": "ann", "name": "Caf\\u00e9"}')
        True
        >>> text_is_clean(b'{"userId": "a\\u0000b"}'), text_is_clean('{"k": "\\uD800"}')
        (False, False)
    """
    if isinstance(raw, bytes | bytearray):  # UTF-8 that decodes holds no surrogate
        return _RISKY_ESCAPE_BYTES.search(raw) is None
    return _RISKY_ESCAPES.search(raw) is None and text_problem(raw) is None


def problem(value: Any, field: str, *, text_checked: bool = False) -> tuple[str, str] | None:
    """The first part of ``value`` that cannot be kept, as (field path, reason), or None.

    A quick pass says whether anything is wrong (recursive, but never past ``MAX_NESTING``
    levels), looking only at numbers and nesting when the text was found clean before parsing
    (``text_checked``: ``text_is_clean``); only then does a walk with a queue find and name
    it."""
    if _fine_shape(value, 0) if text_checked else _fine(value, 0):
        return None
    queue: deque[tuple[Any, str, int]] = deque([(value, field, 0)])
    while queue:
        item, path, depth = queue.popleft()
        reason = _number_problem(item)
        if reason is not None:
            return path, reason
        if isinstance(item, str):
            reason = text_problem(item)
            if reason is not None:
                return path, reason
            continue
        if isinstance(item, dict | list) and depth >= MAX_NESTING:
            return path, f"nests more than {MAX_NESTING} levels deep"
        if isinstance(item, dict):
            for key, child in item.items():
                reason = text_problem(str(key))
                if reason is not None:
                    return _join(path, "<key>"), f"a key {reason}"
                queue.append((child, _join(path, str(key)), depth + 1))
        elif isinstance(item, list):
            queue.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


def _fine(item: Any, depth: int) -> bool:
    """Whether ``item`` holds nothing ``problem`` would name (the common scalars inline: this
    runs on every message)."""
    kind = type(item)
    if kind is str:
        return _fine_text(item)
    if kind is dict:
        if depth >= MAX_NESTING:
            return False
        for key, child in item.items():
            if type(key) is not str or not _fine_text(key):
                return False
            if type(child) is str:
                if not _fine_text(child):
                    return False
            elif not (child is None or type(child) is bool or _fine(child, depth + 1)):
                return False
        return True
    if kind is list:
        return depth < MAX_NESTING and all(_fine(child, depth + 1) for child in item)
    if kind is float:
        return math.isfinite(item)
    if kind is int:
        return bool(-_INTEGER_LIMIT < item < _INTEGER_LIMIT)
    return item is None or kind is bool


def _fine_shape(item: Any, depth: int) -> bool:
    """``_fine`` for a value whose text is known clean: numbers and nesting only."""
    kind = type(item)
    if kind is dict:
        if depth >= MAX_NESTING:
            return False
        for child in item.values():
            if not (type(child) is str or child is None or _fine_shape(child, depth + 1)):
                return False
        return True
    if kind is list:
        return depth < MAX_NESTING and all(_fine_shape(child, depth + 1) for child in item)
    if kind is float:
        return math.isfinite(item)
    if kind is int:
        return bool(-_INTEGER_LIMIT < item < _INTEGER_LIMIT)
    return item is None or kind is bool or kind is str


def _fine_text(text: str) -> bool:
    return "\x00" not in text and (text.isascii() or text_problem(text) is None)


def _number_problem(item: Any) -> str | None:
    """Why ``item`` is a number no store can keep, or None (also for what is not a number)."""
    if isinstance(item, Unrepresentable):
        shown = item if len(item) <= 20 else f"{item[:20]}... ({len(item):,} characters)"
    elif type(item) is float and not math.isfinite(item):
        shown = {"inf": "Infinity", "-inf": "-Infinity"}.get(str(item), "NaN")
    elif type(item) is int and not -_INTEGER_LIMIT < item < _INTEGER_LIMIT:
        text = str(item)
        shown = f"{text[:20]}... ({len(text):,} characters)"
    else:
        return None
    return (
        f"{shown} is not a number that can be stored (finite, at most {MAX_INTEGER_DIGITS} digits)"
    )


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a stored name (an event's, a message id): too long, or not text."""
    if len(text) > MAX_ID_CHARACTERS:
        return f"is {len(text):,} characters long; at most {MAX_ID_CHARACTERS}"
    return text_problem(text)


def id_problem(text: str) -> str | None:
    """Why ``text`` cannot be an id (of a lead, a visitor, a message) or an event name.

    Ids are used in URLs (``/v1/leads/{id}``), so ``/`` is refused with the control
    characters: an id the API could not address would be a lead no one can read or erase."""
    if not text:
        return "is empty"
    reason = name_problem(text)
    if reason is not None:
        return reason
    found = _ID_FORBIDDEN.search(text)
    if found is not None:
        character = found.group()
        shown = "'/'" if character == "/" else f"a control character ({character!r})"
        return f"contains {shown}; ids may not"
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
