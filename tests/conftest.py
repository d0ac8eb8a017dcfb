"""Shared fixtures and the two-engine scoring helper used by hand-computed cases."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# what the CLI prints is read as a person reads it at a pipe (``cli.console``): pytest-xdist's
# workers set COLUMNS=80, which would make Rich fold the tables tests read
os.environ.pop("COLUMNS", None)

import pytest
import sqlalchemy as sa
from hypothesis import settings

from leadscore import (
    Event,
    IncrementalScorer,
    LeadScore,
    Store,
    compile_plan,
    parse_model,
)
from leadscore.engines.incremental import applies
from leadscore.engines.lead_parts import PartMaker, assemble
from leadscore.engines.plan import Plan
from leadscore.engines.registry import get_preparing_engine
from leadscore.spec.accounts import account_of
from leadscore.spec.model import ScoringModel
from leadscore.testing import arrow_inputs, assert_rows_agree, lifecycle_table
from leadscore.testing.strategies import Lifecycle

#: Hypothesis profiles: "ci" (CI, or LEADSCORE_CI) runs every property test at its full
#: number of examples; "dev", the default elsewhere, a quarter of them (at least 10), for a
#: quick local run. HYPOTHESIS_PROFILE chooses one explicitly.
IN_CI = bool(os.environ.get("CI") or os.environ.get("LEADSCORE_CI"))
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev")
settings.load_profile(PROFILE)


def require_data(path: Path, what: str) -> None:
    """Skip, saying what is missing, when a real dataset of ../shared/data is absent; in CI,
    where the data is always laid beside the project, fail instead."""
    if path.exists():
        return
    message = f"{what} is not at {path} (see ../shared/data/README.md)"
    if IN_CI:
        pytest.fail(f"{message}; CI must have it")
    pytest.skip(message)


def examples(full: int) -> int:
    """A property test's number of examples under the loaded profile (``full`` in CI)."""
    return full if PROFILE == "ci" else max(10, full // 4)


#: The PostgreSQL server the database tests also run on (the machine's; CI has it too).
POSTGRES_URL = os.environ.get(
    "LEADSCORE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, and a schema of its own on PostgreSQL.

    Without a reachable PostgreSQL server the PostgreSQL runs skip, saying so, except in CI
    (``CI`` or ``LEADSCORE_CI`` set), where a missing server is a failure."""
    with new_database(request.param, tmp_path / "db.sqlite") as url:
        yield url


@contextmanager
def new_database(kind: str, sqlite_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of ``kind`` (sqlite: at ``sqlite_path``;
    postgresql: a schema of its own, dropped afterwards), for a test that needs several."""
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_path}"
        return
    engine = sa.create_engine(POSTGRES_URL)
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc.orig})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must have it")
        pytest.skip(f"{reason}; start one or set LEADSCORE_TEST_POSTGRES to run these")
    _shared_extensions(conn)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    conn.commit()
    joiner = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}"
    finally:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        conn.commit()
        conn.close()
        engine.dispose()


_EXTENSIONS_READY: list[bool] = []


