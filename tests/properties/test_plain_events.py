"""The messages ``plain_event`` takes are exactly what ``parse_message`` makes of them: for
random messages (a plain event with a few keys changed, dropped or added, with every trap
``test_message_lines`` sets for lines: ids that are numbers, empty, too long or hold '/';
times in many spellings, naive, impossible, in the future; nested and odd properties; text a
store refuses), each message it takes gives the row ``parse_message`` gives, and a message
``parse_message`` refuses or makes something else of is never taken. Plain events are all
taken, so the quick path is the path taken."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.spec.json_values import text_is_clean
from leadscore.spec.segment import MessageError
from leadscore.store.messages import parse_message, plain_event
from tests.conftest import examples
from tests.properties.test_message_lines import FIELDS, NOW, good

TRAPS = {
    "properties": st.one_of(
        FIELDS["properties"],
        st.just({"bad": "a\x00b"}),
        st.just({"x": float("nan")}),
        st.just({"x": 10**40}),
        st.just({"k\ud800": 1}),
        st.just({"deep": json.loads("[" * 40 + "]" * 40)}),
    ),
    "userId": st.one_of(FIELDS["userId"], st.just("a\ud800"), st.just("L\x00")),
    "event": st.one_of(FIELDS["event"], st.just("E\x00")),
}


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """A plain event with up to three of its keys set to any value, dropped or added."""
    message = draw(good)
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(list(FIELDS)))
        if draw(st.booleans()):
            message.pop(key, None)
        else:
            message[key] = draw(TRAPS.get(key, FIELDS[key]))
    return message


def parsed_row(message: dict[str, Any], text_checked: bool) -> tuple[Any, ...] | None:
    """The row ``parse_message`` stores for ``message``, or None when it refuses it or it
    is no event."""
    try:
        kind, item = parse_message(copy.deepcopy(message), NOW, text_checked=text_checked)
    except MessageError:
        return None
    return item.row() if kind == "event" else None


@settings(max_examples=examples(1000))
@given(message=messages(), trust_text=st.booleans())
def test_a_plain_event_is_what_parse_message_makes_of_it(
    message: dict[str, Any], trust_text: bool
) -> None:
    # the service vouches for a body's text only when it scanned it (``text_is_clean``)
    text_checked = trust_text and text_is_clean(json.dumps(message, ensure_ascii=False))
    expected = parsed_row(message, text_checked)
    taken = plain_event(copy.deepcopy(message), NOW, text_checked=text_checked)
    if taken is not None:  # and so never a message parse_message refuses
        assert taken == expected


@settings(max_examples=examples(200))
@given(message=good)
def test_plain_events_are_taken(message: dict[str, Any]) -> None:
    message.pop("context", None)
    if message["type"] == "screen":
        message["type"] = "page"
    taken = plain_event(message, NOW)
    assert taken is not None
    assert taken == parsed_row(message, False)
