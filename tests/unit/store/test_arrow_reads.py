"""Arrow reads give the stored values exactly, by whichever driver reads them (ADBC on a
SQLite file and on PostgreSQL, fetched rows otherwise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore import Store
from leadscore.store import database, postgresql_arrow
from leadscore.store.events import StoredEvent
from leadscore.store.sqlite_arrow import read_arrow

EVENTS = [
    StoredEvent("m1", "L1", None, "track", "Démo Requested", 1_772_359_200_000_001, {"a": 1}),
    StoredEvent("m2", None, "anon-9", "page", None, -5, {"path": "/prix", "n": None}),
    StoredEvent("m3", "L2", None, "track", "Email Opened", 2**62, {}),
]


def stored(store: Store) -> None:
    store.upsert_leads([("L1", {"name": "Zoë"}, None), ("L2", {}, None)])
    store.add_events(EVENTS)
    store.link_identities([("anon-9", "L1")])


def test_events_read_as_arrow_hold_what_was_stored(store: Store) -> None:
    stored(store)
    rows = sorted(store.events_arrow().to_pylist(), key=lambda r: r["timestamp"])
    assert [(r["lead_id"], r["type"], r["event"], r["timestamp"]) for r in rows] == [
        ("L1", "page", None, -5),  # the anonymous page, linked to L1
        ("L1", "track", "Démo Requested", 1_772_359_200_000_001),
        ("L2", "track", "Email Opened", 2**62),
    ]
    assert [json.loads(r["properties"]) for r in rows] == [
        {"path": "/prix", "n": None},
        {"a": 1},
        {},
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_postgresql_driver_reads_what_fetching_rows_reads(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert postgresql_arrow.available()
    stored(store)
    fast = store.events_arrow(), store.leads_arrow()
    monkeypatch.setattr(database.postgresql_arrow, "available", lambda: False)
    fetched = store.events_arrow(), store.leads_arrow()
    for mine, theirs in zip(fast, fetched, strict=True):
        assert mine.schema == theirs.schema
        assert sorted(mine.to_pylist(), key=repr) == sorted(theirs.to_pylist(), key=repr)


def test_the_leads_and_the_events_are_read_in_one_call(store: Store) -> None:
    stored(store)
    leads, events = store.leads_and_events_arrow()
    assert [(r["lead_id"], json.loads(r["attributes"])) for r in leads.to_pylist()] == [
        ("L1", {"name": "Zoë"}),
        ("L2", {}),
    ]
    assert sorted((r["lead_id"], r["timestamp"]) for r in events.to_pylist()) == [
        ("L1", -5),
        ("L1", 1_772_359_200_000_001),
        ("L2", 2**62),
    ]


def test_a_failing_read_among_several_says_why(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'x.db'}") as store:
        stored(store)
    found = read_arrow(str(tmp_path / "x.db"), ["SELECT count(*) AS n FROM leads", "SELECT 7"])
    assert [t.to_pylist() for t in found] == [[{"n": 2}], [{"7": 7}]]
    with pytest.raises(RuntimeError, match="no such table: nowhere"):
        read_arrow(str(tmp_path / "x.db"), ["SELECT 1 AS one", "SELECT * FROM nowhere"])
