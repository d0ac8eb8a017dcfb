"""The service rescores every lead on a schedule: time alone withdraws an inactive MQL."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from leadscore import Project, Settings
from leadscore.service.app import create_app
from leadscore.store.scores import ranked_scores
from leadscore.store.store import StageTransition, StoredEvent

DAY = 86_400_000_000


def test_scheduled_rescoring_records_what_time_changes(tmp_path: Path, database_url: str) -> None:
    Project.init(tmp_path)
    project = Project.open(tmp_path, Settings(database_url=database_url))
    store = project.store()
    now = time.time_ns() // 1000
    store.upsert_leads([("m", {"job_title": "CEO"}, None)])
    store.add_events(
        [StoredEvent("e1", "m", None, "track", "Webinar Attended", now - 100 * DAY, {})]
    )
    store.record_transitions(
        [StageTransition("m", "brief", now - 100 * DAY, "Lead", "MQL", "advance", "by hand")]
    )
    app = create_app(project, rescore_every=0.1)
    with TestClient(app):  # runs the app's lifespan, and so its schedule
        deadline = time.monotonic() + 20
        while not ranked_scores(store, "brief") and time.monotonic() < deadline:
            time.sleep(0.05)
    (row,) = ranked_scores(store, "brief")
    assert (row["stage"], row["engagement"]) == ("Lead", 7_500)  # withdrawn; 10 x 0.75
    assert [t.kind for t in store.transitions("m", "brief")][:2] == ["advance", "withdraw"]
    app.state.store.close()
    store.close()
