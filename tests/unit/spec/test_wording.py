"""Conditions in plain words: what an explanation table says, checked against sentences
written by hand from docs/model-file.md."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from leadscore.spec.conditions import Condition
from leadscore.spec.predicates import Predicate
from leadscore.spec.wording import condition_words, field_words, predicate_words, tree_words

PREDICATES = TypeAdapter(Predicate)
CONDITIONS = TypeAdapter(Condition)


@pytest.mark.parametrize(
    ("spec", "words", "opposite"),
    [
        ({"type": "range", "field": "company_size", "gt": 10},
         "company size is more than 10", "company size is at most 10"),
        ({"type": "range", "field": "company_size", "gte": 11, "lt": 100},
         "company size is at least 11 and less than 100",
         "company size is not (at least 11 and less than 100)"),
        ({"type": "equals", "field": "premium", "value": True},
         "premium is true", "premium is not true"),
        ({"type": "in", "field": "country", "values": ["DK", "SE", "NO", "FI", "DE", "NL", "GB"]},
         "country is one of DK, SE, NO, FI, DE, NL and 1 more",
         "country is not one of DK, SE, NO, FI, DE, NL and 1 more"),
        ({"type": "in", "field": "country", "values": ["DK"], "negate": True},
         "country is not one of DK", "country is one of DK"),
        ({"type": "prefix", "field": "path", "value": "/pricing"},
         "path starts with '/pricing'", "path does not start with '/pricing'"),
        ({"type": "regex", "field": "job_title", "pattern": r"\b(student|intern|pupil)\b"},
         "job title has one of the words student, intern, pupil",
         "job title has none of the words student, intern, pupil"),
        ({"type": "regex", "field": "phone", "pattern": r"^\+45"},
         r"phone matches the pattern ^\+45", r"phone does not match the pattern ^\+45"),
        ({"type": "present", "field": "phone"}, "phone is given", "phone is missing"),
        ({"type": "missing", "field": "phone"}, "phone is missing", "phone is given"),
        ({"type": "email_domain", "field": "email", "lists": ["free_mail", "disposable"]},
         "email is at a free-mail or disposable domain",
         "email is not at a free-mail or disposable domain"),
        ({"type": "gibberish", "field": "last_name"},
         "last name looks made up", "last name does not look made up"),
    ],
)  # fmt: skip
def test_predicates(spec: dict[str, Any], words: str, opposite: str) -> None:
    predicate = PREDICATES.validate_python(spec)
    assert predicate_words(predicate) == words
    assert predicate_words(predicate, negated=True) == opposite


@pytest.mark.parametrize(
    ("spec", "words", "opposite"),
    [
        ({"type": "score", "gt": 70}, "score is more than 70", "score is at most 70"),
        ({"type": "events", "event": "Content Downloaded",
          "where": [{"type": "equals", "field": "premium", "value": True}], "gte": 2},
         "at least 2 Content Downloaded events where premium is true",
         "less than 2 Content Downloaded events where premium is true"),
        ({"type": "events", "event_type": "page", "gte": 1, "within_days": 7,
          "where": [{"type": "prefix", "field": "path", "value": "/pricing"}]},
         "at least 1 page view where path starts with '/pricing' in the last 7 days",
         "less than 1 page view where path starts with '/pricing' in the last 7 days"),
        ({"type": "days_since_activity", "gt": 30},
         "last activity more than 30 days ago", "last activity at most 30 days ago"),
        ({"type": "days_since_event", "event": "Email Opened", "gt": 60},
         "last Email Opened event more than 60 days ago",
         "last Email Opened event at most 60 days ago"),
        ({"type": "stage_reached", "stage": "MQL"}, "has reached MQL", "has not reached MQL"),
        ({"type": "attribute", "where": {"type": "range", "field": "account.engaged_leads",
                                         "gte": 3}},
         "engaged leads at the account is at least 3",
         "engaged leads at the account is less than 3"),
    ],
)  # fmt: skip
def test_conditions(spec: dict[str, Any], words: str, opposite: str) -> None:
    condition = CONDITIONS.validate_python(spec)
    assert condition_words(condition) == words
    assert condition_words(condition, negated=True) == opposite


def test_field_names() -> None:
    assert field_words("company_size") == "company size"
    assert field_words("account.id") == "the account"
    assert field_words("properties.plan") == "properties plan"


def test_condition_trees_in_words() -> None:
    """Groups say all of / any of, nested groups in parentheses; a not turns its whole tree
    into its opposite (De Morgan), written by hand."""
    tree = CONDITIONS.validate_python(
        {
            "all": [
                {"type": "stage_reached", "stage": "MQL"},
                {"type": "score", "gt": 70},
                {"any": [
                    {"type": "events", "event": "Demo Requested", "gte": 1},
                    {"type": "events", "event": "Contact Requested", "gte": 1},
                ]},
            ]
        }
    )  # fmt: skip
    assert tree_words(tree) == (
        "all of: has reached MQL; score is more than 70; "
        "(any of: at least 1 Demo Requested event; at least 1 Contact Requested event)"
    )
    assert tree_words(CONDITIONS.validate_python({"not": tree})) == (
        "any of: has not reached MQL; score is at most 70; "
        "(all of: less than 1 Demo Requested event; less than 1 Contact Requested event)"
    )
