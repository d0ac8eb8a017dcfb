"""The account API: companies ranked by their leads' kept results, with a cursor, and one
account with its leads, on both databases.

By hand from the brief's model: Webinar Attended +10 each (two a lead: 20, engaged from 19);
accounts are the email's company domain; a lead's fit here is 0 unless the account's
"buying team engaged" (+10 at 3 engaged leads) applies."""

from __future__ import annotations

from typing import Any

from tests.service.test_ingestion import Service


def _get(service: Service, path: str) -> Any:
    return service.client.get(path, headers={"Authorization": f"Bearer {service.read}"})


def _people(service: Service) -> None:
    people = [
        ("a1", "ann@acme.example", "Ann", "Acme GmbH", 2),
        ("a2", "bo@acme.example", "Bo", "Acme GmbH", 2),
        ("a3", "cy@acme.example", "Cy", "Acme", 0),
        ("f1", "di@fjord.example", "Di", "Fjord AS", 1),
        ("p1", "ed@pine.example", "Ed", None, 0),
    ]
    for lead_id, email, name, company, webinars in people:
        traits = {"email": email, "first_name": name}
        if company:
            traits["company"] = company
        service.send("/v1/identify", {"userId": lead_id, "traits": traits})
        for n in range(webinars):
            event = {"userId": lead_id, "event": "Webinar Attended", "messageId": f"{lead_id}{n}"}
            service.send("/v1/track", event)


def test_accounts_ranked_with_a_cursor(service: Service) -> None:
    _people(service)
    first = _get(service, "/v1/accounts?limit=1").json()
    # acme: 20 + 20 + 0 = 40 engagement, 2 engaged of 3 leads, best score 20
    assert first["accounts"] == [
        {"account_id": "acme.example", "company": "Acme GmbH", "leads": 3, "engaged_leads": 2,
         "fit": 0.0, "engagement": 40.0, "score": 20.0, "tier": "warm"}
    ]  # fmt: skip
    rest = _get(service, f"/v1/accounts?limit=5&cursor={first['next_cursor']}").json()
    assert [(a["account_id"], a["engagement"], a["company"]) for a in rest["accounts"]] == [
        ("fjord.example", 10.0, "Fjord AS"),
        ("pine.example", 0.0, None),
    ]
    assert rest["next_cursor"] is None
    assert _get(service, "/v1/accounts?cursor=bm9wZQ==").status_code == 400


def test_one_account_with_its_leads(service: Service) -> None:
    _people(service)
    body = _get(service, "/v1/accounts/acme.example").json()
    assert (body["account_id"], body["leads"], body["engaged_leads"]) == ("acme.example", 3, 2)
    assert [(x["lead_id"], x["name"], x["score"]) for x in body["leads_of_account"]] == [
        ("a1", "Ann", 20.0),
        ("a2", "Bo", 20.0),
        ("a3", "Cy", 0.0),
    ]
    missing = _get(service, "/v1/accounts/nowhere.example")
    assert missing.status_code == 404 and "nowhere.example" in missing.json()["error"]
    assert _get(service, "/v1/accounts/acme.example?model=nope").status_code == 404
    no_key = service.client.get("/v1/accounts")
    assert no_key.status_code == 401
