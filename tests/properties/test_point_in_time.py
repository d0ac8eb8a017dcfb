"""No feature may see the future: whatever happens after a cut-off (events, attribute changes),
a snapshot at that cut-off is the same, and its label reads only its horizon."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.predict import history
from leadscore.predict.history import DAY_US, Window
from leadscore.store.outcomes import record_outcome
from leadscore.store.store import Store, StoredEvent
from tests.conftest import examples, new_database

CUTOFF = 1_772_323_200_000_000  # 2026-03-01 00:00 UTC
LEADS = ("A", "B", "C", "D")
_numbers = itertools.count()

event = st.tuples(
    st.sampled_from(LEADS),
    st.sampled_from(["Webinar Attended", "Demo Requested", "page"]),
    # hours from the cut-off; the cut-off itself often, where an off-by-one would hide
    st.one_of(st.integers(-100 * 24, 100 * 24), st.sampled_from([0, -1, 1])),
)


def _stored(lead: str, kind: str, hours: int) -> StoredEvent:
    at = CUTOFF + hours * 3_600_000_000
    number = next(_numbers)
    if kind == "page":
        return StoredEvent(f"m{number}", lead, None, "page", None, at, {"path": "/pricing"})
    return StoredEvent(f"m{number}", lead, None, "track", kind, at, {})


def _store(url: str, events: list[tuple[str, str, int]], later_plan: bool) -> Store:
    store = Store.open(url)
    store.upsert_leads(
        [(lead, {"plan": "free", "email": f"{lead}@acme.com"}, None) for lead in LEADS]
    )
    if later_plan:
        store.upsert_leads([("A", {"plan": "pro"}, CUTOFF + DAY_US)])
    store.add_events([_stored(*e) for e in events])
    record_outcome(store, "B", "converted", CUTOFF + 3 * DAY_US)
    return store


@pytest.mark.slow
@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@given(before=st.lists(event, max_size=25), after=st.lists(event, max_size=25))
def test_what_happens_after_the_cutoff_changes_nothing(
    kind: str,
    tmp_path_factory: pytest.TempPathFactory,
    before: list[tuple[str, str, int]],
    after: list[tuple[str, str, int]],
) -> None:
    past = [e for e in before if e[2] < 0]
    future = [e for e in after if e[2] >= 0]
    folder = tmp_path_factory.mktemp("pit")
    window = Window(CUTOFF, 1, 7, 30)
    kinds = ["Webinar Attended", "Demo Requested", "page /pricing"]
    with (
        new_database(kind, folder / "past.db") as past_url,
        _store(past_url, past, later_plan=False) as only_past,
    ):
        expected = history.snapshots(only_past, window, kinds=kinds)
    with (
        new_database(kind, folder / "all.db") as all_url,
        _store(all_url, past + future, later_plan=True) as everything,
    ):
        found = history.snapshots(everything, window, kinds=kinds)
    assert found.ids == expected.ids
    assert np.array_equal(found.label, expected.label)
    assert found.behaviour.equals(expected.behaviour)
    assert found.raw.equals(expected.raw)
    # B converts 3 days after the cut-off: labelled 1 if it was seen before it
    if "B" in found.ids:
        assert found.label[found.ids.index("B")] == 1
