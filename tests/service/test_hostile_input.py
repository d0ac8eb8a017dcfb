"""The exact inputs that once gave a 500 or a wrong answer (issue 14), on each database: each
now gets a 4xx naming the field, and the good messages sent beside it are stored.

Expected reasons are the service's documented rules (docs/service.md, "Limits"), not copies
of its output: a message's bad field is named, a batch keeps its good messages.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.service.test_ingestion import Service
from tests.unit.spec.test_hostile_models import alias_bomb


def _now() -> str:
    return datetime.now(UTC).isoformat()


def good(n: int) -> dict[str, Any]:
    return {"type": "track", "userId": f"good-{n}", "event": "Webinar Attended"}


#: A track message as JSON text, open for more fields.
TRACK = '{"type": "track", "userId": "x", "event": "E"'


def with_property(json_value: str) -> str:
    """A track message whose property ``n`` is ``json_value``, as JSON text."""
    return TRACK + ', "properties": {"n": ' + json_value + "}}"


def send_raw(service: Service, path: str, body: bytes, **headers: str) -> Any:
    user = base64.b64encode(f"{service.ingest}:".encode()).decode()
    headers = {"Authorization": f"Basic {user}", "Content-Type": "application/json", **headers}
    return service.client.post(path, content=body, headers=headers)


def batch_with(service: Service, bad: dict[str, Any] | str) -> Any:
    """A batch of a good message, ``bad`` and another good one, sent as raw JSON text (so a
    message JSON cannot write from Python, like an unpaired surrogate, goes as is)."""
    bad_text = bad if isinstance(bad, str) else json.dumps(bad)
    body = f'{{"batch": [{json.dumps(good(1))}, {bad_text}, {json.dumps(good(2))}]}}'
    return send_raw(service, "/v1/batch", body.encode())


def stored_leads(service: Service) -> set[str]:
    return {lead for lead in ("good-1", "good-2") if service.store.lead(lead) is not None}


def refused_beside_good(service: Service, bad: dict[str, Any] | str, field: str) -> str:
    """Send ``bad`` between two good messages: 200, the good two stored, ``bad`` rejected
    naming ``field``; returns the reason given."""
    answer = batch_with(service, bad)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 2
    [rejected] = body["rejected"]
    assert (rejected["index"], rejected["field"]) == (1, field)
    assert stored_leads(service) == {"good-1", "good-2"}
    return str(rejected["error"])


@pytest.mark.parametrize(
    "timestamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-12-31T23:59:59Z"]
)
def test_timestamps_out_of_range_are_refused_by_field(service: Service, timestamp: str) -> None:
    bad = {"type": "track", "userId": "x", "event": "E", "timestamp": timestamp}
    assert "is outside 1900..9000" in refused_beside_good(service, bad, "timestamp")


@pytest.mark.parametrize("field", ["userId", "messageId", "anonymousId"])
def test_an_unpaired_surrogate_in_an_id_is_refused(service: Service, field: str) -> None:
    bad = TRACK + f', "{field}": "a\\ud800"}}'
    assert "unpaired surrogate (\\ud800)" in refused_beside_good(service, bad, field)


def test_an_unpaired_surrogate_in_properties_is_refused(service: Service) -> None:
    bad = '{"type": "track", "userId": "x", "event": "E", "properties": {"title": "\\udfff"}}'
    reason = refused_beside_good(service, bad, "properties.title")
    assert "unpaired surrogate (\\udfff)" in reason


def test_a_nul_in_an_id_or_a_property_is_refused(service: Service) -> None:
    bad = {"type": "track", "userId": "a\x00b", "event": "E"}
    assert "NUL" in refused_beside_good(service, bad, "userId")


def test_a_nul_in_a_property_is_refused(service: Service) -> None:
    bad = {"type": "track", "userId": "x", "event": "E", "properties": {"q": "\x00"}}
    assert "NUL" in refused_beside_good(service, bad, "properties.q")


@pytest.mark.parametrize("digits", [101, 5000])  # Python itself reads 101, not 5,000
def test_an_integer_of_too_many_digits_is_refused_by_field(service: Service, digits: int) -> None:
    bad = with_property("9" * digits)
    reason = refused_beside_good(service, bad, "properties.n")
    assert f"({digits:,} characters) is not a number that can be stored" in reason


@pytest.mark.parametrize(
    ("number", "shown"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "Infinity")],
)
def test_numbers_json_cannot_carry_are_refused(service: Service, number: str, shown: str) -> None:
    bad = with_property(number)
    reason = refused_beside_good(service, bad, "properties.n")
    assert reason.startswith(f"{shown} is not a number that can be stored")  # 1e999 is infinite


def test_properties_nested_too_deeply_are_refused(service: Service) -> None:
    deep = "[" * 40 + "]" * 40
    bad = with_property(deep)
    answer = batch_with(service, bad)
    [rejected] = answer.json()["rejected"]
    assert rejected["field"].startswith("properties.n[0]")
    assert "nests more than 32 levels deep" in rejected["error"]
    assert stored_leads(service) == {"good-1", "good-2"}


def test_a_body_nested_200000_deep_gets_400(service: Service) -> None:
    answer = send_raw(service, "/v1/batch", b"[" * 200_000)
    assert answer.status_code == 400
    assert "nests lists or objects too deeply" in answer.json()["error"]


@pytest.mark.parametrize("user_id", ["a/b", "../../x"])
def test_ids_with_a_slash_are_refused_at_the_door(service: Service, user_id: str) -> None:
    bad = {"type": "identify", "userId": user_id}
    assert "contains '/'" in refused_beside_good(service, bad, "userId")
    created = service.client.post(
        "/v1/leads",
        json={"lead_id": user_id},
        headers={"Authorization": f"Bearer {service.admin}"},
    )
    assert created.status_code == 400
    assert created.json()["field"] == "lead_id"


def test_an_id_longer_than_255_characters_is_refused(service: Service) -> None:
    bad = {"type": "track", "userId": "x" * 256, "event": "E"}
    assert "256 characters long; at most 255" in refused_beside_good(service, bad, "userId")
    long_event = {"type": "track", "userId": "x", "event": "E" * 300}
    assert "300 characters" in refused_beside_good(service, long_event, "event")


@pytest.mark.parametrize("value", ["false", "true", "1.5", "[1]", '{"a": 1}'])
def test_an_id_that_is_neither_text_nor_an_integer_is_refused(service: Service, value: str) -> None:
    bad = '{"type": "identify", "userId": ' + value + "}"
    assert "must be a string or an integer" in refused_beside_good(service, bad, "userId")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/leads/a%00b"),
        ("DELETE", "/v1/leads/a%00b"),
        ("POST", "/v1/leads/a%00b/feedback"),
        ("DELETE", "/v1/webhooks/a%00b"),
        ("GET", "/v1/webhooks/a%00b/deliveries"),
        ("POST", "/v1/models/a%00b/versions/1/activate"),
        ("GET", "/v1/leads?q=a%00b"),
        ("GET", "/v1/leads?model=%01"),
    ],
)
def test_a_url_with_a_control_character_is_400_on_every_route(
    service: Service, method: str, path: str
) -> None:
    admin = {"Authorization": f"Bearer {service.admin}"}
    answer = service.client.request(method, path, headers=admin, json={"feedback": "good_fit"})
    assert answer.status_code == 400
    assert "holds a control character" in answer.json()["error"]
    assert answer.json()["field"] == ("query" if "?" in path else "path")


def test_a_path_id_no_lead_can_have_is_404(service: Service) -> None:
    read = {"Authorization": f"Bearer {service.read}"}
    answer = service.client.get("/v1/leads/" + "x" * 300, headers=read)
    assert answer.status_code == 404
    assert "300 characters long; at most 255" in answer.json()["error"]


@pytest.mark.parametrize("forged", ['[1e999, "a"]', '[1e26, "a"]', '[1, "a/b"]', "{}", "7"])
def test_forged_cursors_get_400(service: Service, forged: str) -> None:
    cursor = base64.urlsafe_b64encode(forged.encode()).decode()
    read = {"Authorization": f"Bearer {service.read}"}
    answer = service.client.get("/v1/leads", params={"cursor": cursor}, headers=read)
    assert answer.status_code == 400
    assert answer.json() == {"error": "cursor: not a cursor this service gave", "field": "cursor"}


def test_an_empty_cursor_is_the_first_page(service: Service) -> None:
    assert service.send("/v1/track", good(1)).status_code == 200
    read = {"Authorization": f"Bearer {service.read}"}
    answer = service.client.get("/v1/leads?cursor=", headers=read)
    assert answer.status_code == 200
    assert [lead["lead_id"] for lead in answer.json()["leads"]] == ["good-1"]


def test_a_multi_member_gzip_body_is_read_whole(service: Service) -> None:
    body = json.dumps({"batch": [good(1), good(2)]}).encode()
    half = len(body) // 2
    two_members = gzip.compress(body[:half]) + gzip.compress(body[half:])
    answer = send_raw(service, "/v1/batch", two_members, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2
    assert stored_leads(service) == {"good-1", "good-2"}


def test_a_truncated_gzip_body_gets_400(service: Service) -> None:
    body = gzip.compress(json.dumps({"batch": [good(1)]}).encode())
    answer = send_raw(service, "/v1/batch", body[:-12], **{"Content-Encoding": "gzip"})
    assert answer.status_code == 400
    assert "gzip" in answer.json()["error"]


def test_a_gzip_bomb_of_two_members_gets_413(service: Service) -> None:
    member = gzip.compress(b" " * 600_000)
    answer = send_raw(service, "/v1/batch", member + member, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 413


def test_a_body_without_a_declared_length_is_still_bounded(service: Service) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    user = base64.b64encode(f"{service.ingest}:".encode()).decode()
    answer = service.client.post(
        "/v1/batch", content=chunks(), headers={"Authorization": f"Basic {user}"}
    )
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("method", "path", "allowed"), [("DELETE", "/healthz", "GET"), ("PUT", "/v1/batch", "POST")]
)
def test_a_method_a_path_does_not_take_gets_405_with_allow(
    service: Service, method: str, path: str, allowed: str
) -> None:
    answer = service.client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed


def upload(service: Service, text: str) -> Any:
    headers = {"Authorization": f"Bearer {service.admin}", "Content-Type": "application/yaml"}
    return service.client.post("/v1/models", content=text, headers=headers)


def test_hostile_model_files_get_400_at_once_and_the_service_keeps_answering(
    service: Service,
) -> None:
    titles = "name: brief\nfit:\n  - name: t\n    points: 5\n    when: [{type: regex, "
    hostile = {
        "alias bomb": (alias_bomb(), "expands to more than 100,000 values"),
        "deep nesting": ("name: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        "exponential pattern": (
            titles + "field: job_title, pattern: '(a|aa)+$'}]\n",
            "repeats a group that itself has alternatives",
        ),
    }
    for what, (text, reason) in hostile.items():
        started = time.perf_counter()
        answer = upload(service, text)
        assert time.perf_counter() - started < 2, what
        assert answer.status_code == 400, what
        assert reason in answer.json()["error"], what
        assert service.client.get("/healthz").status_code == 200


def test_webhooks_go_only_to_the_hosts_allowed(tmp_path: Path, database_url: str) -> None:
    service = Service(tmp_path, database_url, webhook_hosts=["127.0.0.1"])
    admin = {"Authorization": f"Bearer {service.admin}"}
    body = {"url": "http://169.254.169.254/latest/meta-data", "events": ["stage_changed"]}
    refused = service.client.post("/v1/webhooks", json=body, headers=admin)
    assert refused.status_code == 400
    assert refused.json()["field"] == "url"
    assert "'169.254.169.254' is not one of the hosts" in refused.json()["error"]
    body["url"] = "http://127.0.0.1:9/hooks"
    assert service.client.post("/v1/webhooks", json=body, headers=admin).status_code == 201
    service.store.close()
