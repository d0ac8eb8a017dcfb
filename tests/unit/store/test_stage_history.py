"""The stage history: appended transitions read back as of any instant."""

from __future__ import annotations

import pytest

from leadscore import Store
from leadscore.store.store import StageTransition
from leadscore.testing.strategies import DAY, NOW


def _t(
    lead: str, at: int, frm: str | None, to: str, kind: str, model: str = "m"
) -> StageTransition:
    return StageTransition(lead, model, at, frm, to, kind, "why")  # type: ignore[arg-type]


T1, T2, T3 = NOW - 30 * DAY, NOW - 20 * DAY, NOW - 10 * DAY


@pytest.fixture
def history(store: Store) -> Store:
    store.record_transitions(
        [
            _t("A", T1, "Lead", "MQL", "advance"),
            _t("A", T2, "MQL", "Lead", "recycle"),
            _t("A", T3, "Lead", "MQL", "advance"),
            _t("B", T2, "Lead", "MQL", "advance"),
            _t("B", T2, "MQL", "SQL", "advance"),  # same instant: the later row wins
            _t("A", T1, "Lead", "SQL", "advance", model="other"),
        ]
    )
    return store


@pytest.mark.parametrize(
    ("as_of", "a", "b"),
    [
        (T1 - 1, (None, None), (None, None)),
        (T1, ("MQL", None), (None, None)),
        (T2, ("Lead", T2), ("SQL", None)),
        (T3 - 1, ("Lead", T2), ("SQL", None)),
        (NOW, ("MQL", T2), ("SQL", None)),
    ],
)
def test_lifecycle_as_of(
    history: Store,
    as_of: int,
    a: tuple[str | None, int | None],
    b: tuple[str | None, int | None],
) -> None:
    assert history.lifecycle("A", "m", as_of) == a
    assert history.lifecycle("B", "m", as_of) == b
    table = {row["lead_id"]: row for row in history.lifecycle_arrow("m", as_of).to_pylist()}
    for lead, expected in (("A", a), ("B", b)):
        if expected == (None, None):
            assert lead not in table
        else:
            assert (table[lead]["stage"], table[lead]["recycled_at"]) == expected


def test_history_is_per_model_and_ordered(history: Store) -> None:
    assert [(t.to_stage, t.kind) for t in history.transitions("A", "m")] == [
        ("MQL", "advance"),
        ("Lead", "recycle"),
        ("MQL", "advance"),
    ]
    assert [t.model for t in history.transitions("A")] == ["m", "other", "m", "m"]
    assert history.last_transition_at("m") == T3
    assert history.last_transition_at("none") is None
