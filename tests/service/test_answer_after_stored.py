"""``answer_after="stored"``: ingestion answers once the messages are stored; the results
follow in the next rescoring round, and a graceful stop waits for that round."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import leadscore.service.scorer as scorer_module
from leadscore import Project, Settings
from leadscore.service.app import create_app
from leadscore.store.keys import create_key
from leadscore.store.scores import stored_scores
from leadscore.store.unscored import unscored


@pytest.fixture
def stored_app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    """The service over a fresh project, answering once messages are stored."""
    Project.init(tmp_path)
    project = Project.open(tmp_path, Settings(database_url=database_url))
    app = create_app(project, answer_after="stored")
    yield app
    app.state.store.close()


def test_the_answer_comes_before_the_score_and_a_stop_waits_for_it(
    stored_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = stored_app
    store = app.state.store
    key = create_key(store, "ingest", "site")
    release = threading.Event()
    original = scorer_module.score_marked

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(20), "the test never released the rescoring"
        return original(*args, **kwargs)

    monkeypatch.setattr(scorer_module, "score_marked", held)
    with TestClient(app) as client:
        body = {"userId": "u1", "event": "Webinar Attended", "messageId": "m1"}
        answer = client.post("/v1/track", json=body, headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
        # answered while the rescoring is held: stored and marked, not yet kept
        assert store.count("events") == 1
        assert unscored(store) == ["u1"]
        assert stored_scores(store, "u1") == []
        threading.Timer(0.3, release.set).start()
    # leaving the client stops the app; the stop waited for the round it had been handed
    assert unscored(store) == []
    [kept] = stored_scores(store, "u1")
    assert (kept["engagement"], kept["score"]) == (10_000, 10_000)  # one webinar: 10 points


def test_a_lead_erased_while_its_round_computes_leaves_no_trace(
    stored_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = stored_app
    store = app.state.store
    ingest, admin = create_key(store, "ingest", "site"), create_key(store, "admin", "ops")
    computed, release = threading.Event(), threading.Event()
    original = scorer_module.score_marked

    def scored_then_held(*args: Any, **kwargs: Any) -> Any:
        results = original(*args, **kwargs)  # the lead's result exists now...
        computed.set()
        assert release.wait(20), "the test never released the rescoring"
        return results  # ...and is kept only after the erasure

    monkeypatch.setattr(scorer_module, "score_marked", scored_then_held)
    with TestClient(app) as client:
        body = {"userId": "u1", "event": "Demo Requested", "messageId": "m1"}
        sent = client.post("/v1/track", json=body, headers={"Authorization": f"Bearer {ingest}"})
        assert sent.status_code == 200
        assert computed.wait(20)
        erased = client.delete("/v1/leads/u1", headers={"Authorization": f"Bearer {admin}"})
        assert erased.status_code == 200
        release.set()
    assert stored_scores(store, "u1") == []
    assert store.count("lead_scores") == 0
    assert store.transitions("u1") == []
    assert unscored(store) == []
