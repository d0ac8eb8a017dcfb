"""Kept prepared batches: a run after changes prepares only the changed leads, and scores
exactly what preparing everything anew scores (``score_all`` without a cache folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadscore import BatchEngine, Preparations, Store, default_model, score_all
from leadscore.engines.registry import get_engine
from leadscore.store.aliases import merge_aliases
from leadscore.store.store import StoredEvent
from leadscore.testing.strategies import DAY, NOW


def _event(
    number: int, lead: str | None, event: str, ts: int, anonymous: str | None = None
) -> StoredEvent:
    return StoredEvent(f"m{number}", lead, anonymous, "track", event, ts, {})


def _page(number: int, lead: str, path: str, ts: int) -> StoredEvent:
    return StoredEvent(f"m{number}", lead, None, "page", None, ts, {"path": path})


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Three leads and their events, on each database (``database_url``)."""
    store = Store.open(database_url)
    store.upsert_leads(
        [
            ("a", {"email": "ann@acme.example", "job_title": "CEO", "company_size": 500}, None),
            ("b", {"email": "bob@acme.example", "job_title": "Engineer"}, None),
            ("c", {"email": "cy@gmail.com"}, None),
        ]
    )
    store.add_events(
        [
            _event(1, "a", "Webinar Attended", NOW - 3 * DAY),
            _page(2, "a", "/pricing", NOW - 2 * DAY),
            _event(3, "b", "Content Downloaded", NOW - 40 * DAY),
            _event(4, "c", "Form Submitted", NOW - 200 * DAY),
        ]
    )
    yield store
    store.close()


def _prepared_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of leads each ``BatchEngine.prepare`` call is given, in order."""
    sizes: list[int] = []
    original = BatchEngine.prepare

    def prepare(self: BatchEngine, plan: Any, leads: Any, events: Any, **kwargs: Any) -> Any:
        sizes.append(leads.num_rows)
        return original(self, plan, leads, events, **kwargs)

    monkeypatch.setattr(BatchEngine, "prepare", prepare)
    return sizes


def test_later_runs_prepare_only_changed_leads(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "prepared"
    kept = Preparations(cache)
    models = [default_model()]
    sizes = _prepared_sizes(monkeypatch)
    first = score_all(store, models, NOW, preparations=kept)
    assert sizes == [3]  # nothing kept yet: every lead
    assert first.to_pylist() == score_all(store, models, NOW).to_pylist()
    sizes.clear()

    assert score_all(store, models, NOW, preparations=kept).to_pylist() == first.to_pylist()
    assert sizes == []  # nothing changed: the kept batch as it is

    # b gets an event, d is new, c's attributes change, and an anonymous visitor's events
    # become a's when the visitor is identified
    store.add_events(
        [
            _event(5, "b", "Demo Requested", NOW - DAY),
            _event(6, None, "Trial Requested", NOW - DAY, anonymous="anon-1"),
            _event(7, "d", "Webinar Registered", NOW - 5 * DAY),
        ]
    )
    store.upsert_leads([("c", {"job_title": "VP Sales"}, NOW - 10 * DAY), ("d", {}, None)])
    store.link_identities([("anon-1", "a")])
    later = score_all(store, models, NOW, preparations=kept)
    assert sizes == [4]  # a (identified), b (event), c (attributes), d (new)
    assert later.to_pylist() == score_all(store, models, NOW).to_pylist()
    by_lead = {row["lead_id"]: row for row in later.to_pylist()}
    assert by_lead["a"]["engagement"] - first.to_pylist()[0]["engagement"] == 25_000  # trial
    sizes.clear()

    store.add_events([_event(8, "a", "Email Opened", NOW - DAY)])
    score_all(store, models, NOW, preparations=kept)
    assert sizes == [1]


def test_a_writer_that_commits_after_a_run_is_caught_by_the_next(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction open while a run reads its mark commits after it: its event is among
    the changes the next run prepares. On PostgreSQL a second writer, started later, commits
    first, so the order rows were written in says nothing of what a run had seen."""
    kept = Preparations(tmp_path / "prepared")
    models = [default_model()]
    score_all(store, models, NOW, preparations=kept)
    sizes = _prepared_sizes(monkeypatch)
    postgresql = store.engine.dialect.name == "postgresql"
    with store.engine.connect() as slow:
        transaction = slow.begin()
        store.add_events([_event(5, "b", "Demo Requested", NOW - DAY)], slow)
        if postgresql:
            store.add_events([_event(6, "c", "Demo Requested", NOW - DAY)])  # committed
        during = score_all(store, models, NOW, preparations=kept)
        transaction.commit()
    assert sizes == ([1] if postgresql else [])  # c, or nothing committed yet
    after = score_all(store, models, NOW, preparations=kept)
    assert sizes == ([1, 1] if postgresql else [1])  # then b
    assert after.to_pylist() == score_all(store, models, NOW).to_pylist()
    engagement = {row["lead_id"]: row["engagement"] for row in during.to_pylist()}
    assert {row["lead_id"]: row["engagement"] for row in after.to_pylist()}["b"] > engagement["b"]


