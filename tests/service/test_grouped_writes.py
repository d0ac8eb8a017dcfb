"""Group commit: requests that arrive while a write runs are written together. Each must still
be answered only once it is kept, and each lead's kept result must equal replaying it alone."""

from __future__ import annotations

import asyncio

import httpx2

from leadscore import default_model, explain_lead
from leadscore.service import metrics
from leadscore.store.scores import stored_scores
from tests.service.serve import serving
from tests.service.test_ingestion import TRAITS, Service

REQUESTS = 60
LEADS = 6


def test_concurrent_requests_are_written_together_and_each_is_kept(service: Service) -> None:
    for n in range(LEADS):
        traits = {**TRAITS, "email": f"p{n}@co{n % 2}.example"}
        service.send("/v1/identify", {"userId": f"u{n}", "traits": traits})
    before = _count()

    async def send_all(url: str) -> list[int]:
        async with httpx2.AsyncClient(base_url=url, auth=(service.ingest, "")) as client:

            async def one(n: int) -> int:
                body = {"userId": f"u{n % LEADS}", "event": "Webinar Attended",
                        "messageId": f"m{n}"}  # fmt: skip
                return (await client.post("/v1/track", json=body, timeout=30)).status_code

            return await asyncio.gather(*(one(n) for n in range(REQUESTS)))

    with serving(service.app) as url:
        statuses = asyncio.run(send_all(url))
    assert statuses == [200] * REQUESTS
    writes = _count() - before
    assert 1 <= writes < REQUESTS  # requests shared writes

    model = default_model()
    for n in range(LEADS):
        [kept] = stored_scores(service.store, f"u{n}")
        replayed = explain_lead(service.store, model, f"u{n}", kept["as_of"])
        assert (kept["score"], kept["stage"]) == (replayed.score, replayed.stage)
        # 60 requests over 6 leads: 10 webinars today each, 10 points apiece, none lost
        assert kept["engagement"] == replayed.engagement == 100_000


def _count() -> float:
    for sample in metrics.SCORING_SECONDS.collect()[0].samples:
        if sample.name.endswith("_count"):
            return sample.value
    raise AssertionError("no _count sample")
