"""The project's history taken point in time: what a snapshot may see, and its label."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadscore.predict import behaviour, history
from leadscore.predict.history import DAY_US, Window
from leadscore.store.outcomes import record_outcome
from leadscore.store.store import Store, StoredEvent

CUTOFF = 1_772_323_200_000_000  # 2026-03-01 00:00 UTC


def _event(lead: str, name: str | None, days: float, page: str | None = None) -> StoredEvent:
    at = CUTOFF + int(days * DAY_US)
    if page is not None:
        return StoredEvent(f"{lead}{days}", lead, None, "page", None, at, {"path": page})
    return StoredEvent(f"{lead}{days}", lead, None, "track", name, at, {})


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store.open(database_url) as opened:
        opened.upsert_leads(
            [
                ("A", {"email": "a@acme.com", "plan": "pro"}, None),
                ("B", {"email": "b@acme.com", "plan": "free"}, None),
                ("C", {"plan": "pro"}, None),
                ("D", {"plan": "pro"}, None),
                ("E", {"plan": "free"}, None),
            ]
        )
        # E's plan changes after the cut-off: the snapshot must see the plan it had then
        opened.upsert_leads([("E", {"plan": "pro"}, CUTOFF + DAY_US)])
        opened.add_events(
            [
                _event("A", "Webinar Attended", -40),
                _event("A", "Webinar Attended", -5),
                _event("A", None, -1, page="/pricing/plans"),
                _event("A", "Webinar Attended", 1),  # after the cut-off: unseen
                _event("B", "Webinar Attended", -3),
                _event("C", "Webinar Attended", -3),
                _event("D", "Webinar Attended", 2),  # first seen after the cut-off
                _event("E", "Webinar Attended", -2),
            ]
        )
        record_outcome(opened, "A", "converted", CUTOFF + 10 * DAY_US)
        record_outcome(opened, "B", "won", CUTOFF + 45 * DAY_US)  # beyond the horizon
        record_outcome(opened, "C", "converted", CUTOFF - DAY_US)  # a customer already
        record_outcome(opened, "E", "lost", CUTOFF + 3 * DAY_US)  # lost is not a conversion
        yield opened


def test_a_snapshot_sees_only_what_was_known_at_its_cutoff(store: Store) -> None:
    data = history.snapshots(store, Window(CUTOFF, 1, 14, 30))
    # C converted before the cut-off, D was not seen yet
    assert data.ids == ["A", "B", "E"]
    assert data.label.tolist() == [1, 0, 0]
    row = {name: data.behaviour[name].tolist()[0] for name in data.behaviour.columns}
    assert row["Webinar Attended in the last 7 days"] == 1
    assert row["Webinar Attended in the last 30 days"] == 1
    assert row["Webinar Attended in the last 90 days"] == 2
    assert row["Webinar Attended ever"] == 2  # the one after the cut-off is not counted
    assert row["page /pricing in the last 7 days"] == 1
    assert row["events ever"] == 3
    assert row["days since last activity"] == pytest.approx(1)
    assert row["days since first touch"] == pytest.approx(40)
    assert row["recent activity (events halved every 14 days)"] == pytest.approx(
        0.5 ** (40 / 14) + 0.5 ** (5 / 14) + 0.5 ** (1 / 14)
    )
    # A and B work at acme.com; both were seen before the cut-off
    assert row["people at the same company"] == 2
    assert data.raw["plan"].tolist() == ["pro", "free", "free"]


def test_snapshots_step_back_in_time_and_keep_their_order(store: Store) -> None:
    window = Window(CUTOFF, 2, 3, 30)
    data = history.snapshots(store, window)
    earlier = CUTOFF - 3 * DAY_US
    # three days earlier only A had been seen (events at -40 and -5 days)
    assert [(i, int(o)) for i, o in zip(data.ids, data.order, strict=True)] == [
        ("A", earlier),
        ("A", CUTOFF),
        ("B", CUTOFF),
        ("E", CUTOFF),
    ]
    assert data.label.tolist() == [1, 1, 0, 0]  # A converts 13 days after the earlier cut-off


def test_the_most_frequent_kinds_of_behaviour_become_features(store: Store) -> None:
    kinds = behaviour.event_kinds(store.events_arrow(), CUTOFF)
    assert kinds == ["Webinar Attended", "page /pricing"]
    assert behaviour.event_kinds(store.events_arrow(), CUTOFF, top=1) == ["Webinar Attended"]


def test_one_lead_is_read_as_in_the_whole_table(store: Store) -> None:
    kinds = ["Webinar Attended", "page /pricing"]
    for at in (CUTOFF, CUTOFF + 5 * DAY_US):
        everyone = history.leads_as_of(store, at, kinds)
        for lead in ("A", "E"):
            alone = history.leads_as_of(store, at, kinds, [lead])
            row = everyone.ids.index(lead)
            assert alone.ids == [lead]
            assert alone.raw.iloc[0].dropna().to_dict() == everyone.raw.iloc[row].dropna().to_dict()
            assert alone.behaviour.iloc[0].equals(everyone.behaviour.iloc[row])
    # A and B, both at acme.com and both seen, read from A alone
    later = history.leads_as_of(store, CUTOFF + 5 * DAY_US, kinds, ["A"])
    assert later.behaviour["people at the same company"].tolist() == [2]
    assert later.raw["plan"].tolist() == ["pro"]
    assert history.leads_as_of(store, CUTOFF + 5 * DAY_US, kinds, ["E"]).raw["plan"].tolist() == [
        "pro"
    ]


def test_each_lead_at_the_end_of_its_first_day(store: Store) -> None:
    taken = history.after_first_touch(store, 0, 30)
    # first events: A -40 days, B -3, C -3, E -2, D +2; each cut-off is the next midnight
    assert taken.data.ids == ["A", "B", "C", "E", "D"]
    assert [int(o) for o in taken.data.order] == [CUTOFF + d * DAY_US for d in (-39, -2, -2, -1, 3)]
    # A converts 49 days after its cut-off, B 47; C converts a day after its own (-1 vs -2)
    assert taken.data.label.tolist() == [0, 0, 1, 0, 0]
    assert (taken.converted_before, taken.too_recent) == (0, 0)
    # A on its first day: its first webinar only
    assert taken.data.behaviour["Webinar Attended ever"].tolist()[0] == 1
    # a 50-day horizon reaches A's conversion; the others' horizons run past the last known
    # instant (B's outcome, 45 days after the shared cut-off): their labels are not known yet
    longer = history.after_first_touch(store, 0, 50)
    assert longer.data.ids == ["A"] and longer.data.label.tolist() == [1]
    assert longer.too_recent == 4
    # two days after the first touch, C has converted already: counted apart
    later = history.after_first_touch(store, 2, 30)
    assert "C" not in later.data.ids and later.converted_before == 1
