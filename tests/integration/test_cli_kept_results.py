"""``leadscore score`` keeps every lead's result (what the service's lead list reads); a dry
run keeps nothing and scoring the past does not replace the present."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app as cli
from leadscore.store.scores import ranked_scores
from tests.integration.conftest import write


def test_a_batch_run_keeps_every_leads_result(project: Path) -> None:
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
