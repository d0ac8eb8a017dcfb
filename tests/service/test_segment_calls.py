"""Segment's screen, group and alias calls (issue 14: they got 400, so the official client's
async mode dropped whole batches holding them), on each database.

Points by hand from the brief's model: a page view +1, a webinar +10; a company of 100+
employees +15 and a relevant industry (software) +5.
"""

from __future__ import annotations

from tests.service.test_ingestion import Service


def score(service: Service, lead_id: str) -> float:
    answer = service.lead(lead_id)
    assert answer.status_code == 200, answer.text
    return float(answer.json()["results"][0]["score"])


def test_a_screen_is_a_page_view(service: Service) -> None:
    answer = service.send("/v1/screen", {"userId": "app-user", "name": "Home"})
    assert answer.status_code == 200, answer.text
    assert score(service, "app-user") == 1  # page view +1


def test_a_group_gives_the_lead_its_company(service: Service) -> None:
    traits = {"name": "Acme", "employees": 250, "industry": "software", "plan": "pro"}
    answer = service.send("/v1/group", {"userId": "g1", "groupId": "acme-1", "traits": traits})
    assert answer.status_code == 200, answer.text
    attributes = service.lead("g1").json()["attributes"]
    assert attributes["account_id"] == "acme-1"
    assert (attributes["company"], attributes["company_size"]) == ("Acme", 250)
    assert attributes["company.plan"] == "pro"
    assert score(service, "g1") == 20  # 100+ employees +15, software +5


def test_a_group_rescores_every_lead_of_the_account(service: Service) -> None:
    service.send("/v1/identify", {"userId": "colleague", "traits": {"company_id": "acme-1"}})
    assert score(service, "colleague") == 0
    traits = {"name": "Acme", "employees": 250, "industry": "software"}
    answer = service.send("/v1/group", {"userId": "g1", "groupId": "acme-1", "traits": traits})
    assert answer.status_code == 200, answer.text
    assert score(service, "colleague") == 20  # the company's 100+ employees +15, software +5
    service.send("/v1/identify", {"userId": "joiner", "traits": {"company_id": "acme-1"}})
    assert score(service, "joiner") == 20  # joined later: given the company's traits


def test_a_group_needs_its_group_id(service: Service) -> None:
    answer = service.send("/v1/group", {"userId": "g1", "traits": {"name": "Acme"}})
    assert answer.status_code == 400
    assert answer.json()["field"] == "groupId"


def test_an_alias_gives_the_visitor_events_to_the_lead(service: Service) -> None:
    visit = {"anonymousId": "visitor-7", "name": "Pricing", "properties": {"path": "/blog"}}
    assert service.send("/v1/page", visit).status_code == 200
    answer = service.send("/v1/alias", {"previousId": "visitor-7", "userId": "u7"})
    assert answer.status_code == 200, answer.text
    assert score(service, "u7") == 1  # the visitor's page view counts for u7


def test_an_alias_merges_a_lead_into_another(service: Service) -> None:
    service.send("/v1/identify", {"userId": "old", "traits": {"industry": "software"}})
    service.send("/v1/track", {"userId": "old", "event": "Webinar Attended"})
    service.send("/v1/identify", {"userId": "new", "traits": {"email": "a@acme.example"}})
    answer = service.send("/v1/alias", {"previousId": "old", "userId": "new"})
    assert answer.status_code == 200, answer.text
    lead = service.lead("new").json()
    assert lead["attributes"]["industry"] == "software"  # filled in from the old lead
    assert lead["attributes"]["email"] == "a@acme.example"
    assert score(service, "new") == 15  # webinar +10, software +5
    assert service.lead("old").status_code == 404  # one person, ranked once
    listed = service.client.get("/v1/leads", headers={"Authorization": f"Bearer {service.read}"})
    assert [row["lead_id"] for row in listed.json()["leads"]] == ["new"]


def test_a_batch_of_every_call_is_taken_whole(service: Service) -> None:
    batch = [
        {"type": "identify", "userId": "b1", "traits": {"industry": "software"}},
        {"type": "screen", "userId": "b1", "name": "Settings"},
        {"type": "group", "userId": "b1", "groupId": "acme", "traits": {"employees": 500}},
        {"type": "page", "anonymousId": "anon-b", "properties": {"path": "/docs"}},
        {"type": "alias", "previousId": "anon-b", "userId": "b1"},
        {"type": "track", "userId": "b1", "event": "Webinar Attended"},
    ]
    answer = service.send("/v1/batch", {"batch": batch})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True, "accepted": 6, "rejected": [], "scored": True}
    # software +5, 500 employees +15; screen +1, the visitor's page +1, webinar +10
    assert score(service, "b1") == 32


def test_an_alias_needs_both_ids(service: Service) -> None:
    answer = service.send("/v1/alias", {"userId": "u1"})
    assert answer.status_code == 400
    assert answer.json()["field"] == "previousId"


def test_an_alias_carries_the_stage_history_over(service: Service) -> None:
    """An MQL merged into a new id stays an MQL: it is not a new lead, and sales must not be
    handed it a second time (issue 14: the merged-away lead's history was dropped)."""
    from leadscore._types import now_us
    from leadscore.store.store import StageTransition

    service.send("/v1/identify", {"userId": "old", "traits": {"industry": "software"}})
    service.send("/v1/track", {"userId": "old", "event": "Webinar Attended"})  # active today
    yesterday = now_us() - 86_400_000_000
    service.store.record_transitions(
        [StageTransition("old", "brief", yesterday, "Lead", "MQL", "advance", "by hand")]
    )
    service.send("/v1/identify", {"userId": "new", "traits": {"email": "a@acme.example"}})
    answer = service.send("/v1/alias", {"previousId": "old", "userId": "new"})
    assert answer.status_code == 200, answer.text
    history = service.store.transitions("new", "brief")
    assert [(t.from_stage, t.to_stage, t.kind) for t in history][:1] == [("Lead", "MQL", "advance")]
    assert service.store.transitions("old") == []
    assert service.store.lifecycle("new", "brief", 2**62)[0] == "MQL"
    stage = service.lead("new").json()["results"][0]["stage"]
    assert stage == "MQL"  # forward only: the merged lead keeps the stage it had reached
