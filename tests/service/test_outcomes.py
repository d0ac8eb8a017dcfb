"""Outcomes, sales feedback and erasure over HTTP (admin keys), on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadscore import Preparations, default_model, score_all
from tests.service.test_ingestion import TRAITS, Service


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    running = Service(tmp_path, database_url)
    batch: list[dict[str, Any]] = [
        {"type": "identify", "userId": "u1", "traits": TRAITS, "anonymousId": "a1"},
        {"type": "track", "userId": "u1", "event": "Webinar Attended"},
        {"type": "page", "anonymousId": "a1", "properties": {"path": "/pricing"}},
        {"type": "identify", "userId": "u2", "traits": {"email": "bo@acme.example"}},
        {"type": "track", "userId": "u2", "event": "Form Submitted"},
    ]
    assert running.send("/v1/batch", {"batch": batch}).json()["accepted"] == 5
    yield running
    running.store.close()


def _post(service: Service, path: str, body: Any, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key or service.admin}"}
    return service.client.post(path, json=body, headers=headers)


def test_outcomes_and_feedback_are_kept_and_shown(service: Service) -> None:
    won = _post(service, "/v1/leads/u1/outcomes", {"outcome": "won", "value": 12000.5,
                                                   "at": "2026-02-01T10:00:00Z"})  # fmt: skip
    assert won.status_code == 201
    assert (won.json()["outcome"], won.json()["at"]) == ("won", "2026-02-01 10:00:00 UTC")
    assert _post(service, "/v1/leads/u1/feedback", {"feedback": "good_fit"}).status_code == 201
    body = service.lead("u1").json()
    assert [(o["outcome"], o["value"]) for o in body["outcomes"]] == [("won", 12000.5)]
    assert [(f["verdict"], f["note"]) for f in body["feedback"]] == [("good_fit", "")]
    assert service.lead("u2").json()["outcomes"] == []


def test_bad_outcomes_and_feedback_name_the_field(service: Service) -> None:
    cases = [
        ("/v1/leads/u1/outcomes", {"outcome": "maybe"}, "outcome"),
        ("/v1/leads/u1/outcomes", {"outcome": "won", "value": "lots"}, "value"),
        ("/v1/leads/u1/outcomes", {"outcome": "won", "at": "2026-02-01"}, "at"),
        ("/v1/leads/u1/feedback", {"feedback": "meh"}, "feedback"),
        ("/v1/leads/u1/feedback", {"feedback": "bad_fit", "note": 3}, "note"),
    ]
    for path, body, field in cases:
        answer = _post(service, path, body)
        assert (answer.status_code, answer.json().get("field")) == (400, field), body
    missing = _post(service, "/v1/leads/nobody/outcomes", {"outcome": "won"})
    assert missing.status_code == 404
    assert (
        _post(service, "/v1/leads/u1/outcomes", {"outcome": "won"}, service.read).status_code == 403
    )


def test_erasure_leaves_only_an_audit_row(service: Service) -> None:
    import hashlib

    import sqlalchemy as sa

    assert _post(service, "/v1/leads/u1/outcomes", {"outcome": "converted"}).status_code == 201
    headers = {"Authorization": f"Bearer {service.admin}"}
    answer = service.client.delete("/v1/leads/u1", headers=headers)
    # by hand: lead 1, version 1, identity 1, events 2 (own webinar, anonymous page),
    # kept result 1, outcome 1
    assert answer.json() == {"erased": "u1", "rows_deleted": 7}
    columns = {
        "leads": ["lead_id"],
        "lead_versions": ["lead_id"],
        "identities": ["lead_id", "anonymous_id"],
        "events": ["lead_id", "anonymous_id"],
        "lead_scores": ["lead_id"],
        "outcomes": ["lead_id"],
        "feedback": ["lead_id"],
        "stage_transitions": ["lead_id"],
    }
    with service.store.engine.connect() as conn:
        for table, names in columns.items():
            where = " OR ".join(f"{name} IN ('u1', 'a1')" for name in names)
            left = conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar()
            assert left == 0, table
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 1  # u2's form
        (audit,) = conn.execute(sa.text("SELECT lead_digest, rows_deleted FROM erasures")).all()
    assert audit == (hashlib.sha256(b"u1").hexdigest(), 7)
    assert service.lead("u1").status_code == 404
    assert service.lead("u2").json()["results"][0]["engagement"] == 5  # untouched
    assert service.client.delete("/v1/leads/u1", headers=headers).status_code == 404


def test_an_erased_lead_leaves_the_kept_preparation(service: Service, tmp_path: Path) -> None:
    cache = tmp_path / "prepared"
    kept = Preparations(cache)
    before = score_all(service.store, [default_model()], 4_102_444_800_000_000, preparations=kept)
    assert sorted(before["lead_id"].to_pylist()) == ["u1", "u2"]
    service.client.delete("/v1/leads/u1", headers={"Authorization": f"Bearer {service.admin}"})
    after = score_all(service.store, [default_model()], 4_102_444_800_000_000, preparations=kept)
    assert after["lead_id"].to_pylist() == ["u2"]
