"""Searching leads by a piece of their id, name, email or company (the leads page's box, the
API's ``q``) finds exactly the leads a plain substring test finds, through the index, as
leads are added, changed and erased; % and _ are literal characters."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore import Store
from leadscore.store import lead_search
from leadscore.store.outcomes import erase_lead
from leadscore.store.scores import ranked_scores, save_scores

ALPHABET = "abcAB01 .@%_-"
values = st.text(ALPHABET, max_size=8)
people = st.fixed_dictionaries(
    {},
    optional={"first_name": values, "email": values, "company": values, "job_title": values},
)


def _words(lead_id: str, attributes: dict[str, Any]) -> str:
    """The naive oracle: the id and the searched attributes, lowered (ASCII, as SQL does)."""
    names = ("first_name", "last_name", "email", "company")
    return " ".join([lead_id] + [str(attributes.get(n, "")) for n in names]).lower()


def _found(store: Store, piece: str) -> set[str]:
    return {row["lead_id"] for row in ranked_scores(store, "m", text=piece, limit=10_000)}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.lists(st.tuples(st.sampled_from("xyzXYZ"), people), max_size=6),
    pieces=st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=4),
    few=st.sampled_from([1, lead_search.FEW_MATCHES]),  # ids, or the subquery read in order
)
def test_search_finds_what_a_substring_test_finds(
    store: Store, batch: list[tuple[str, dict[str, Any]]], pieces: list[str], few: int
) -> None:
    rows = [(f"{letter}{n}", attributes, None) for n, (letter, attributes) in enumerate(batch)]
    store.upsert_leads(rows)  # a later example changes these leads again: updates
    ranked = [
        {"lead_id": lead_id, "model": "m", "fit": 0, "engagement": 0, "score": 0, "tier": None,
         "grade": None, "stage": None, "as_of": 0}
        for lead_id, _, _ in rows
    ]  # fmt: skip
    with store.engine.begin() as conn:
        save_scores(conn, pa.Table.from_pylist(ranked), 0)
    known = {lead_id: store.lead(lead_id) for lead_id in _found(store, "")}
    for piece in pieces:
        expected = {i for i, attributes in known.items() if piece.lower() in _words(i, attributes)}
        with patch.object(lead_search, "FEW_MATCHES", few):
            assert _found(store, piece) == expected, piece


def test_erased_and_renamed_leads_are_found_by_what_they_are_now(store: Store) -> None:
    store.upsert_leads([("a1", {"company": "Globex"}, None), ("a2", {"company": "Acme"}, None)])
    ranked = [
        {"lead_id": i, "model": "m", "fit": 0, "engagement": 0, "score": 0, "tier": None,
         "grade": None, "stage": None, "as_of": 0}
        for i in ("a1", "a2")
    ]  # fmt: skip
    with store.engine.begin() as conn:
        save_scores(conn, pa.Table.from_pylist(ranked), 0)
    assert _found(store, "glob") == {"a1"}
    store.upsert_leads([("a1", {"company": "Initech"}, None)])
    assert _found(store, "glob") == set() and _found(store, "INITECH") == {"a1"}
    erase_lead(store, "a2")
    assert _found(store, "acme") == set()