def test_a_lead_merged_away_by_an_alias_is_gone_from_the_next_run(
    store: Store, tmp_path: Path
) -> None:
    """An alias merge moves c's events to a and removes c: no mark tells that much, so the
    kept batch, holding one lead more than there are, is prepared anew."""
    kept = Preparations(tmp_path / "prepared")
    models = [default_model()]
    first = score_all(store, models, NOW, preparations=kept)
    with store.engine.begin() as conn:
        merge_aliases(store, [("c", "a")], conn)
    later = score_all(store, models, NOW, preparations=kept)
    assert later.to_pylist() == score_all(store, models, NOW).to_pylist()
    engagement = {row["lead_id"]: row["engagement"] for row in first.to_pylist()}
    # a now has c's form submission: 5 points at 200 days, halved
    assert {row["lead_id"]: row["engagement"] for row in later.to_pylist()} == {
        "a": engagement["a"] + 2_500,
        "b": engagement["b"],
    }


def test_scoring_before_the_latest_attribute_change_prepares_that_instant(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "prepared"
    kept = Preparations(cache)
    models = [default_model()]
    store.upsert_leads([("a", {"job_title": "Student"}, NOW - DAY)])
    sizes = _prepared_sizes(monkeypatch)
    before = score_all(store, models, NOW - 2 * DAY, preparations=kept)
    assert sizes == [3] and not cache.exists()  # not kept: not the current attributes
    fit = {row["lead_id"]: row["fit"] for row in before.to_pylist()}
    assert fit["a"] > 0  # still the CEO then
    assert before.to_pylist() == score_all(store, models, NOW - 2 * DAY).to_pylist()


def test_a_batch_kept_for_another_database_is_not_used(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "prepared"
    kept = Preparations(cache)
    models = [default_model()]
    score_all(store, models, NOW, preparations=kept)
    other = Store.open(f"sqlite:///{tmp_path / 'other.sqlite'}")
    other.upsert_leads([("z", {"job_title": "CEO"}, None)])
    sizes = _prepared_sizes(monkeypatch)
    result = score_all(other, models, NOW, preparations=kept)
    other.close()
    assert sizes == [1]
    assert result["lead_id"].to_pylist() == ["z"]


def test_a_damaged_kept_batch_is_prepared_anew(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "prepared"
    kept = Preparations(cache)
    models = [default_model()]
    first = score_all(store, models, NOW, preparations=kept)
    for file in cache.rglob("*.npz"):
        file.write_bytes(b"not an archive")
    sizes = _prepared_sizes(monkeypatch)
    assert score_all(store, models, NOW, preparations=kept).to_pylist() == first.to_pylist()
    assert sizes == [3]


class ScoresFromScratch:
    """An engine with ``score_many`` only (no ``prepare``): the DuckDB engine behind it."""

    def score_many(self, plan: Any, leads: Any, events: Any, as_of: int, **kw: Any) -> Any:
        return get_engine("duckdb").score_many(plan, leads, events, as_of, **kw)


def test_an_engine_that_cannot_keep_a_preparation_scores_from_scratch(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadscore.engines import registry

    monkeypatch.setitem(
        registry.ENGINES, "plain", "tests.integration.test_prepared_cache:ScoresFromScratch"
    )
    sizes = _prepared_sizes(monkeypatch)  # the DuckDB engine's own prepare, counted
    models = [default_model()]
    expected = score_all(store, models, NOW).sort_by("lead_id").to_pylist()
    sizes.clear()
    cache = tmp_path / "cache"
    plain = score_all(store, models, NOW, preparations=Preparations(cache), engine="plain")
    assert plain.sort_by("lead_id").to_pylist() == expected
    assert not cache.exists()  # nothing kept: there is no preparation to keep
    assert sizes == [3]  # everything prepared inside score_many, once
