"""Predicates judge values of mixed CSV/JSON origin the same way."""

from __future__ import annotations

import pytest

from leadscore.spec.gibberish import is_gibberish
from leadscore.spec.predicates import EmailDomain, Equals, In, Missing, Prefix, Range, field_value


def test_equals_compares_canonical_text() -> None:
    premium = Equals(type="equals", field="premium", value=True)
    assert premium.test(True) and premium.test("true") and premium.test("TRUE")
    assert not premium.test(False) and not premium.test(None)
    assert Equals(type="equals", field="n", value=5).test(5.0)


def test_range_reads_numbers_from_text() -> None:
    over_10 = Range(type="range", field="size", gt=10)
    assert over_10.test("11") and over_10.test(1_000) and over_10.test("1,200")
    assert not over_10.test(10) and not over_10.test("n/a") and not over_10.test(None)
    assert not over_10.test(True)


def test_negate_flips_including_missing() -> None:
    not_dk = In(type="in", field="country", values=["DK"], negate=True)
    assert not_dk.test("SE") and not not_dk.test("dk") and not_dk.test(None)


def test_missing_means_absent_or_blank() -> None:
    missing = Missing(type="missing", field="phone")
    assert missing.test(None) and missing.test("  ") and not missing.test("0")


def test_prefix_accepts_several() -> None:
    jobs = Prefix(type="prefix", field="path", value=["/jobs", "/careers"])
    assert jobs.test("/careers/123") and not jobs.test("/pricing")


@pytest.mark.parametrize(
    ("email", "lists", "expected"),
    [
        ("anna@gmail.com", ["free_mail"], True),
        ("Anna@GMAIL.com", ["free_mail"], True),
        ("anna@yahoo.co.uk", ["free_mail"], True),
        ("anna@acme.example", ["free_mail"], False),
        ("x@mailinator.com", ["disposable"], True),
        ("x@mailinator.com", ["free_mail", "disposable"], True),
        ("not an email", ["free_mail"], False),
    ],
)
def test_email_domain_lists(email: str, lists: list[str], expected: bool) -> None:
    assert EmailDomain(type="email_domain", field="email", lists=lists).test(email) is expected


def test_field_value_prefers_literal_key_then_dotted_path() -> None:
    assert field_value({"utm.source": "a", "utm": {"source": "b"}}, "utm.source") == "a"
    assert field_value({"utm": {"source": "b"}}, "utm.source") == "b"
    assert field_value({"utm": "x"}, "utm.source") is None


REAL = [
    "Robert Wertheimer",
    "Nguyen Van Anh",
    "Xiaoping Zhang",
    "Sibusiso Mkhize",
    "Taras Tkachenko",
    "Brzęczyszczykiewicz",
    "Krzysztof Strzelczyk",
    "Llwyd",
    "Siobhan O'Sullivan",
    "Nietzsche",
    "Head of Marketing",
    "Chief Technology Officer",
    "Deutsche Telekom",
    "Kjell Sjöberg",
    "Schwarzkopf",
    "Dzhokhar",
    "Mtshali",
    "Hjalmar",
    "Rhythm Labs",
    "Ingrid Kristiansen",
    "Ioana Popescu",
    "Yusuf",
    "Aaron",
]
MASH = [
    "asdfgh",
    "qwerty",
    "jkjkjk",
    "sdfsdf",
    "xcvbnm",
    "aaaaaa",
    "hjkl",
    "zxczxc",
    "fgdfgd",
    "lkjhg",
    "dfghj",
    "kjhkjh",
    "bcdfgh",
    "qwer",
    "asdasd",
    "ghjkl",
    "fdsa",
    "mnbv",
    "John asdfgh",
]


@pytest.mark.parametrize("text", REAL)
def test_real_names_are_not_gibberish(text: str) -> None:
    assert not is_gibberish(text)


@pytest.mark.parametrize("text", MASH)
def test_keyboard_mash_is_gibberish(text: str) -> None:
    assert is_gibberish(text)
