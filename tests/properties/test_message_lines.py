"""The lines ``message_lines`` vouches for in bulk are exactly what ``parse_message`` makes
of them, one at a time: for random Segment lines with every trap the bulk reader guards
against (ids that are numbers, empty, too long or hold '/'; times in many spellings, naive,
impossible, in the future; keys given twice; nested and odd properties; numbers DuckDB and
Python read differently; escapes, other scripts, trailing commas, batches), each line
vouched for gives the row ``parse_message`` gives (properties compared as the JSON values
they spell), and a line it refuses is never vouched for. Plain lines are all vouched for,
so the bulk path is the path taken."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.spec.segment import MessageError
from leadscore.store import message_lines
from leadscore.store.input_files import Reject, json_record
from leadscore.store.messages import parse_message
from tests.conftest import examples

#: 2026-06-01T00:00:00Z: the lines' "now" (times past it by more than 5 minutes are refused).
NOW = 1_780_272_000 * 1_000_000

ids = st.one_of(
    st.sampled_from(["L1", "ann@acme.example", "a b", "", "x/y", "Zoë", "\u00a0", "L\x7f"]),
    st.text("abc-_.@", min_size=1, max_size=6),
    st.just("L" * 255),
    st.just("L" * 256),
    st.integers(-3, 10**17),
    st.none(),
    st.booleans(),
)
times = st.one_of(
    st.sampled_from(
        [
            "2026-02-18T10:07:00Z",
            "2026-02-18T10:07:00.5Z",
            "2026-02-18T10:07:00.123456Z",
            "2026-02-18T10:07:00.1234567Z",
            "2026-02-18T10:07:00+05:30",
            "2026-02-18T10:07:00-11:59",
            "2026-02-18T10:07:00+24:00",
            "2026-02-18T10:07:00+05:60",
            "2026-02-18T10:07:00",
            "2026-02-18 10:07:00Z",
            "2026-02-30T10:07:00Z",
            "2024-02-29T23:59:59Z",
            "2023-02-29T10:00:00Z",
            "2026-02-18T24:00:00Z",
            "2026-02-18T23:59:60Z",
            "2026-06-01T00:04:59Z",
            "2026-06-01T00:05:01Z",
            "2026-05-31T23:55:00-00:10",
            "1900-01-01T00:00:00Z",
            "1901-01-01T00:00:00+01:00",
            "8999-12-31T23:59:59Z",
            " 2026-02-18T10:07:00Z",
            "2026-2-18T10:07:00Z",
            "",
            "yesterday",
        ]
    ),
    st.builds(
        lambda y, mo, d, h, mi, s, zone: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{zone}",
        st.integers(1899, 2100),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 60),
        st.sampled_from(["Z", "+00:00", "-03:00", "+14:00", "+23:59", "z", ""]),
    ),
    st.integers(0, 10),
    st.none(),
)
scalars = st.one_of(
    st.text("ab /{}[],:", max_size=4),
    st.sampled_from(["Zoë", "é", "\u2028", "NaN", "1e400", '"', "\\", "\x00"]),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, -0.0, 1.0, 100000.0, 1.5e-7, 1e22]),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("ab", max_size=2), inner, max_size=3)
    ),
    max_leaves=6,
)
properties = st.one_of(
    st.dictionaries(
        st.sampled_from(["path", "plan", "user_agent", "n", "campaign"]), values, max_size=3
    ),
    st.sampled_from([None, [], "text", 3]),
)
campaigns = st.dictionaries(
    st.sampled_from(["name", "source", "x"]), st.text("ab", max_size=2), max_size=2
)
contexts = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "userAgent": st.sampled_from(["Mozilla/5.0", "curl", 7, None]),
            "campaign": campaigns,
            "library": st.just({"name": "analytics.js"}),
        },
    ),
    st.sampled_from(["ctx", None]),
)
#: The keys of a message and the values they may take.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["track", "page", "screen", "identify", "group", "alias", "Track", 1]),
    "userId": ids,
    "anonymousId": ids,
    "messageId": ids,
    "event": st.one_of(st.sampled_from(["Demo Requested", "", "E" * 256]), ids),
    "name": st.one_of(st.sampled_from(["Pricing", "", "N" * 256]), ids),
    "timestamp": times,
    "originalTimestamp": times,
    "properties": properties,
    "context": contexts,
    "user_id": ids,
    "batch": st.just([]),
    "sentAt": times,
    "extra": values,
}


#: A plain event, as a dict: every one is vouched for.
good = st.builds(
    lambda kind, user, name, stamp, props, agent: (
        {
            "type": kind,
            "userId": user,
            "messageId": f"m-{user}-{name}",
            "event" if kind == "track" else "name": name,
            "timestamp": stamp,
            "properties": props,
            **({"context": {"userAgent": agent, "ip": "10.0.0.1"}} if agent else {}),
        }
    ),
    st.sampled_from(["track", "page", "screen"]),
    st.text("abcL0123456789-@.", min_size=1, max_size=12),
    st.sampled_from(["Demo Requested", "Pricing", "Form Submitted"]),
    st.sampled_from(
        ["2026-02-18T10:07:00Z", "2026-03-01T23:00:00.25+02:00", "2025-12-31T00:00:00-05:00"]
    ),
    st.dictionaries(
        st.sampled_from(["path", "plan", "n", "premium"]),
        st.one_of(
            st.text("ab/", max_size=5),
            st.integers(-5, 5),
            st.booleans(),
            st.floats(-1e6, 1e6).map(lambda x: round(x, 3)),
        ),
        max_size=3,
    ),
    st.sampled_from([None, "Mozilla/5.0 (X11)"]),
)


@st.composite
def lines(draw: st.DrawFn) -> str:
    """One line of a Segment file, as text: a good event with a few of its keys changed,
    added twice, dropped or added (any of ``FIELDS``, with any value), spelt in any of the
    ways JSON allows and some it does not."""
    items = list(draw(good).items())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(list(FIELDS)))
        change = draw(st.sampled_from(["set", "twice", "drop"]))
        if change == "drop":
            items = [(k, v) for k, v in items if k != key]
        elif change == "twice" or key not in dict(items):
            items.insert(draw(st.integers(0, len(items))), (key, draw(FIELDS[key])))
        else:
            items = [(k, draw(FIELDS[key]) if k == key else v) for k, v in items]
    ascii_only = draw(st.booleans())
    text = ", ".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=ascii_only)}" for k, v in items)
    text = "{" + text + "}"
    trap = draw(st.sampled_from(["", "", "", "", "trailing comma", "spaces", "list", "cut"]))
    if trap == "trailing comma" and items:
        text = text[:-1] + ",}"
    elif trap == "spaces":
        text = text.replace(": ", " :  ")
    elif trap == "list":
        text = f"[{text}]"
    elif trap == "cut":
        text = text[: len(text) // 2]
    return text


def _row_of(number: int, line: str) -> tuple[Any, ...] | None:
    """What ``parse_message`` makes of the line, one at a time: the stored row of an event,
    or None when it is refused or is no event."""
    record = json_record(number, line)
    if record is None or isinstance(record, Reject) or isinstance(record.get("batch"), list):
        return None
    try:
        kind, event = parse_message(record, NOW)
    except MessageError:
        return None
    if kind != "event":
        return None
    fields = ("message_id", "lead_id", "anonymous_id", "type", "event", "timestamp")
    return (*[getattr(event, field) for field in fields], event.properties)


def _same_json(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


@pytest.fixture(autouse=True)
def _every_chunk_in_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_lines, "MIN_LINES", 1)


@settings(max_examples=examples(400))
@given(st.lists(lines(), min_size=1, max_size=30))
def test_a_line_vouched_for_is_the_event_parse_message_makes(texts: list[str]) -> None:
    numbered = list(enumerate(texts, start=1))
    vouched = message_lines.vouched_events(numbered, NOW)
    for number, line in numbered:
        if number not in vouched:
            continue
        expected = _row_of(number, line)
        assert expected is not None, f"vouched for a line parse_message refuses: {line}"
        row = vouched[number]
        assert row[:6] == expected[:6], line
        assert _same_json(row[6]) == json.dumps(expected[6], sort_keys=True), line


@settings(max_examples=examples(100))
@given(st.lists(good.map(json.dumps), min_size=1, max_size=20))
def test_plain_events_are_all_vouched_for_as_parse_message_reads_them(texts: list[str]) -> None:
    numbered = list(enumerate(texts, start=1))
    vouched = message_lines.vouched_events(numbered, NOW)
    for number, line in numbered:
        expected = _row_of(number, line)
        assert expected is not None, line
        assert number in vouched, f"a plain event is left to the line-by-line path: {line}"
        assert vouched[number][:6] == expected[:6]
        assert _same_json(vouched[number][6]) == json.dumps(expected[6], sort_keys=True)


def test_the_traps_are_left_to_parse_message() -> None:
    """Lines the bulk reader must not vouch for, each checked by hand: the bulk reading of
    them would differ from parse_message's, or parse_message refuses them."""
    good = {"type": "track", "userId": "L1", "messageId": "m1", "event": "Demo Requested",
            "timestamp": "2026-02-18T10:07:00Z"}  # fmt: skip
    traps = [
        json.dumps(good)[:-1] + ', "userId": "L2"}',
        json.dumps({**good, "properties": {"a": {"b": 1}}}),
        json.dumps({**good, "timestamp": "2026-02-30T10:07:00Z"}),
        json.dumps({**good, "timestamp": "2026-06-01T01:00:00Z"}),
        json.dumps({**good, "userId": 7}),
        json.dumps({**good, "userId": "a/b"}),
        json.dumps({**good, "messageId": None}),
        json.dumps({**good, "event": ""}),
        json.dumps({**good, "user_id": "L9"}),
        json.dumps({**good, "properties": None}),
        json.dumps({**good, "properties": {"n": 1e400}}).replace("Infinity", "1e400"),
        json.dumps({**good, "context": {"campaign": {"name": "spring"}}}),
        json.dumps({**good, "event": "Caf\u00e9"}),
        json.dumps(good)[:-1] + ",}",
    ]  # fmt: skip
    numbered = list(enumerate(traps, start=1))
    assert message_lines.vouched_events(numbered, NOW) == {}
    control = [(1, json.dumps(good))]
    assert message_lines.vouched_events(control, NOW) == {
        1: ("m1", "L1", None, "track", "Demo Requested", 1_771_409_220_000_000, "{}")
    }
