"""``leadscore score`` keeps every lead's result (what the service's lead list reads); a dry
run keeps nothing and scoring the past does not replace the present."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app as cli
from leadscore.store.scores import ranked_scores
from tests.integration.conftest import write


def test_a_batch_run_keeps_every_leads_result(project_on_each_database: Path) -> None:
    project = project_on_each_database
    runner = CliRunner()
    write(
        project / "events.jsonl",
        [
            {"type": "track", "userId": "a", "event": "Webinar Attended",
             "timestamp": "2026-01-10T10:00:00Z", "messageId": "1"},
            {"type": "track", "userId": "b", "event": "Form Submitted",
             "timestamp": "2026-01-10T10:00:00Z", "messageId": "2"},
        ],
    )  # fmt: skip
    assert runner.invoke(cli, ["import", "events", "events.jsonl"]).exit_code == 0
    store = Project.find(project).store()
    assert runner.invoke(cli, ["score", "--as-of", "2026-01-10", "--dry-run"]).exit_code == 0
    assert ranked_scores(store, "brief") == []  # a dry run keeps nothing
    assert runner.invoke(cli, ["score", "--as-of", "2026-01-10"]).exit_code == 0
    kept = [(row["lead_id"], row["score"]) for row in ranked_scores(store, "brief")]
    assert kept == [("a", 10_000), ("b", 5_000)]
    # scoring the past does not replace the present
    assert runner.invoke(cli, ["score", "--as-of", "2026-01-01"]).exit_code == 0
    assert [row["score"] for row in ranked_scores(store, "brief")] == [10_000, 5_000]
    store.close()


def test_rescore_lets_time_withdraw_an_inactive_mql(project_on_each_database: Path) -> None:
    """No new event: an MQL whose last activity is 100 days old (the default model withdraws
    after 90) goes back to Lead when `leadscore rescore` runs now."""
    project = project_on_each_database
    import time as clock

    from leadscore.store.store import StageTransition, StoredEvent

    day = 86_400_000_000
    now = clock.time_ns() // 1000
    store = Project.find(project).store()
    store.upsert_leads([("m", {"job_title": "CEO"}, None)])
    store.add_events(
        [StoredEvent("e1", "m", None, "track", "Webinar Attended", now - 100 * day, {})]
    )
    store.record_transitions(
        [StageTransition("m", "brief", now - 100 * day, "Lead", "MQL", "advance", "by hand")]
    )
    result = CliRunner().invoke(cli, ["rescore"])
    assert result.exit_code == 0, result.output
    assert "recorded 1 stage change" in result.output
    assert [t.kind for t in store.transitions("m", "brief")] == ["advance", "withdraw"]
    (row,) = ranked_scores(store, "brief")
    # by hand: CEO 20 fit; the webinar is 100 days old: 10 x 0.75 = 7.5
    assert (row["stage"], row["fit"], row["engagement"]) == ("Lead", 20_000, 7_500)
    store.close()
