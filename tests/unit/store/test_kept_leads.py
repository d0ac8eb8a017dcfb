"""Rounds that keep leads' prepared parts (``KeptLeads``) score as rounds that keep nothing,
whoever changed a colleague in between, and read only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import leadscore.app.kept_leads as kept_leads
from leadscore import Store, default_model
from leadscore.app.preparations import Preparations
from leadscore.app.scoring import score_leads
from leadscore.store.outcomes import erase_lead
from leadscore.store.store import StoredEvent
from leadscore.testing.strategies import DAY, NOW

ACME = ["c0", "c1", "c2"]


def webinars(lead_id: str, count: int) -> list[StoredEvent]:
    """Two webinars make a lead engaged under the brief (10 points each, engaged from 19)."""
    return [
        StoredEvent(f"{lead_id}-w{n}", lead_id, None, "track", "Webinar Attended", NOW - DAY, {})
        for n in range(count)
    ]


def fit_of(results: Any, lead_id: str) -> int:
    [row] = [row for row in results.to_pylist() if row["lead_id"] == lead_id]
    return int(row["fit"])


@pytest.mark.parametrize("marked", [True, False], ids=["change mark", "no change mark"])
def test_colleagues_changed_between_rounds_count_and_only_changes_are_read(
    store: Store, monkeypatch: pytest.MonkeyPatch, marked: bool
) -> None:
    """On both databases with their change mark, and as on a database without one (kept
    leads then expire)."""
    models = [default_model()]
    if not marked:
        monkeypatch.setattr(kept_leads, "change_mark", lambda _store: None)
    others = [f"t{n}" for n in range(20)]
    people = [(lead_id, {"email": f"{lead_id}@{lead_id}-co.example"}, None) for lead_id in others]
    people += [(lead_id, {"email": f"{lead_id}@acme.example"}, None) for lead_id in [*ACME, "x"]]
    store.upsert_leads(people)
    store.add_events(webinars("c0", 2) + webinars("c1", 2) + webinars("c2", 1))
    # two webinars of a visitor not known yet: c3 (at acme, no events) turns out to be them
    store.upsert_leads([("c3", {"email": "c3@acme.example"}, None)])
    store.add_events(
        [StoredEvent(e.message_id, None, "a9", e.type, e.event, e.timestamp, e.properties)
         for e in webinars("a9", 2)]
    )  # fmt: skip
    touched = [*others, "x"]
    read: list[str] = []
    lead_rows = store.lead_rows

    def spy(lead_ids: Any) -> Any:
        read.extend(lead_ids)
        return lead_rows(lead_ids)

    monkeypatch.setattr(store, "lead_rows", spy)
    kept = Preparations()

    def both() -> Any:
        """A round with what is kept (the leads it read in full in ``read``), checked
        against a round that keeps nothing."""
        if not marked:  # no change mark: kept leads expire instead
            later = kept_leads.time.monotonic() + kept_leads.KEEP_SECONDS + 1
            monkeypatch.setattr(kept_leads.time, "monotonic", lambda: later)
        read.clear()
        results = score_leads(store, models, touched, NOW, kept)
        reads = list(read)
        assert results.to_pylist() == score_leads(store, models, touched, NOW).to_pylist()
        read[:] = reads
        return results

    base = fit_of(both(), "x")  # c0 and c1 engaged at acme
    assert set(read) >= {"c0", "c1", "c2", "c3"}  # colleagues are read once

    # another writer (not this service) gives c2 its second webinar: three engaged
    store.add_events(webinars("c2", 2))
    assert fit_of(both(), "x") == base + 10_000  # "buying team engaged"
    if marked:  # the new event came with the change mark: nobody was read in full
        assert read == []

    # c1 moves to another company (new attributes): two engaged
    store.upsert_leads([("c1", {"email": "c1@elsewhere.example"}, NOW - 10)])
    assert fit_of(both(), "x") == base

    store.upsert_leads([("c1", {"email": "c1@acme.example"}, NOW - 5)])  # and back
    assert fit_of(both(), "x") == base + 10_000

    erase_lead(store, "c0")  # two engaged left
    third = both()
    assert fit_of(third, "x") == base
    assert "c0" not in third["lead_id"].to_pylist()

    # the visitor's webinars become c3's: three engaged again
    store.link_identities([("a9", "c3")])
    assert fit_of(both(), "x") == base + 10_000

    # c2 moves away (two engaged); a round with nothing new reads no colleagues when marked
    store.upsert_leads([("c2", {"email": "c2@elsewhere.example"}, NOW - 3)])
    assert fit_of(both(), "x") == base
    colleagues = store.with_colleagues
    asked: list[Sequence[str]] = []
    monkeypatch.setattr(store, "with_colleagues", lambda ids: asked.append(ids) or colleagues(ids))
    assert fit_of(both(), "x") == base
    if marked:
        assert len(asked) == 1  # the round that keeps nothing, not the kept one
    # a newcomer at acme, engaged: three again, though the kept round had acme's colleagues
    store.upsert_leads([("c5", {"email": "c5@acme.example"}, NOW - 2)])
    store.add_events(webinars("c5", 2))
    assert fit_of(both(), "x") == base + 10_000
