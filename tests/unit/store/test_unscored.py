"""Unscored marks: a rescoring clears only the marks it saw before it read the leads, so a
write that lands while it scores keeps its lead marked for the next rescoring."""

from __future__ import annotations

from leadscore import Store, default_model
from leadscore.app.scoring import keep_results, rescore_leads, score_leads
from leadscore.store.scores import stored_scores
from leadscore.store.store import StoredEvent
from leadscore.store.unscored import mark_unscored, marks_of, unscored
from leadscore.testing.strategies import NOW


def test_a_write_during_a_rescoring_keeps_its_mark(store: Store) -> None:
    models = [default_model()]
    store.upsert_leads([("a", {}, None), ("b", {}, None)])
    with store.engine.begin() as conn:
        mark_unscored(conn, ["a", "b"], NOW - 10)
    with store.engine.connect() as conn:
        seen = marks_of(conn, ["a", "b"])
    assert seen == {"a": NOW - 10, "b": NOW - 10}
    results = score_leads(store, models, ["a", "b"], NOW)
    # a write to a lands before the results are kept; its mark is older than the scoring
    # instant, so clearing "marks made by then" would lose it
    with store.engine.begin() as conn:
        mark_unscored(conn, ["a"], NOW - 5)
    keep_results(store, models, results, NOW, lead_ids=["a", "b"], marks=seen)
    assert unscored(store) == ["a"]

    rescore_leads(store, models, ["a"], NOW + 1)  # the next rescoring takes it
    assert unscored(store) == []


def test_marks_are_kept_when_a_newer_rescoring_overtook(store: Store) -> None:
    models = [default_model()]
    store.upsert_leads([("a", {}, None)])
    store.add_events([StoredEvent("m1", "a", None, "track", "Webinar Attended", NOW - 100, {})])
    rescore_leads(store, models, ["a"], NOW)  # kept as of NOW
    with store.engine.begin() as conn:
        mark_unscored(conn, ["a"], NOW + 5)
    with store.engine.connect() as conn:
        seen = marks_of(conn, ["a"])
    late = score_leads(store, models, ["a"], NOW - 50)  # a slower rescoring, of the past
    _, skipped = keep_results(store, models, late, NOW - 50, lead_ids=["a"], marks=seen)
    assert skipped == ["brief"]
    assert unscored(store) == ["a"]  # not cleared: nothing was kept


def test_a_round_is_kept_though_other_leads_were_kept_later(store: Store) -> None:
    """Only the round's own leads' kept results can overtake it: another lead kept later
    (a single event's round that finished first) leaves it alone."""
    models = [default_model()]
    store.upsert_leads([("a", {}, None), ("b", {}, None)])
    rescore_leads(store, models, ["b"], NOW)
    earlier = score_leads(store, models, ["a"], NOW - 50)
    _, skipped = keep_results(store, models, earlier, NOW - 50, lead_ids=["a"])
    assert skipped == []
    assert [row["as_of"] for row in stored_scores(store, "a")] == [NOW - 50]
