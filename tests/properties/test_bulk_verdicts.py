"""The batch engine's verdicts on a column of distinct values (``engines.verdicts``, with its
vectorised forms for plain strings) are the spec's own ``test`` on each value, for random
predicates of every kind and values of every shape: plain ASCII strings with spaces, case
and addresses, other scripts and white space, escapes, numbers, booleans, nesting, null."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from leadscore.engines.sql import decode
from leadscore.engines.verdicts import judged_column
from leadscore.spec.domains import listed
from leadscore.spec.predicates import Predicate
from tests.conftest import examples

PREDICATE = TypeAdapter(Predicate)

#: Pieces values are made of: what the predicates below look for, and what trips text rules.
WORDS = ["vp", "VP", "Head", "dk", "DK", " ", "  ", "/pricing", "/Pricing", "gmail.com",
         "@", ".", "acme.example", "ACME.Example", "x", "Straße", "\u00a0", "\t", "\x1c",
         "1", "1,000", "-2.5", "é", "İ", "ß", "mailinator.com", "a@b", ",", "_"]  # fmt: skip
FREE = sorted(listed("free_mail"))[:5]
DISPOSABLE = sorted(listed("disposable"))[:5]

texts = st.lists(st.sampled_from(WORDS), max_size=5).map("".join)
addresses = st.builds(
    lambda local, domain, tail: f"{local}@{domain}{tail}",
    st.sampled_from(["ann", "", " bob", "a@b", "C.D"]),
    st.sampled_from([*FREE, *DISPOSABLE, "acme.example", "ACME.example", "nodot", " x.io "]),
    st.sampled_from(["", ".", "..", " ", ". ", " .", "\u00a0"]),
)
values: st.SearchStrategy[Any] = st.one_of(
    texts,
    addresses,
    st.text(max_size=8),
    st.integers(-5, 2_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
)
#: A value as the JSON text DuckDB extracts (None: the field is absent).
json_texts = st.one_of(
    st.none(),
    values.map(json.dumps),
    values.map(lambda v: json.dumps(v, ensure_ascii=False)),
)


def _spec(kind: str, negate: bool, **more: object) -> dict[str, object]:
    return {"type": kind, "field": "f", "negate": negate, **more}


some_words = st.lists(st.one_of(st.sampled_from(WORDS), st.integers(0, 3)), min_size=1, max_size=4)
predicates = st.one_of(
    st.builds(
        lambda value, ignore, negate: _spec("equals", negate, value=value, ignore_case=ignore),
        st.one_of(st.sampled_from(WORDS), st.integers(0, 5), st.booleans(), st.just(1.5)),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        lambda chosen, ignore, negate: _spec("in", negate, values=chosen, ignore_case=ignore),
        some_words,
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        lambda chosen, ignore, negate: _spec("prefix", negate, value=chosen, ignore_case=ignore),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(_spec, st.sampled_from(["present", "missing", "gibberish"]), st.booleans()),
    st.builds(
        lambda lists, own, negate: _spec("email_domain", negate, lists=lists, domains=own),
        st.lists(st.sampled_from(["free_mail", "disposable"]), max_size=2, unique=True),
        st.lists(st.sampled_from(["acme.example", "ACME.Example", "x.io"]), max_size=2),
        st.booleans(),
    ).filter(lambda spec: spec["lists"] or spec["domains"]),
    st.builds(lambda negate: _spec("regex", negate, pattern=r"\b(vp|head)\b"), st.booleans()),
    st.builds(lambda negate: _spec("range", negate, gte=1, lt=1000), st.booleans()),
)


@settings(max_examples=examples(300))
@given(
    column=st.lists(json_texts, min_size=1, max_size=12, unique=True),
    chosen=st.lists(predicates, min_size=1, max_size=4),
)
def test_column_verdicts_are_the_spec_s_test(column: list[str | None], chosen: list[Any]) -> None:
    built = [PREDICATE.validate_python(spec) for spec in chosen]
    found = judged_column(pa.array(column, pa.string()), built)
    for predicate, verdicts in zip(built, found, strict=True):
        expected = [predicate.test(decode(text)) for text in column]
        assert verdicts.tolist() == expected, predicate


def test_plain_addresses_are_judged_as_written() -> None:
    """Worked by hand: the domain is what follows the last "@", trimmed of spaces and
    trailing dots and lower-cased; no "@", nothing before it or no dot is no address."""
    predicate = PREDICATE.validate_python(
        {"type": "email_domain", "field": "email", "domains": ["acme.example"]}
    )
    column = {
        '"ann@ACME.example. "': True,
        '"a@b@acme.example"': True,
        '"@acme.example"': False,
        '"ann@acme"': False,
        '"acme.example"': False,
        '" ann@acme.example"': True,
        '"ann@acme.example ."': False,
    }
    found = judged_column(pa.array(list(column)), [predicate])[0].tolist()
    assert found == list(column.values())
