"""Sales feedback in training (issue 20: feedback was stored and nothing read it): a row sees
only the verdicts given before its cut-off, as the ``sales feedback`` attribute; the verdicts
after it, within the horizon, are what evaluation compares the score with; a CRM's verdicts
are imported with their dates. Expectations worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from leadscore.predict import history
from leadscore.predict.dataset import Dataset
from leadscore.predict.feedback import FEATURE, agreement
from leadscore.predict.history import DAY_US, Window
from leadscore.store import schema
from leadscore.store.ingest import import_feedback
from leadscore.store.store import Store, StoredEvent

CUTOFF = 1_772_323_200_000_000  # 2026-03-01 00:00 UTC


def _said(data: Dataset) -> list[str | None]:
    """The ``sales feedback`` attribute of each row (missing: None)."""
    return [v if isinstance(v, str) else None for v in data.raw[FEATURE]]


def _verdict(store: Store, lead: str, verdict: str, days: float) -> None:
    at = CUTOFF + int(days * DAY_US)
    with store.begin() as conn:
        conn.execute(schema.feedback.insert().values(lead_id=lead, verdict=verdict, note="", at=at))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store.open(database_url) as opened:
        opened.upsert_leads([(lead, {"plan": "pro"}, None) for lead in "ABCD"])
        opened.add_events(
            [
                StoredEvent(f"{lead}-visit", lead, None, "track", "Visit", CUTOFF - DAY_US, {})
                for lead in "ABCD"
            ]
        )
        _verdict(opened, "A", "bad_fit", -20)
        _verdict(opened, "A", "good_fit", -2)  # the latest before the cut-off: this one
        _verdict(opened, "B", "not_interested", 3)  # after: unseen by the row, heard later
        _verdict(opened, "C", "good_fit", 45)  # beyond the 30-day horizon: neither
        yield opened


def test_a_row_sees_the_latest_verdict_before_its_cutoff_only(store: Store) -> None:
    data = history.snapshots(store, Window(CUTOFF, 1, 14, 30))
    assert data.ids == ["A", "B", "C", "D"]
    assert _said(data) == ["good_fit", None, None, None]
    assert data.heard is not None
    assert list(data.heard) == [None, "not_interested", None, None]
    # a week later, B's verdict is history, and A's verdicts say the same
    later = history.snapshots(store, Window(CUTOFF + 7 * DAY_US, 1, 14, 30))
    assert _said(later) == ["good_fit", "not_interested", None, None]


def test_scoring_reads_the_verdicts_up_to_the_instant_asked(store: Store) -> None:
    now = history.leads_as_of(store, CUTOFF + 50 * DAY_US, ["Visit"])
    assert _said(now) == ["good_fit", "not_interested", "good_fit", None]
    assert now.heard is None  # no horizon when scoring
    one = history.leads_as_of(store, CUTOFF + 50 * DAY_US, ["Visit"], ["B"])
    assert _said(one) == ["not_interested"]  # one lead asked: its own verdicts read


def test_agreement_by_tier_worked_by_hand() -> None:
    # ten rows ranked by score: rows 0-1 the top 20 %, 2-4 the next 30 %, 5-9 the bottom half
    score = np.arange(10, 0, -1, dtype=float)
    heard = np.array(
        ["good_fit", None, "bad_fit", "good_fit", None, "good_fit", None, "bad_fit", None,
         "not_interested"], dtype=object,
    )  # fmt: skip
    found = agreement(score, heard)
    assert found is not None
    assert found["verdicts"] == 6
    # agree: good fit at ranks 0 and 3 (top half), bad fit at 7 and not interested at 9
    # (bottom half); disagree: bad fit at 2 (top half), good fit at 5 (bottom half)
    assert found["agreement"] == pytest.approx(4 / 6)
    top, middle, bottom = found["by_tier"]
    assert (top["good_fit"], top["bad_fit"]) == (1, 0)
    assert (middle["good_fit"], middle["bad_fit"]) == (1, 1)
    assert (bottom["good_fit"], bottom["bad_fit"], bottom["not_interested"]) == (1, 1, 1)
    assert agreement(score, np.array([None] * 10, dtype=object)) is None


def test_a_crm_export_of_verdicts_is_imported_with_its_dates(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "feedback.csv"
    path.write_text(
        "lead_id,verdict,at,note\n"
        "D,Bad Fit,2026-02-20,too small\n"
        "nobody,good_fit,2026-02-20,\n"
        "D,maybe,2026-02-21,\n"
    )
    summary = import_feedback(store, path)
    assert summary.accepted == 1
    assert sorted((r.line, r.field) for r in summary.rejects) == [(3, "lead_id"), (4, "verdict")]
    data = history.snapshots(store, Window(CUTOFF, 1, 14, 30))
    assert _said(data)[3] == "bad_fit"  # given 2026-02-20, before the cut-off
