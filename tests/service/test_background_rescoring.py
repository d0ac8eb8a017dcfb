"""Bulk rescoring without stopping ingestion (issue 14): activating a model version rescores
every lead in bounded rounds in the background, and leads written by ``leadscore import``
while the service runs are picked up and rescored, so no kept score stays older than the
lead's events.

Scores by hand from the brief's model: a lead with no attributes has fit 0 and each
``Webinar Attended`` today is +10 (the uploaded version makes it +30).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import leadscore.service.app as app_module
import leadscore.service.scorer as scorer_module
from leadscore import Project, Settings, Store
from leadscore.service.app import create_app
from leadscore.spec.loader import default_model_text
from leadscore.store.ingest import import_events
from leadscore.store.keys import create_key
from leadscore.store.scores import stored_scores
from leadscore.store.unscored import unscored

WEBINAR = "    event: Webinar Attended\n    points: 10\n"


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Iterator[Project]:
    Project.init(tmp_path)
    yield Project.open(tmp_path, Settings(database_url=database_url))


def webinars(path: Path, leads: list[str], per_lead: int) -> Path:
    """A Segment JSON-lines file: ``per_lead`` webinars today for each lead."""
    today = datetime.now(UTC).replace(microsecond=0).isoformat()
    with path.open("w") as out:
        for lead in leads:
            for n in range(per_lead):
                message = {"type": "track", "userId": lead, "event": "Webinar Attended"}
                out.write(json.dumps({**message, "messageId": f"{lead}-{n}", "timestamp": today}))
                out.write("\n")
    return path


def settle(store: Store, seconds: float = 30) -> None:
    """Wait until no lead is marked unscored."""
    deadline = time.monotonic() + seconds
    while unscored(store):
        assert time.monotonic() < deadline, f"{len(unscored(store))} leads still unscored"
        time.sleep(0.05)


def kept(store: Store, lead_id: str) -> int:
    [row] = stored_scores(store, lead_id)
    return int(row["score"])


def test_activation_rescores_in_bounded_rounds_while_ingestion_goes_on(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[set[str]] = []
    original = scorer_module.score_marked

    def recorded(store: Any, models: Any, lead_ids: Any, *args: Any) -> Any:
        rounds.append(set(lead_ids))
        return original(store, models, lead_ids, *args)

    monkeypatch.setattr(scorer_module, "ROUND_LEADS", 50)
    monkeypatch.setattr(scorer_module, "ROUND_GAP", 0.1)
    monkeypatch.setattr(scorer_module, "score_marked", recorded)
    leads = [f"L{n:03}" for n in range(300)]
    with project.store() as store:
        import_events(store, webinars(project.root / "events.jsonl", leads, 1))
        admin, ingest = create_key(store, "admin", "ops"), create_key(store, "ingest", "site")
    app: FastAPI = create_app(project)
    with TestClient(app) as client:
        store = app.state.store
        settle(store)  # the import's marks are picked up and rescored: +10 each
        assert {kept(store, lead) for lead in leads} == {10_000}
        rounds.clear()

        headers = {"Authorization": f"Bearer {admin}"}
        text = default_model_text().replace(WEBINAR, WEBINAR.replace("10", "30"))
        uploaded = client.post(
            "/v1/models", content=text, headers={**headers, "Content-Type": "application/yaml"}
        )
        assert uploaded.json()["version"] == 2
        answer = client.post("/v1/models/brief/versions/2/activate", headers=headers)
        assert answer.status_code == 202, answer.text
        assert answer.json()["leads_to_rescore"] == 300

        sent = client.post(
            "/v1/track",
            json={"userId": "newcomer", "event": "Webinar Attended"},
            headers={"Authorization": f"Bearer {ingest}"},
        )
        assert sent.status_code == 200
        assert kept(store, "newcomer") == 30_000  # scored with the version just activated
        settle(store)
        assert {kept(store, lead) for lead in leads} == {30_000}

    assert max(len(r) for r in rounds) <= 50
    assert set().union(*rounds) >= set(leads)
    newcomer_round = next(i for i, r in enumerate(rounds) if "newcomer" in r)
    last_bulk_round = max(i for i, r in enumerate(rounds) if r & set(leads))
    assert newcomer_round < last_bulk_round, "the write waited for the whole activation"


def test_leads_imported_while_the_service_runs_get_current_kept_scores(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "PICK_UP_SECONDS", 0.2)
    app: FastAPI = create_app(project)
    leads = [f"I{n:03}" for n in range(200)]
    with TestClient(app) as client:
        store = app.state.store
        ingest = create_key(store, "ingest", "site")
        read = create_key(store, "read", "crm")
        path = webinars(project.root / "import.jsonl", leads, 3)

        def importing() -> None:  # another process would open its own connection
            with Store.open(store.url) as other:
                import_events(other, path)

        worker = threading.Thread(target=importing)
        worker.start()
        for n in range(30):  # the service's own traffic meanwhile
            body = {"userId": f"web-{n}", "event": "Webinar Attended"}
            client.post("/v1/track", json=body, headers={"Authorization": f"Bearer {ingest}"})
        worker.join(60)
        assert not worker.is_alive()
        settle(store)

        listed = client.get(
            "/v1/leads", params={"limit": 500}, headers={"Authorization": f"Bearer {read}"}
        ).json()["leads"]
        ranked = {row["lead_id"]: row["score"] for row in listed}
        assert {ranked[lead] for lead in leads} == {30}  # three webinars, +10 each
        for lead in leads[:20]:  # the lead view scores as of the request: it agrees
            view = client.get(f"/v1/leads/{lead}", headers={"Authorization": f"Bearer {read}"})
            assert view.json()["results"][0]["score"] == ranked[lead]
