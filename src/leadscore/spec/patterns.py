"""User-written regular expressions, made safe to run on values from the network.

A model's ``regex`` predicate runs on page paths and job titles that anyone holding the public
ingest key can choose, so a pattern that backtracks exponentially (``(a|aa)+$``) is a way to
stall scoring. Three guards, each cheap:

- ``nesting_problem`` refuses, when the model is validated, a repeated group that itself
  repeats or has alternatives, the shape behind catastrophic backtracking; atomic groups
  ``(?>...)`` and possessive quantifiers ``++`` do not backtrack and are allowed.
- every search has a time limit (``TIMEOUT_SECONDS``); a search that runs out counts as no
  match;
- ``Pattern`` remembers its verdict per value (a bounded LRU), so a value is searched at most
  once however many events and rescoring rounds carry it: without this, a lead's hundred
  events each cost the limit again on every round;
- a pattern that still runs out of time ``MAX_TIMEOUTS`` times (a shape the analysis did not
  see, sent with new values each time) is tripped: it is logged as an error and from then on
  matches nothing without searching, so its total cost in a process is bounded.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

import regex

#: How long one search of one value may run before it counts as no match.
TIMEOUT_SECONDS = 0.05
#: Verdicts remembered per pattern (distinct values; a page path or job title is short).
CACHED_VERDICTS = 65_536
#: Searches that may run out of time before the pattern is tripped (matches nothing).
MAX_TIMEOUTS = 20
#: A repeat of at most this many times is not "repeated" for the nesting rule.
SMALL_REPEAT = 10

try:  # CPython's own regular-expression parser (re._parser since 3.11)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Pythons
    _sre_parse = None

logger = logging.getLogger(__name__)

_REPEATS = {"MAX_REPEAT", "MIN_REPEAT"}
#: ``regex``-only escapes (Unicode properties), read as one character for the analysis.
_PROPERTY = re.compile(r"\\[pP](\{[^}]*\}|[A-Za-z])")
_OPAQUE = {"ATOMIC_GROUP", "POSSESSIVE_REPEAT"}  # never backtrack into


class Pattern:
    """A compiled pattern searched with a time limit, its verdicts per text remembered."""

    def __init__(self, pattern: str, *, ignore_case: bool) -> None:
        self._source = (pattern, ignore_case)
        self._compiled = regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
        self.matches = lru_cache(maxsize=CACHED_VERDICTS)(self._search)
        self.timeouts = 0
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its source (the verdicts are rebuilt where it is unpickled)."""
        pattern, ignore_case = self._source
        return _rebuilt, (pattern, ignore_case)

    @property
    def tripped(self) -> bool:
        return self.timeouts >= MAX_TIMEOUTS

    def _search(self, text: str) -> bool:
        if self.tripped:
            return False
        try:
            return self._compiled.search(text, timeout=TIMEOUT_SECONDS) is not None
        except TimeoutError:
            with self._lock:
                self.timeouts += 1
                if self.timeouts == MAX_TIMEOUTS:
                    logger.error(
                        "regular expression %r ran out of time on %d values; it now matches "
                        "nothing: rewrite it without nested repetition",
                        self._source[0],
                        MAX_TIMEOUTS,
                    )
            return False


def _rebuilt(pattern: str, ignore_case: bool) -> Pattern:
    return Pattern(pattern, ignore_case=ignore_case)


def nesting_problem(pattern: str) -> str | None:
    """Why ``pattern`` may take exponential time, or None.

    Patterns only the ``regex`` module reads (``\\p{L}``) are not analysed; the time limit
    still bounds them."""
    if _sre_parse is None:  # pragma: no cover
        return None
    try:
        parsed = _sre_parse.parse(_PROPERTY.sub("x", pattern))
    except (re.error, RecursionError, OverflowError):
        return None
    found = _nested_repeat(list(parsed), inside_repeat=False)
    if found is None:
        return None
    return (
        f"repeats a group that itself {found} (as in '(a|aa)+' or '(a+)+'), which can take "
        "exponential time on some values; repeat something simpler, or make the inner part "
        "atomic with (?>...)"
    )


def _nested_repeat(items: list[Any], *, inside_repeat: bool) -> str | None:
    """The first inner repetition or alternation under an unbounded repeat, described."""
    for op, arg in items:
        name = str(op)
        if name in _OPAQUE:
            continue
        if name in _REPEATS:
            _low, high, body = arg
            repeated = high > SMALL_REPEAT
            if inside_repeat and repeated:
                return "repeats"
            found = _nested_repeat(list(body), inside_repeat=inside_repeat or repeated)
            if found is not None:
                return found
        elif name == "BRANCH":
            if inside_repeat:
                return "has alternatives"
            for branch in arg[1]:
                found = _nested_repeat(list(branch), inside_repeat=False)
                if found is not None:
                    return found
        elif name == "SUBPATTERN":
            found = _nested_repeat(list(arg[3]), inside_repeat=inside_repeat)
            if found is not None:
                return found
        elif name == "GROUPREF_EXISTS":
            for branch in arg[1:]:
                if branch is not None:
                    found = _nested_repeat(list(branch), inside_repeat=inside_repeat)
                    if found is not None:
                        return found
        elif name in {"ASSERT", "ASSERT_NOT"}:
            found = _nested_repeat(list(arg[1]), inside_repeat=inside_repeat)
            if found is not None:
                return found
    return None
