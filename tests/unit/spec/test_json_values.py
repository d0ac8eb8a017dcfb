"""The scan of a body's text (``json_values.text_is_clean``) lets the messages' checks skip
their strings: it must never call clean a body whose values hold a NUL or a surrogate.
Checked against the full check on values anything JSON can spell (and more)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.spec.json_values import problem, text_is_clean
from tests.conftest import examples
from tests.service.test_fuzz import WILD


@settings(max_examples=examples(400), deadline=None)
@given(value=WILD, ascii=st.booleans())
def test_a_clean_scan_never_hides_what_the_full_check_finds(value: Any, ascii: bool) -> None:
    text = json.dumps({"properties": value}, ensure_ascii=ascii)
    full = problem({"properties": value}, "")
    if text_is_clean(text):
        assert problem({"properties": value}, "", text_checked=True) == full
    try:
        data = text.encode()  # what a client sends: UTF-8 (no surrogate can be encoded)
    except UnicodeEncodeError:
        return
    if text_is_clean(data):
        assert problem({"properties": value}, "", text_checked=True) == full


def test_the_escapes_that_spell_refused_text_are_seen() -> None:
    for spelt in ('"\\u0000"', '"\\ud800"', '"\\uDBFF"', '"\\udc00"', '"\\uD83D\\uDE00"'):
        assert not text_is_clean(spelt) and not text_is_clean(spelt.encode()), spelt
    for spelt in ('"\\u00e9"', '"\\u0001"', '"\\uE000"', '"plain"', '"caf\u00e9"'):
        assert text_is_clean(spelt) and text_is_clean(spelt.encode()), spelt
