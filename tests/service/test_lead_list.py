"""Leads ranked by their kept score: filters, text search and stable cursor pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from leadscore.store.predictions import keep_predictions, kept_predictions
from tests.service.test_ingestion import Service


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    running = Service(tmp_path, database_url)
    # engagement by hand (no traits, so fit 0): u1 webinar 10; u2 webinar + form 15; u3 one
    # page view 1; u4 nothing; u5 webinar registered + attended 20 (warm); u6 a form 5
    batch: list[dict[str, Any]] = [
        {"type": "track", "userId": "u1", "event": "Webinar Attended"},
        {"type": "track", "userId": "u2", "event": "Webinar Attended"},
        {"type": "track", "userId": "u2", "event": "Form Submitted"},
        {"type": "page", "userId": "u3", "properties": {"path": "/"}},
        {"type": "identify", "userId": "u4", "traits": {}},
        {"type": "track", "userId": "u5", "event": "Webinar Registered"},
        {"type": "track", "userId": "u5", "event": "Webinar Attended"},
        {"type": "identify", "userId": "u6", "traits": {"company": "Zeta Robotics"}},
        {"type": "track", "userId": "u6", "event": "Form Submitted"},
    ]
    assert running.send("/v1/batch", {"batch": batch}).json()["accepted"] == 9
    yield running
    running.store.close()


def _page(service: Service, query: str) -> Any:
    answer = service.client.get(
        f"/v1/leads?{query}", headers={"Authorization": f"Bearer {service.read}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_pages_follow_the_score_and_the_cursor(service: Service) -> None:
    first = _page(service, "limit=2")
    assert [(row["lead_id"], row["score"]) for row in first["leads"]] == [("u5", 20), ("u2", 15)]
    second = _page(service, f"limit=2&cursor={first['next_cursor']}")
    assert [row["lead_id"] for row in second["leads"]] == ["u1", "u6"]
    last = _page(service, f"limit=2&cursor={second['next_cursor']}")
    assert [row["lead_id"] for row in last["leads"]] == ["u3", "u4"]  # 1, then 0
    assert last["next_cursor"] is None


def test_filters_and_text_search(service: Service) -> None:
    assert [row["lead_id"] for row in _page(service, "tier=warm")["leads"]] == ["u5"]
    cold = _page(service, "tier=cold&stage=Lead")["leads"]
    assert [row["lead_id"] for row in cold] == ["u2", "u1", "u6", "u3", "u4"]
    found = _page(service, "q=zeta")["leads"]
    assert [(row["lead_id"], row["attributes"]["company"]) for row in found] == [
        ("u6", "Zeta Robotics")
    ]
    assert _page(service, "q=U3")["leads"][0]["lead_id"] == "u3"  # ids too, any case
    assert _page(service, "q=%25")["leads"] == []  # a literal %, not a wildcard


def test_bad_list_requests(service: Service) -> None:
    headers = {"Authorization": f"Bearer {service.read}"}
    bad = service.client.get("/v1/leads?cursor=nonsense", headers=headers)
    assert (bad.status_code, bad.json()["field"]) == (400, "cursor")
    unknown = service.client.get("/v1/leads?model=nope", headers=headers)
    assert unknown.status_code == 404 and "brief" in unknown.json()["error"]
    too_many = service.client.get("/v1/leads?limit=5000", headers=headers)
    assert too_many.status_code == 400 and too_many.json()["field"] == "limit"


def test_leads_the_clip_puts_at_100_rank_by_how_far_past_it_they_are(service: Service) -> None:
    """z0 attends 12 webinars (120 points), z1 15 (150): both read 100 once clipped; z1 comes
    first though its id sorts later, and a page break between them keeps the order."""
    batch = [
        {"type": "track", "userId": lead, "event": "Webinar Attended", "messageId": f"{lead}-{n}"}
        for lead, count in (("z0", 12), ("z1", 15))
        for n in range(count)
    ]
    assert service.send("/v1/batch", {"batch": batch}).json()["accepted"] == 27
    first = _page(service, "limit=1")
    assert [(row["lead_id"], row["score"]) for row in first["leads"]] == [("z1", 100)]
    second = _page(service, f"limit=1&cursor={first['next_cursor']}")
    assert [(row["lead_id"], row["score"]) for row in second["leads"]] == [("z0", 100)]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [  # by hand: u3 gets fit 15 (100+ employees), u4 fit 20 (CEO); engagement as above
        ("score", ["u4", "u5", "u3", "u2", "u1", "u6"]),  # u4 and u5 tie at 20: by id
        ("engagement", ["u5", "u2", "u1", "u6", "u3", "u4"]),
    ],
)
def test_every_order_pages_through_every_lead(
    service: Service, sort: str, expected: list[str]
) -> None:
    for lead_id, traits in (("u3", {"company_size": 500}), ("u4", {"job_title": "CEO"})):
        assert (
            service.send("/v1/identify", {"userId": lead_id, "traits": traits}).status_code == 200
        )
    seen: list[str] = []
    cursor = ""
    while True:
        page = _page(service, f"sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [row["lead_id"] for row in page["leads"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == expected
    assert _page(service, f"sort={sort}&q=u")["leads"][0]["lead_id"] == expected[0]  # by ids


def test_kept_predictions_rank_filter_and_page_the_list(service: Service) -> None:
    trained = service.project.root / "models" / "predictive" / "buyers"
    (trained / "v1").mkdir(parents=True)
    (trained / "ACTIVE").write_text("1\n", encoding="utf-8")
    headers = {"Authorization": f"Bearer {service.read}"}
    no_model = service.client.get("/v1/leads?sort=chance", headers=headers)
    assert no_model.status_code == 200  # a trained model is in use, with nothing kept yet
    assert no_model.json()["leads"] == []
    # chances by hand: u3 and u4 tie at 42.0, so the points break the tie (u3 has 1, u4 0)
    chances = {"u1": 0.12, "u2": 0.873, "u3": 0.42, "u4": 0.42, "u5": 0.05, "u6": 0.6}
    table = pa.table(
        {
            "lead_id": list(chances),
            "model": ["buyers"] * 6,
            "version": [1] * 6,
            "probability": list(chances.values()),
            "score": [round(100 * p, 1) for p in chances.values()],
            "reasons": ["[]"] * 6,
        }
    )
    keep_predictions(service.store, table, 1_000, model="buyers", lead_ids=None)
    order, cursor = [], None
    while True:
        page = _page(service, "sort=chance&limit=4" + (f"&cursor={cursor}" if cursor else ""))
        order += [(row["lead_id"], row["chance"]["score"]) for row in page["leads"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert order == [
        ("u2", 87.3), ("u6", 60.0), ("u3", 42.0), ("u4", 42.0), ("u1", 12.0), ("u5", 5.0)
    ]  # fmt: skip
    above = _page(service, "sort=chance&min_chance=42")["leads"]
    assert [row["lead_id"] for row in above] == ["u2", "u6", "u3", "u4"]
    by_score = _page(service, "min_chance=50")["leads"]  # the points' order, filtered
    assert [row["lead_id"] for row in by_score] == ["u2", "u6"]
    one = _page(service, "limit=1")["leads"][0]
    assert (one["lead_id"], one["chance"]["probability"]) == ("u5", 0.05)
    keep_predictions(service.store, table.slice(0, 1), 2_000, model="buyers", lead_ids=["u1"])
    kept = kept_predictions(service.store, "buyers", ["u1", "u2"])
    assert (kept["u1"]["as_of"], kept["u2"]["as_of"]) == (2_000, 1_000)  # only u1 rewritten


def test_ranking_by_chance_needs_a_trained_model(service: Service) -> None:
    headers = {"Authorization": f"Bearer {service.read}"}
    refused = service.client.get("/v1/leads?sort=chance", headers=headers)
    assert refused.status_code == 400 and refused.json()["field"] == "sort"
    assert "no trained model is in use" in refused.json()["error"]
    filtered = service.client.get("/v1/leads?min_chance=20", headers=headers)
    assert filtered.status_code == 400 and filtered.json()["field"] == "min_chance"
    out_of_range = service.client.get("/v1/leads?min_chance=150", headers=headers)
    assert out_of_range.status_code == 400 and out_of_range.json()["field"] == "min_chance"
