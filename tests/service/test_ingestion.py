"""The service: Segment-compatible ingestion rescoring leads at once, keys and scopes, errors
that name the field, and the real Segment client sending to it unmodified.

Expected results are worked out by hand from the brief's model (models/brief.yaml):
a Marketing Manager (+10) at a 250-person company (+15) in Denmark (+5) has fit 30, grade B;
a webinar attended today (+10), one page view (+1) of /pricing (+5) make engagement 16;
score 46 is warm (19-49).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadscore import Project, Settings
from leadscore.service.app import create_app
from leadscore.store.keys import create_key
from leadscore.store.scores import stored_scores
from tests.service.serve import serving

TRAITS = {
    "email": "ann@acme.example",
    "job_title": "Marketing Manager",
    "company_size": "250",
    "country": "DK",
}


class Service:
    def __init__(self, root: Path, database_url: str, **settings: Any) -> None:
        Project.init(root)
        self.project = Project.open(root, Settings(database_url=database_url, **settings))
        self.app = create_app(self.project)
        self.store = self.app.state.store
        self.client = TestClient(self.app)
        self.ingest = create_key(self.store, "ingest", "website")
        self.read = create_key(self.store, "read", "crm")
        self.admin = create_key(self.store, "admin", "ops")

    def send(self, path: str, body: Any, key: str | None = None) -> Any:
        user = f"{key or self.ingest}:".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(user).decode()}
        return self.client.post(path, json=body, headers=headers)

    def lead(self, lead_id: str, key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {key or self.read}"}
        return self.client.get(f"/v1/leads/{lead_id}", headers=headers)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def test_segment_messages_rescore_the_lead_at_once(service: Service) -> None:
    assert service.send("/v1/identify", {"userId": "u1", "traits": TRAITS}).json()["success"]
    assert (
        service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"}).status_code == 200
    )
    page = {"userId": "u1", "name": "Pricing", "properties": {"path": "/pricing"}}
    assert service.send("/v1/page", page).status_code == 200

    stored = stored_scores(service.store, "u1")
    assert [(r["model"], r["fit"], r["engagement"], r["score"]) for r in stored] == [
        ("brief", 30_000, 16_000, 46_000)
    ]
    assert (stored[0]["tier"], stored[0]["grade"], stored[0]["stage"]) == ("warm", "B", "Lead")

    body = service.lead("u1").json()
    assert body["attributes"]["job_title"] == "Marketing Manager"
    (result,) = body["results"]
    assert (result["score"], result["tier"], result["grade"]) == (46, "warm", "B")
    assert sum(c["points"] for c in result["contributions"]) == 46


def test_keys_and_scopes(service: Service) -> None:
    message = {"userId": "u1", "event": "Webinar Attended", "timestamp": _now()}
    missing = service.client.post("/v1/track", json=message)
    assert missing.status_code == 401 and "API key" in missing.json()["error"]
    assert "Basic" in missing.headers["www-authenticate"]
    assert service.send("/v1/track", message, key="ls_ingest_nope").status_code == 401
    refused = service.send("/v1/track", message, key=service.read)
    assert refused.status_code == 403 and "ingest key" in refused.json()["error"]
    assert service.send("/v1/track", message, key=service.admin).status_code == 200
    assert service.lead("u1", key=service.ingest).status_code == 403  # write keys cannot read
    assert service.lead("u1", key=service.admin).status_code == 200
    assert service.lead("nobody").status_code == 404


def test_a_bad_message_is_a_400_naming_the_field(service: Service) -> None:
    answer = service.send("/v1/track", {"userId": "u1", "timestamp": _now()})
    assert answer.status_code == 400
    assert answer.json()["field"] == "event"
    answer = service.send("/v1/identify", {"traits": {"a": 1}})
    assert (answer.status_code, answer.json()["field"]) == (400, "userId")
    answer = service.send("/v1/track", {"type": "page", "userId": "u1", "name": "Pricing"})
    assert (answer.status_code, answer.json()["field"]) == (400, "type")
    answer = service.send("/v1/track", {"userId": "u1", "event": "X", "timestamp": "yesterday"})
    assert (answer.status_code, answer.json()["field"]) == (400, "timestamp")
    not_json = service.client.post(
        "/v1/track",
        content=b"{oops",
        headers={"Authorization": f"Bearer {service.ingest}", "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    assert stored_scores(service.store, "u1") == []


def test_a_batch_keeps_its_good_messages_and_says_which_were_rejected(service: Service) -> None:
    batch = [
        {"type": "track", "userId": "u1", "event": "Webinar Attended"},
        {"type": "track", "userId": "u1"},  # no event name
        {"type": "page", "userId": "u1", "properties": {"path": "/"}},
        "not a message",
    ]
    answer = service.send("/v1/batch", {"batch": batch})
    assert answer.status_code == 200
    body = answer.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "event"), (3, "message")]
    assert stored_scores(service.store, "u1")[0]["engagement"] == 11_000  # webinar 10 + view 1
    all_bad = service.send("/v1/batch", {"batch": [{"type": "track", "userId": "u1"}]})
    assert all_bad.status_code == 400 and all_bad.json()["accepted"] == 0
    assert service.send("/v1/batch", {"messages": []}).json()["field"] == "batch"


def test_ingestion_is_idempotent_on_message_id(service: Service) -> None:
    message = {"userId": "u1", "event": "Webinar Attended", "messageId": "m-1", "timestamp": _now()}
    for _ in range(3):
        assert service.send("/v1/track", message).status_code == 200
    assert stored_scores(service.store, "u1")[0]["engagement"] == 10_000
    assert service.store.count("events") == 1


def test_anonymous_events_count_once_the_visitor_is_identified(service: Service) -> None:
    visit = {"anonymousId": "anon-7", "properties": {"path": "/pricing"}}
    assert service.send("/v1/page", visit).status_code == 200
    assert service.store.count("lead_scores") == 0  # nobody to score yet
    identify = {"userId": "u2", "anonymousId": "anon-7", "traits": {"email": "bo@gmail.com"}}
    assert service.send("/v1/identify", identify).status_code == 200
    assert stored_scores(service.store, "u2")[0]["engagement"] == 6_000  # view 1 + pricing 5


def test_a_stage_change_is_recorded_when_events_qualify_the_lead(service: Service) -> None:
    traits = {**TRAITS, "company_size": "50"}
    premium = {"type": "track", "userId": "u3", "event": "Content Downloaded"}
    batch = [{"type": "identify", "userId": "u3", "traits": traits}]
    batch += [{**premium, "properties": {"premium": True}, "messageId": f"p{n}"} for n in range(2)]
    batch += [{"type": "track", "userId": "u3", "event": "Email Opened", "messageId": "o"}]
    batch += [
        {"type": "page", "userId": "u3", "properties": {"path": f"/p{n}"}, "messageId": f"v{n}"}
        for n in range(10)
    ]
    assert service.send("/v1/batch", {"batch": batch}).json()["accepted"] == 14
    history = service.store.transitions("u3", "brief")
    assert [(t.from_stage, t.to_stage, t.kind) for t in history] == [("Lead", "MQL", "advance")]
    assert stored_scores(service.store, "u3")[0]["stage"] == "MQL"


def test_the_segment_python_client_sends_unmodified(service: Service) -> None:
    from segment.analytics import Client

    errors: list[Exception] = []
    with serving(service.app) as url:
        client = Client(
            service.ingest,
            host=url,
            sync_mode=True,
            max_retries=0,
            on_error=lambda error, _: errors.append(error),
        )
        client.identify("u9", TRAITS)
        client.track("u9", "Webinar Attended")
        client.page("u9", name="Pricing", properties={"path": "/pricing"})
        client.flush()
    assert errors == []
    stored = stored_scores(service.store, "u9")
    assert [(r["fit"], r["engagement"], r["score"]) for r in stored] == [(30_000, 16_000, 46_000)]


def test_a_large_batch_is_rescored_as_replaying_each_lead_would(service: Service) -> None:
    """A write is rescored by the batch engine, colleagues included; each stored result must
    equal replaying that lead alone (the incremental engine), account facts and the stage
    change included."""
    from leadscore import default_model, explain_lead

    count = 25
    batch: list[dict[str, Any]] = [
        {
            "type": "identify",
            "userId": f"u{n}",
            "traits": {**TRAITS, "email": f"p{n}@co{n % 3}.example", "company_size": "50"},
        }
        for n in range(count)
    ]
    for n in range(count):  # more engagement for higher n; u0 qualifies as an MQL
        batch += [
            {
                "type": "track",
                "userId": f"u{n}",
                "event": "Webinar Attended",
                "messageId": f"w{n}-{k}",
            }
            for k in range(n % 4)
        ]
    batch += [
        {"type": "track", "userId": "u0", "event": "Content Downloaded", "messageId": f"p{k}",
         "properties": {"premium": True}}
        for k in range(2)
    ]  # fmt: skip
    batch += [{"type": "track", "userId": "u0", "event": "Email Opened", "messageId": "o"}]
    batch += [
        {"type": "page", "userId": "u0", "properties": {"path": "/"}, "messageId": f"v{k}"}
        for k in range(10)
    ]
    # three engaged colleagues at co9, sent earlier (few leads: replayed one by one), and a
    # new colleague of theirs in the large batch: its account facts must count them
    engaged = [
        {"type": "track", "userId": f"c{n}", "event": "Webinar Attended", "messageId": f"c{n}{k}"}
        for n in range(3)
        for k in range(2)
    ]
    people = [
        {"type": "identify", "userId": f"c{n}", "traits": {**TRAITS, "email": f"c{n}@co9.example"}}
        for n in range(3)
    ]
    assert service.send("/v1/batch", {"batch": people + engaged}).json()["accepted"] == 9
    newcomer = {**TRAITS, "email": "new@co9.example", "company_size": "50"}
    batch.append({"type": "identify", "userId": "newcomer", "traits": newcomer})
    answer = service.send("/v1/batch", {"batch": batch})
    assert answer.json()["accepted"] == len(batch)
    # by hand: 10 + 8 + 5, and +10 for three engaged colleagues (20 points each)
    assert stored_scores(service.store, "newcomer")[0]["fit"] == 33_000
    at = stored_scores(service.store, "u0")[0]["as_of"]
    for n in range(count):
        (stored,) = stored_scores(service.store, f"u{n}")
        replayed = explain_lead(service.store, default_model(), f"u{n}", at)
        assert (stored["fit"], stored["engagement"], stored["score"], stored["stage"]) == (
            replayed.fit,
            replayed.engagement,
            replayed.score,
            replayed.stage,
        ), n
    assert stored_scores(service.store, "u0")[0]["stage"] == "MQL"
    assert [t.to_stage for t in service.store.transitions("u0", "brief")] == ["MQL"]
    # by hand: Marketing Manager 10 + 11-99 employees 8 + Denmark 5, and each of the three
    # companies has at least 3 engaged leads (two or three webinars; u0's 22 points), so the
    # buying-team rule adds 10 for everyone: 33
    assert {stored_scores(service.store, f"u{n}")[0]["fit"] for n in range(count)} == {33_000}


def test_an_unexpected_error_is_a_json_500_without_a_traceback(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    import leadscore.service.scorer as service_app

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service_app, "score_marked", broken)
    client = TestClient(service.app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {service.ingest}"}
    answer = client.post("/v1/track", json={"userId": "u1", "event": "X"}, headers=headers)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error; the service log has the details"}
    assert "disk on fire" not in answer.text
