"""Arrow reads give the stored values exactly, by whichever driver reads them (ADBC on a
SQLite file and on PostgreSQL, fetched rows otherwise)."""

from __future__ import annotations

import json

import pytest

from leadscore import Store
from leadscore.store import database, postgresql_arrow
from leadscore.store.events import StoredEvent

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
