"""Regular expressions that backtrack exponentially (issue 14: ``(a|aa)+$`` made each value
cost 0.2-0.4 s and activation 154 s): refused when the model is validated when their shape
shows it, and bounded at run time when it does not."""

from __future__ import annotations

import pickle
import time

import pytest

from leadscore import ModelFileError, parse_model
from leadscore.spec.patterns import MAX_TIMEOUTS, TIMEOUT_SECONDS, Pattern, nesting_problem
from leadscore.spec.predicates import Regex

MODEL = """\
name: m
fit:
  - name: titles
    when: [{{type: regex, field: job_title, pattern: '{pattern}'}}]
    points: 5
"""


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a|aa)+$", "has alternatives"),
        ("(a+)+$", "repeats"),
        (r"^(\w+\s?)+$", "repeats"),
        (r"(\p{L}+)*x", "repeats"),  # regex-only syntax is analysed too
        ("(?:x(?:ab|a)y)*z", "has alternatives"),
    ],
)
def test_exponential_shapes_are_refused_where_they_are_written(pattern: str, why: str) -> None:
    with pytest.raises(ModelFileError) as caught:
        parse_model(MODEL.format(pattern=pattern), "m.yaml")
    [issue] = caught.value.issues
    assert str(issue).startswith("m.yaml:4:")
    assert f"repeats a group that itself {why}" in str(issue)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^(vp|head|chief)\b",  # alternatives, not repeated
        r"(?>a+)+$",  # atomic: never backtracks into a+
        r"a++b",
        r"(\d{1,3}\.){3}\d{1,3}",  # a small bounded repeat
        r"[a-z]+@example\.com$",
        r"^\p{Lu}\w+",
    ],
)
def test_safe_shapes_are_accepted(pattern: str) -> None:
    assert nesting_problem(pattern) is None
    parse_model(MODEL.format(pattern=pattern), "m.yaml")


#: An exponential shape CPython's parser simplifies away (the two classes become one), so the
#: analysis cannot see it; the ``regex`` module still backtracks on it.
UNSEEN = "^(?:[a-z]|[a-c])+$"


def test_an_unseen_shape_is_bounded_per_search_and_searched_once_per_value() -> None:
    assert nesting_problem(UNSEEN) is None
    predicate = Regex(type="regex", field="path", pattern=UNSEEN)
    value = "a" * 40 + "!"
    started = time.perf_counter()
    assert predicate.test(value) is False
    first = time.perf_counter() - started
    assert first < 10 * TIMEOUT_SECONDS
    started = time.perf_counter()
    for _ in range(1_000):  # a lead's events carry the same path again and again
        assert predicate.test(value) is False
    assert time.perf_counter() - started < 0.5


def test_a_pattern_that_keeps_running_out_of_time_is_tripped() -> None:
    pattern = Pattern(UNSEEN, ignore_case=False)
    started = time.perf_counter()
    for n in range(200):  # new crafted values each time, as an attacker would send
        assert pattern.matches("a" * (40 + n) + "!") is False
    elapsed = time.perf_counter() - started
    assert pattern.tripped and pattern.timeouts == MAX_TIMEOUTS
    # each timeout costs about TIMEOUT_SECONDS; the 180 after the trip cost nothing
    assert elapsed < 3 * MAX_TIMEOUTS * TIMEOUT_SECONDS
    assert pattern.matches("abc") is False


def test_matching_is_unchanged_and_survives_pickling() -> None:
    predicate = Regex(type="regex", field="job_title", pattern=r"^(vp|head)\b")
    copy = pickle.loads(pickle.dumps(predicate))
    for candidate in (predicate, copy):
        assert candidate.test("VP Sales") is True
        assert candidate.test("Head of Growth") is True
        assert candidate.test("Vice President") is False
        assert candidate.test(None) is False
