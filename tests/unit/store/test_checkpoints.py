"""The service keeps SQLite's write-ahead log short itself, off the request path: commits no
longer copy it back (a commit that did waited for the disk), a background checkpoint does."""

from __future__ import annotations

from leadscore import Store
from leadscore.store.store import StoredEvent


def test_deferred_checkpoints(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        assert store.defer_checkpoints() is False  # PostgreSQL has nothing of the kind
        return
    assert store.defer_checkpoints() is True
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
    # more than SQLite's default threshold (1,000 pages), which would have checkpointed
    for batch in range(20):
        store.add_events(
            [
                StoredEvent(f"m{batch}-{n}", "a", None, "track", "X", n, {"pad": "x" * 400})
                for n in range(500)
            ]
        )
    logged, copied = store.checkpoint()
    assert logged > 1_000
    assert copied == logged
