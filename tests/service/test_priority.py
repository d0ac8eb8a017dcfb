"""The grade x band matrix (Pardot's A1..D4) beside tier and grade: in the lead view, in
webhook deliveries (tests/integration/test_cli_priority.py: `score` files, CRM export).

By hand from the brief's model (models/brief.yaml): a Marketing Manager (+10) at 250 people
(+15) in Denmark (+5) has fit 30, grade B (20-34); a webinar attended is +10 engagement. The
priority bands below measure engagement: 1 from 50, 2 from 20, 3 from 5, 4 below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadscore.spec.loader import default_model_text
from tests.service.receiver import Receiver
from tests.service.test_ingestion import TRAITS, Service
from tests.service.test_webhooks import _admin, _deliver, _subscribe

PRIORITY = """
priority:
  of: engagement
  bands: [{name: "1", min: 50}, {name: "2", min: 20}, {name: "3", min: 5}, {name: "4"}]
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _activate(service: Service, text: str) -> None:
    headers = {"Authorization": f"Bearer {service.admin}", "Content-Type": "application/yaml"}
    uploaded = service.client.post("/v1/models", content=text, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    version = uploaded.json()["version"]
    done = _admin(service, "POST", f"/v1/models/brief/versions/{version}/activate?wait=true")
    assert done.status_code == 200, done.text


def test_priority_in_the_lead_view_and_in_deliveries(service: Service, receiver: Receiver) -> None:
    _activate(service, default_model_text() + PRIORITY)
    _subscribe(service, receiver.url, events=["threshold_crossed"], threshold=35)
    service.send("/v1/identify", {"userId": "u1", "traits": TRAITS})
    service.send("/v1/track", {"userId": "u1", "event": "Webinar Attended"})
    (result,) = service.lead("u1").json()["results"]
    # fit 30 -> grade B; engagement 10 -> band 3
    assert (result["grade"], result["engagement"], result["priority"]) == ("B", 10, "B3")
    listed = service.client.get("/v1/leads", headers={"Authorization": f"Bearer {service.read}"})
    assert listed.json()["leads"][0]["priority"] == "B3"
    assert _deliver(service) == 1
    (payload,) = receiver.payloads()
    # the webinar takes the score from 30 over 35 to 40: told with the priority it brought
    assert (payload["type"], payload["score"], payload["priority"]) == (
        "threshold_crossed",
        40,
        "B3",
    )
