"""Webhooks: the changes a write causes are delivered, signed, retried with backoff, logged,
and queued in the transaction that keeps the change (a failure keeps neither).

Points by hand from the brief's model (models/brief.yaml): Webinar Attended +10, Form
Submitted +5; a Marketing Manager (+10) at 250 people (+15) in Denmark (+5) has fit 30.
Tiers: hot 50+, warm 19-49, cold below.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import standardwebhooks
from fastapi.testclient import TestClient

from leadscore.app.predictions import keep_lead_predictions
from leadscore.service.app import create_app
from leadscore.service.sender import Sender
from leadscore.store.scores import stored_scores
from leadscore.store.unscored import unscored
from leadscore.store.webhooks import MAX_ATTEMPTS, retry_delay
from tests.service.receiver import Receiver
from tests.service.test_ingestion import TRAITS, Service


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _admin(service: Service, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {service.admin}"}
    return service.client.request(method, path, json=body, headers=headers)


def _subscribe(service: Service, url: str, **fields: Any) -> dict[str, Any]:
    answer = _admin(service, "POST", "/v1/webhooks", {"url": url, **fields})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _deliver(service: Service, sender: Sender | None = None) -> int:
    async def run() -> int:
        mine = sender or Sender(service.store)
        try:
            return await mine.send_due()
        finally:
            await mine.close()

    return asyncio.run(run())


def _qualifying_batch(lead_id: str) -> list[dict[str, Any]]:
    """Traits, two premium downloads, an email opened and ten page views: MQL (the brief's
    conditions, as in test_ingestion)."""
    traits = {**TRAITS, "company_size": "50"}
    premium = {"type": "track", "userId": lead_id, "event": "Content Downloaded"}
    batch: list[dict[str, Any]] = [{"type": "identify", "userId": lead_id, "traits": traits}]
    batch += [{**premium, "properties": {"premium": True}, "messageId": f"p{n}"} for n in (1, 2)]
    batch += [{"type": "track", "userId": lead_id, "event": "Email Opened"}]
    batch += [
        {"type": "page", "userId": lead_id, "properties": {"path": f"/p{n}"}} for n in range(10)
    ]
    return batch


def test_a_stage_change_is_delivered_signed(service: Service, receiver: Receiver) -> None:
    hook = _subscribe(service, receiver.url, events=["stage_changed"], model="brief")
    assert hook["secret"].startswith("whsec_")
    assert service.send("/v1/batch", {"batch": _qualifying_batch("u3")}).json()["success"]

    assert _deliver(service) == 1
    [(headers, body)] = receiver.received
    payload = receiver.payloads()[0]
    assert (payload["type"], payload["from"], payload["to"], payload["lead_id"]) == (
        "stage_changed",
        "Lead",
        "MQL",
        "u3",
    )
    assert payload["webhook_id"] == hook["id"]
    assert headers["webhook-id"] == payload["delivery_id"]
    # the signature, checked as a receiver would: the Standard Webhooks reference library
    assert standardwebhooks.Webhook(hook["secret"]).verify(body, headers) == payload
    # and by hand, from the specification: base64 HMAC-SHA256 of "id.timestamp.body" keyed by
    # the base64-decoded secret after "whsec_"
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{mac}"
    tampered = body.replace('"MQL"', '"SQL"')
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(tampered, headers)
    assert _deliver(service) == 0  # delivered once, not again


def test_tier_changes_and_threshold_crossings_are_told_with_their_filters(
    service: Service, receiver: Receiver
) -> None:
    _subscribe(service, receiver.url, events=["tier_changed"], to=["warm", "hot"])
    _subscribe(service, receiver.url, events=["threshold_crossed"], threshold=15)
    # 10 points: cold (filtered out), under 15
    service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"})
    # 15 points: crosses 15 upwards, still cold
    service.send("/v1/track", {"userId": "u1", "event": "Form Submitted"})
    # fit 30: 45 points, warm
    service.send("/v1/identify", {"userId": "u1", "traits": TRAITS})
    assert _deliver(service) == 2
    seen = sorted(
        (p["type"], p.get("to"), p.get("direction"), p["previous_score"], p["score"])
        for p in receiver.payloads()
    )
    assert seen == [
        ("threshold_crossed", None, "up", 10.0, 15.0),
        ("tier_changed", "warm", None, 15.0, 45.0),
    ]


def test_a_failed_delivery_is_retried_with_backoff_and_logged(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Receiver(statuses=[500])
    try:
        hook = _subscribe(service, failing.url, events=["threshold_crossed"], threshold=5)
        service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"})
        assert _deliver(service) == 1  # answered 500
        assert _deliver(service) == 0  # the retry is not due yet
        import leadscore.service.sender as sender_module

        later = sender_module.now_us() + 10_000_000  # the first retry waits 10 s
        monkeypatch.setattr(sender_module, "now_us", lambda: later)
        assert _deliver(service) == 1  # answered 200
        assert len(failing.received) == 2
        assert failing.payloads()[0] == failing.payloads()[1]  # the same delivery id again
    finally:
        failing.close()
    log = _admin(service, "GET", f"/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    [delivery] = log
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["last_error"] is None


def test_backoff_doubles_up_to_an_hour() -> None:
    seconds = [retry_delay(n) / 1e6 for n in range(1, 12)]
    assert seconds == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    assert MAX_ATTEMPTS > 10


def test_an_unreachable_receiver_is_a_logged_error(service: Service) -> None:
    closed = Receiver()
    url = closed.url
    closed.close()
    hook = _subscribe(service, url, events=["threshold_crossed"], threshold=5)
    service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"})
    assert _deliver(service) == 1
    [delivery] = _admin(service, "GET", f"/v1/webhooks/{hook['id']}/deliveries").json()[
        "deliveries"
    ]
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["status_code"] is None
    assert "Connect" in delivery["last_error"]


def test_a_failure_before_commit_keeps_neither_score_nor_delivery_and_restart_catches_up(
    service: Service, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import leadscore.app.scoring as project_module

    _subscribe(service, receiver.url, events=["stage_changed"])

    def crash(*_: Any, **__: Any) -> int:
        raise RuntimeError("power cut")

    original = project_module.queue_deliveries
    monkeypatch.setattr(project_module, "queue_deliveries", crash)
    client = TestClient(service.app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {service.ingest}"}
    answer = client.post("/v1/batch", json={"batch": _qualifying_batch("u3")}, headers=headers)
    assert answer.status_code == 500
    # the events are stored and the lead is marked; no result, no stage, no delivery was kept
    assert service.store.count("events") == 13
    assert stored_scores(service.store, "u3") == []
    assert service.store.transitions("u3") == []
    assert unscored(service.store) == ["u3"]
    assert _deliver(service) == 0

    # a restart rescores what was left, and the owed webhook goes out
    monkeypatch.setattr(project_module, "queue_deliveries", original)
    restarted = create_app(service.project)
    with TestClient(restarted):
        pass
    assert stored_scores(service.store, "u3")[0]["stage"] == "MQL"
    assert unscored(service.store) == []
    _deliver(service)  # whatever the restarted service did not send before it stopped
    assert [p["to"] for p in receiver.payloads()] == ["MQL"]


def test_subscriptions_are_listed_checked_and_removed(service: Service) -> None:
    hook = _subscribe(service, "https://crm.example/hooks", events=["stage_changed"])
    listed = _admin(service, "GET", "/v1/webhooks").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    bad = _admin(service, "POST", "/v1/webhooks", {"url": "ftp://x", "events": ["stage_changed"]})
    assert (bad.status_code, bad.json()["field"]) == (400, "url")
    bad = _admin(
        service, "POST", "/v1/webhooks", {"url": "https://x.example", "events": ["score_moved"]}
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "events")
    bad = _admin(
        service,
        "POST",
        "/v1/webhooks",
        {"url": "https://x.example", "events": ["threshold_crossed"]},
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "threshold")
    unknown = {"url": "https://x.example", "events": ["stage_changed"], "model": "nope"}
    bad = _admin(service, "POST", "/v1/webhooks", unknown)
    assert (bad.status_code, bad.json()["field"]) == (400, "model")
    assert "no model named 'nope'; models here: ['brief']" in bad.json()["error"]
    assert _admin(service, "GET", "/v1/webhooks/nope/deliveries").status_code == 404
    for url in ("https://[::1", "http://x.example:99999", "https://"):  # found by schemathesis
        bad = _admin(service, "POST", "/v1/webhooks", {"url": url, "events": ["stage_changed"]})
        assert (bad.status_code, bad.json()["field"]) == (400, "url"), url
    for threshold in (4e16, float("nan")):  # thousandths of 4e16 points overflow 64 bits
        body = {"url": "https://x.example", "events": ["threshold_crossed"]}
        bad = service.client.post(
            "/v1/webhooks",
            content=json.dumps({**body, "threshold": threshold}),  # NaN: Python's JSON
            headers={"Authorization": f"Bearer {service.admin}"},
        )
        assert (bad.status_code, bad.json()["field"]) == (400, "threshold"), threshold
    read_only = service.client.get(
        "/v1/webhooks", headers={"Authorization": f"Bearer {service.read}"}
    )
    assert read_only.status_code == 403
    assert _admin(service, "DELETE", f"/v1/webhooks/{hook['id']}").status_code == 200
    assert _admin(service, "GET", "/v1/webhooks").json()["webhooks"] == []
    assert _admin(service, "DELETE", f"/v1/webhooks/{hook['id']}").status_code == 404


def test_erasure_removes_the_deliveries_about_the_lead(
    service: Service, receiver: Receiver
) -> None:
    _subscribe(service, receiver.url, events=["threshold_crossed"], threshold=5)
    service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"})
    assert service.store.count("webhook_deliveries") == 1
    assert _admin(service, "DELETE", "/v1/leads/u1").status_code == 200
    assert service.store.count("webhook_deliveries") == 0
    assert _deliver(service) == 0


def test_a_jump_past_mql_is_recorded_and_told_step_by_step(
    service: Service, receiver: Receiver
) -> None:
    # subscribers to MQL alone must hear of a lead that goes from Lead to SQL in one write
    _subscribe(service, receiver.url, events=["stage_changed"], to=["MQL"])
    batch = _qualifying_batch("u9")
    batch[0]["traits"] = {**TRAITS, "first_name": "Ann", "last_name": "Berg", "owner": "Ola"}
    pricing = [{"type": "page", "userId": "u9", "properties": {"path": "/pricing"}}] * 5
    webinars = [{"type": "track", "userId": "u9", "event": "Webinar Attended"}] * 3
    batch += [{**m, "messageId": f"x{n}"} for n, m in enumerate(pricing + webinars)]
    batch += [{"type": "track", "userId": "u9", "event": "Demo Requested", "messageId": "d"}]
    assert service.send("/v1/batch", {"batch": batch}).json()["success"]

    history = [(t.from_stage, t.to_stage, t.kind) for t in service.store.transitions("u9")]
    assert history == [("Lead", "MQL", "advance"), ("MQL", "SQL", "advance")]
    reasons = [t.reason for t in service.store.transitions("u9")]
    assert reasons == [
        "passed on the way to SQL, whose entry conditions hold",
        "entry conditions of SQL hold",
    ]
    assert _deliver(service) == 1
    (payload,) = receiver.payloads()
    assert (payload["from"], payload["to"], payload["stage"]) == ("Lead", "MQL", "SQL")
    # why, by hand: 3 webinars x 10 = 30, 5 pricing views x 5 = 25 (the rule's cap), then
    # two at 15 (a company of 250, TRAITS; a demo request), tied, taken by name; page views
    # (15, capped at 10 a day) and downloads (10) come after
    assert payload["reasons"] == [
        {"rule": "webinar attendance", "points": 30.0},
        {"rule": "pricing page", "points": 25.0},
        {"rule": "company of 100+ employees", "points": 15.0},
    ]
    # who the lead is travels with the change: no second call needed to act on it
    assert payload["lead"] == {
        "name": "Ann Berg",
        "email": "ann@acme.example",
        "first_name": "Ann",
        "last_name": "Berg",
        "job_title": "Marketing Manager",
        "owner": "Ola",
    }


def _predictions(chances: dict[str, float]) -> pa.Table:
    """A trained model's predictions as ``predict`` gives them, written by hand."""
    return pa.table(
        {
            "lead_id": list(chances),
            "model": ["buyers"] * len(chances),
            "version": [1] * len(chances),
            "probability": list(chances.values()),
            "score": [round(100 * p, 1) for p in chances.values()],
            "reasons": ['[{"feature": "pages", "text": "pages: 4", "points": 3.0}]'] * len(chances),
        }
    )


