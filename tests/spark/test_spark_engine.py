"""The Spark engine keeps the ``Engine`` contract: the oracle's rows, in Spark local mode."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from leadscore.engines.plan import compile_plan
from leadscore.engines.registry import get_engine
from leadscore.engines.spark import SparkEngine
from leadscore.spec.loader import parse_model
from leadscore.testing.check import check_engine
from tests.conftest import examples

pytestmark = pytest.mark.spark

DAY = 86_400_000_000
AS_OF = 20_000 * DAY  # a UTC midnight


def test_spark_agrees_with_the_oracle(spark: Any) -> None:
    """Random models, leads (accounts among them), events, instants, recorded stages and
    recycles, spread over three partitions."""
    check_engine(SparkEngine(spark, partitions=3), max_examples=examples(40))


def test_an_account_spread_over_many_partitions_is_scored_whole(spark: Any) -> None:
    """Three leads of acme.example (two opened an email), one of another company and one
    without an account, over eight partitions: account facts see every lead of the account."""
    model = parse_model(
        """
name: accounts
accounts:
  counts: [{name: openers, event: Email Opened}]
fit:
  - {name: two openers, points: 10, when: [{type: range, field: account.openers, gte: 2}]}
  - {name: team, points: 1, when: [{type: range, field: account.leads, gte: 3}]}
engagement:
  - {name: open, event: Email Opened, points: 2}
tiers: [{name: hot, min: 12}, {name: cold}]
"""
    )
    emails = {
        "a1": "ann@acme.example",
        "a2": "bob@acme.example",
        "a3": "cy@acme.example",
        "o1": "dee@other.example",
        "x1": "",
    }
    leads = pa.table(
        {
            "lead_id": list(emails),
            "attributes": [json.dumps({"email": e} if e else {}) for e in emails.values()],
        }
    )
    opened = ["a1", "a2", "o1", "x1"]
    events = pa.table(
        {
            "lead_id": opened,
            "type": ["track"] * 4,
            "event": ["Email Opened"] * 4,
            "timestamp": [AS_OF - 1] * 4,  # the same day: no decay
            "properties": ["{}"] * 4,
        }
    )
    got = SparkEngine(spark, partitions=8).score_many(compile_plan(model), leads, events, AS_OF)
    rows = {row["lead_id"]: row for row in got.to_pylist()}
    # by hand: acme has 3 leads and 2 openers, so 10 + 1 fit points each; an open is 2 points
    assert {lead: (r["fit"], r["engagement"], r["score"]) for lead, r in rows.items()} == {
        "a1": (11_000, 2_000, 13_000),
        "a2": (11_000, 2_000, 13_000),
        "a3": (11_000, 0, 11_000),
        "o1": (0, 2_000, 2_000),
        "x1": (0, 2_000, 2_000),
    }
    assert rows["a1"]["account_id"] == "acme.example" and rows["x1"]["account_id"] is None
    assert [rows[lead]["tier"] for lead in ("a1", "a3")] == ["hot", "cold"]


def test_the_engine_is_chosen_by_name() -> None:
    assert type(get_engine("spark")).__name__ == "SparkEngine"
