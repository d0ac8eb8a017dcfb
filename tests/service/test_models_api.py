"""The models API: upload (validated with the CLI's messages), list versions, activate (which
rescores every lead and tells webhooks); and lead writes over HTTP: create, update, owner.

Points by hand from the brief's model: Webinar Attended +10 (the uploaded version makes it 30);
tiers hot 50+, warm 19-49, cold below.
"""

from __future__ import annotations

from typing import Any

from leadscore.spec.loader import default_model_text
from leadscore.store.scores import stored_scores
from tests.service.test_ingestion import TRAITS, Service

WEBINAR = "    event: Webinar Attended\n    points: 10\n"


def _admin(service: Service, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {service.admin}", **kwargs.pop("headers", {})}
    return service.client.request(method, path, headers=headers, **kwargs)


def _upload(service: Service, text: str) -> Any:
    return _admin(
        service, "POST", "/v1/models", content=text, headers={"Content-Type": "application/yaml"}
    )


def test_a_new_version_is_kept_apart_until_activated_then_rescores_every_lead(
    service: Service,
) -> None:
    service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"})
    service.send("/v1/track", {"userId": "u2", "event": "Form Submitted"})
    assert stored_scores(service.store, "u1")[0]["score"] == 10_000
    text = default_model_text()
    assert WEBINAR in text
    uploaded = _upload(service, text.replace(WEBINAR, WEBINAR.replace("10", "30")))
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["name"], uploaded.json()["version"]) == ("brief", 2)

    listed = _admin(service, "GET", "/v1/models").json()["versions"]
    # version 1 is the file the project started with, still in use
    assert [(v["version"], v["active"]) for v in listed] == [(1, True), (2, False)]
    assert stored_scores(service.store, "u1")[0]["score"] == 10_000

    answer = _admin(service, "POST", "/v1/models/brief/versions/2/activate?wait=true")
    assert answer.status_code == 200, answer.text
    assert answer.json()["leads_rescored"] == 2
    assert stored_scores(service.store, "u1")[0]["score"] == 30_000  # rescored at once
    assert (stored_scores(service.store, "u2")[0]["score"]) == 5_000
    # and new events are scored with it
    service.send("/v1/track", {"userId": "u3", "event": "Webinar Attended"})
    assert stored_scores(service.store, "u3")[0]["score"] == 30_000
    # the model file in use is the version (the CLI scores with it too)
    assert "points: 30" in (service.project.root / "models" / "brief.yaml").read_text()

    _admin(service, "POST", "/v1/models/brief/versions/1/activate?wait=true")
    assert stored_scores(service.store, "u1")[0]["score"] == 10_000
    listed = _admin(service, "GET", "/v1/models").json()["versions"]
    assert [(v["version"], v["active"]) for v in listed] == [(1, True), (2, False)]


def test_an_invalid_upload_is_refused_with_the_line_and_field(service: Service) -> None:
    text = default_model_text().replace(WEBINAR, "    event: Webinar Attended\n    points: ten\n")
    answer = _upload(service, text)
    assert answer.status_code == 400
    [issue] = answer.json()["issues"]
    line = text.splitlines().index("    points: ten") + 1
    assert issue["line"] == line
    assert "points" in issue["field"]
    listed = _admin(service, "GET", "/v1/models").json()["versions"]
    assert [v["version"] for v in listed] == [1]  # nothing kept


def test_the_same_upload_twice_is_one_version_and_unknown_versions_are_404(
    service: Service,
) -> None:
    text = default_model_text().replace(WEBINAR, WEBINAR.replace("10", "30"))
    assert _upload(service, text).json()["version"] == 2
    assert _upload(service, text).json()["version"] == 2
    assert _admin(service, "POST", "/v1/models/brief/versions/9/activate").status_code == 404
    assert _admin(service, "POST", "/v1/models/other/versions/1/activate").status_code == 404
    read = {"Authorization": f"Bearer {service.read}"}
    assert service.client.get("/v1/models", headers=read).status_code == 403


def test_leads_are_created_and_updated_over_http(service: Service) -> None:
    created = _admin(
        service, "POST", "/v1/leads", json={"lead_id": "n1", "attributes": {"country": "DK"}}
    )
    assert created.status_code == 201, created.text
    assert created.json()["results"][0]["fit"] == 5  # Denmark +5
    again = _admin(service, "POST", "/v1/leads", json={"lead_id": "n1", "attributes": {}})
    assert again.status_code == 409
    changed = _admin(
        service,
        "PATCH",
        "/v1/leads/n1",
        json={"attributes": {"job_title": "Marketing Manager", "company_size": "250"}},
    )
    assert changed.status_code == 200
    assert changed.json()["attributes"]["country"] == "DK"  # kept
    assert stored_scores(service.store, "n1")[0]["fit"] == 30_000  # 5 + 10 + 15, kept at once
    missing = _admin(service, "PATCH", "/v1/leads/nobody", json={"attributes": {}})
    assert missing.status_code == 404
    bad = _admin(service, "PATCH", "/v1/leads/n1", json={"attributes": ["x"]})
    assert (bad.status_code, bad.json()["field"]) == (400, "attributes")


def test_leads_are_filtered_by_owner(service: Service) -> None:
    service.send("/v1/identify", {"userId": "a", "traits": {**TRAITS, "owner": "jane"}})
    service.send("/v1/identify", {"userId": "b", "traits": {"owner": "joe"}})
    service.send("/v1/identify", {"userId": "c", "traits": {"owner_name": "jane"}})
    read = {"Authorization": f"Bearer {service.read}"}
    found = service.client.get("/v1/leads?owner=jane", headers=read).json()["leads"]
    assert [lead["lead_id"] for lead in found] == ["a"]


def test_metrics_count_what_was_ingested_and_rejected(service: Service) -> None:
    def value(text: str, name: str) -> float:
        for line in text.splitlines():
            if line.startswith((name + " ", name + "{")):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = service.client.get("/metrics").text
    batch = [{"type": "track", "userId": "m1", "event": "X"}, {"type": "track", "event": "Y"}]
    service.send("/v1/batch", {"batch": batch})
    after = service.client.get("/metrics").text
    track = 'leadscore_events_ingested_total{type="track"}'
    assert value(after, track) - value(before, track) == 1
    rejected = "leadscore_events_rejected_total"
    assert value(after, rejected) - value(before, rejected) == 1
    assert "leadscore_scoring_seconds_bucket" in after