def test_a_kept_prediction_crossing_a_threshold_is_delivered(
    service: Service, receiver: Receiver
) -> None:
    for lead_id in ("u1", "u2"):
        assert (
            service.send("/v1/identify", {"userId": lead_id, "traits": TRAITS}).status_code == 200
        )
    refused = _admin(
        service,
        "POST",
        "/v1/webhooks",
        {"url": receiver.url, "events": ["chance_crossed"], "model": "buyers", "threshold": 50},
    )
    assert refused.status_code == 400 and "trained models here: []" in refused.text
    trained = service.project.root / "models" / "predictive" / "buyers"
    (trained / "v1").mkdir(parents=True)
    (trained / "ACTIVE").write_text("1\n", encoding="utf-8")
    for bad in (
        {"events": ["chance_crossed"], "model": "brief", "threshold": 50},
        {"events": ["chance_crossed"], "threshold": 150},
        {"events": ["chance_crossed", "threshold_crossed"], "threshold": 50},
    ):
        answer = _admin(service, "POST", "/v1/webhooks", {"url": receiver.url, **bad})
        assert answer.status_code == 400, bad
    hook = _subscribe(
        service, receiver.url, events=["chance_crossed"], model="buyers", threshold=50
    )
    _subscribe(service, receiver.url, events=["threshold_crossed"], threshold=1_000)  # silent

    leads = ["u1", "u2"]
    rounds = [{"u1": 0.3, "u2": 0.6}, {"u1": 0.55, "u2": 0.4}, {"u1": 0.5, "u2": 0.41}]
    for second, chances in enumerate(rounds, start=1):  # the last crosses nothing (50 holds)
        found = [("buyers", _predictions(chances))]
        keep_lead_predictions(service.store, second * 1_000_000, leads, found)
    assert _deliver(service) == 3
    got = sorted(
        (p["at"], p["lead_id"], p["direction"], p["previous_chance"], p["chance"])
        for p in receiver.payloads()
    )
    assert got == [
        ("1970-01-01 00:00:01 UTC", "u2", "up", 0.0, 60.0),  # no kept prediction counts as 0
        ("1970-01-01 00:00:02 UTC", "u1", "up", 30.0, 55.0),
        ("1970-01-01 00:00:02 UTC", "u2", "down", 60.0, 40.0),
    ]
    headers, body = receiver.received[0]
    payload = standardwebhooks.Webhook(hook["secret"]).verify(body, headers)
    assert payload["type"] == "chance_crossed" and payload["threshold"] == 50.0
    assert payload["model"] == "buyers" and payload["reasons"][0]["feature"] == "pages"
