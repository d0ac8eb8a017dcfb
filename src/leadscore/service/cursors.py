"""Opaque page cursors for keyset pagination: a (number, key) position, base64 JSON, checked
on the way back in (a client can send any text)."""

from __future__ import annotations

import base64
import binascii
import json

from leadscore.service.errors import ApiError
from leadscore.spec import json_values

#: Kept scores and their sums are milli-points within a model's bounds; a cursor past this
#: is forged.
MAX_CURSOR_NUMBER = 2**62


def cursor(number: int, key: str) -> str:
    """The cursor for the page after the row at (``number``, ``key``)."""
    return base64.urlsafe_b64encode(json.dumps([number, key]).encode()).decode()


def position(text: str) -> tuple[int, str]:
    """The position a ``cursor`` names; 400 for anything else."""
    try:
        number, key = json_values.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, TypeError, binascii.Error):
        number = key = None
    forged = (
        type(number) is not int
        or abs(number) > MAX_CURSOR_NUMBER
        or not isinstance(key, str)
        or json_values.id_problem(key) is not None
    )
    if forged:
        raise ApiError(400, "cursor: not a cursor this service gave", "cursor")
    return number, key


def ranked_cursor(key: tuple[int, int, str]) -> str:
    """The cursor after a ranked list's row, from its ``ranked.order_key``: the two numbers
    it is ordered by and its lead id."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def ranked_position(text: str) -> tuple[int, int, str]:
    """The (number, number, lead id) a ``ranked_cursor`` names; 400 for anything else."""
    try:
        score, total, key = json_values.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, TypeError, binascii.Error):
        score = total = key = None
    numbers_ok = all(type(n) is int and abs(n) <= MAX_CURSOR_NUMBER for n in (score, total))
    if not numbers_ok or not isinstance(key, str) or json_values.id_problem(key) is not None:
        raise ApiError(400, "cursor: not a cursor this service gave", "cursor")
    return score, total, key
