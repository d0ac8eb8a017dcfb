"""``answer_after="scored"`` waits for the leads' results only so long (issue 14: a slow
model held every answer for as long as its rounds took): past ``scored_within`` the answer
says ``scored: false`` and the rescoring goes on."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import leadscore.service.scorer as scorer_module
from leadscore import Project, Settings
from leadscore.service.app import create_app
from leadscore.store.keys import create_key
from leadscore.store.scores import stored_scores
from leadscore.store.unscored import unscored


def test_a_held_round_holds_no_answer_past_the_bound(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Project.init(tmp_path)
    app = create_app(Project.open(tmp_path, Settings(database_url=database_url)))
    app.state.runtime.scored_within = 0.2
    store = app.state.store
    key = create_key(store, "ingest", "site")
    release = threading.Event()
    original = scorer_module.score_marked

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(30), "the test never released the rescoring"
        return original(*args, **kwargs)

    monkeypatch.setattr(scorer_module, "score_marked", held)
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        for lead in ("u1", "u2"):  # the second arrives while the first's round is held
            body = {"userId": lead, "event": "Webinar Attended"}
            answer = client.post("/v1/track", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["scored"] is False  # answered with the round still held
        assert sorted(unscored(store)) == ["u1", "u2"]
        release.set()
        app.state.runtime.scored_within = 60.0
        body = {"userId": "u3", "event": "Webinar Attended"}
        answer = client.post("/v1/track", json=body, headers=headers)
        assert answer.json()["scored"] is True  # a round in time: kept before the answer
    for lead in ("u1", "u2", "u3"):  # the late ones were kept all the same
        [kept] = stored_scores(store, lead)
        assert kept["score"] == 10_000  # a webinar: 10 points
    assert unscored(store) == []
    store.close()