def _shared_extensions(conn: sa.Connection) -> None:
    """pg_trgm (the lead search's) created once in ``public``, under a lock: created from a
    test's own schema it would live there and be dropped with it, under tests running beside
    it in other processes (``pytest -n``). Once per process: nothing drops it."""
    if _EXTENSIONS_READY:
        return
    conn.exec_driver_sql("SELECT pg_advisory_lock(72120)")
    try:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    finally:
        conn.exec_driver_sql("SELECT pg_advisory_unlock(72120)")
    conn.commit()
    _EXTENSIONS_READY.append(True)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store on each database (``database_url``)."""
    opened = Store.open(database_url)
    yield opened
    opened.close()


def model(text: str) -> ScoringModel:
    return parse_model(text, "test.yaml")


def track(lead_id: str, event: str, ts: int, number: int, **properties: object) -> Event:
    return Event(f"{lead_id}-{number}", lead_id, "track", event, ts, dict(properties))


def page(lead_id: str, path: str, ts: int, number: int) -> Event:
    return Event(f"{lead_id}-{number}", lead_id, "page", None, ts, {"path": path})


def score_both(
    scoring_model: ScoringModel,
    leads: dict[str, dict[str, object]],
    events: Sequence[Event],
    as_of: int,
    lifecycle: Lifecycle | None = None,
) -> dict[str, LeadScore]:
    """Score with both engines, assert they agree, return the incremental (explained) results.

    ``lifecycle`` gives leads a recorded stage and last recycle to start from."""
    lifecycle = lifecycle or {}
    plan = compile_plan(scoring_model)
    scorer = IncrementalScorer(plan)
    states = {lead_id: scorer.new_state(lead_id, attrs) for lead_id, attrs in leads.items()}
    for lead_id, (stage, recycled_at) in lifecycle.items():
        scorer.set_lifecycle(states[lead_id], stage, recycled_at)
    for event in events:
        scorer.add_one(states[event.lead_id], event)
    accounts: dict[str | None, list[str]] = {}
    for lead_id, attrs in leads.items():
        accounts.setdefault(account_of(attrs), []).append(lead_id)
    incremental = {}
    for lead_id, state in states.items():
        account = account_of(leads[lead_id])
        members = accounts[account] if account is not None else [lead_id]
        facts = scorer.account_facts(account, [states[m] for m in members], as_of)
        incremental[lead_id] = scorer.score_one(state, as_of, facts)
    batch = (
        get_preparing_engine()
        .score_many(plan, *arrow_inputs(leads, events), as_of, lifecycle=lifecycle_table(lifecycle))
        .to_pylist()
    )
    # the service's rounds assemble the same input lead by lead (engines/lead_parts.py)
    assert assembled(plan, leads, events, as_of, lifecycle) == batch
    # and the naive oracle, written from docs/model-file.md alone, says the same
    assert_rows_agree(batch, scoring_model, leads, events, as_of, lifecycle)
    applicable = {row["lead_id"] for row in batch}
    assert applicable == {
        lead_id for lead_id, attrs in leads.items() if applies(plan.applies_to, attrs)
    }
    for row in batch:
        result = incremental[row["lead_id"]]
        assert row["account_id"] == account_of(leads[row["lead_id"]])
        assert (
            row["fit"],
            row["engagement"],
            row["score"],
            row["tier"],
            row["grade"],
            row["stage"],
            row["previous_stage"],
            row["transition"],
        ) == (
            result.fit,
            result.engagement,
            result.score,
            result.tier,
            result.grade,
            result.stage,
            result.previous_stage,
            result.transition,
        ), row["lead_id"]
        assert sum(c.points for c in result.contributions) == result.score
    return {lead_id: r for lead_id, r in incremental.items() if lead_id in applicable}


@pytest.fixture
def brief() -> ScoringModel:
    from leadscore import default_model

    return default_model()


def assembled(
    plan: Plan,
    leads: dict[str, dict[str, object]],
    events: Sequence[Event],
    as_of: int,
    lifecycle: Lifecycle,
) -> list[dict[str, object]]:
    """The batch engine's results from parts made lead by lead (``lead_parts``): each part
    made from the first half of the lead's events, then extended with the rest as a service
    round extends it (made anew when the bot filter then removes other earlier events).
    Every other lead's events come oldest first (the rest are newer: the usual case), the
    others' in an order of their own (the parts sort them)."""
    maker = PartMaker(plan)
    parts = {}
    for number, (lead_id, attributes) in enumerate(leads.items()):
        rows = [
            (e.type, e.event, e.timestamp, json.dumps(e.properties), e.message_id)
            for e in reversed(events)
            if e.lead_id == lead_id
        ]
        if number % 2:
            rows.sort(key=lambda row: row[2])
        half = len(rows) // 2
        first = maker.part(json.dumps(attributes), account_of(attributes), rows[:half])
        extended = maker.extended(first, rows[half:], rows)
        whole = maker.part(json.dumps(attributes), account_of(attributes), rows, first)
        parts[lead_id] = whole if extended is None else extended
    prepared = assemble(plan, parts)
    scored: list[dict[str, object]] = (
        get_preparing_engine()
        .score(prepared, as_of, lifecycle=lifecycle_table(lifecycle))
        .to_pylist()
    )
    return scored
