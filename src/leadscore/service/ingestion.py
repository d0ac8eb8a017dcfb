"""Segment-compatible ingestion: ``/v1/identify``, ``/v1/track``, ``/v1/page``, ``/v1/screen``,
``/v1/group``, ``/v1/alias`` and ``/v1/batch``.

Request bodies are the Segment HTTP Tracking API's and the write key is the basic-auth user
name, so Segment's client libraries and webhook destinations send here unmodified. A write is
stored and its leads marked unscored in one transaction, then rescored and kept (with the
webhook deliveries owed) in a second: a crash in between leaves marks that the restart
rescores, so every message answered 2xx ends up stored and scored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from leadscore._types import now_us
from leadscore.app.ingestion import parse_messages, store_messages
from leadscore.service import metrics
from leadscore.service.auth import require
from leadscore.service.body import checked_json_body
from leadscore.service.errors import ApiError
from leadscore.service.runtime import Runtime, State
from leadscore.service.schemas import Batch, Ingested, errors, json_request
from leadscore.spec.segment import Alias, Group, Identify, Page, Screen, Track

KINDS = ("identify", "track", "page", "screen", "group", "alias")

router = APIRouter(
    prefix="/v1",
    tags=["ingestion"],
    dependencies=[require("ingest")],
    responses={200: {"model": Ingested}, **errors(400, 401, 403, 413)},
)
BODIES: dict[str, type[BaseModel]] = {
    "identify": Identify,
    "track": Track,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
}


@router.post("/batch", openapi_extra=json_request(Batch))
async def batch(request: Request, state: State) -> JSONResponse:
    """Several messages at once (``{"batch": [...]}``); good ones are kept, bad ones listed
    by index with the field and reason."""
    body, clean = await checked_json_body(request)
    items = body.get("batch")
    if not isinstance(items, list):
        raise ApiError(400, "batch: must be a list of messages", "batch")
    answer = await ingest(state, items, kind=None, text_checked=clean)
    return JSONResponse(answer, status_code=200 if answer["success"] else 400)


def _single(kind: str) -> Any:
    async def endpoint(request: Request, state: State) -> JSONResponse:
        body, clean = await checked_json_body(request)
        if body.setdefault("type", kind) != kind:
            raise ApiError(400, f"type: must be {kind} at /v1/{kind}", "type")
        answer = await ingest(state, [body], kind=kind, text_checked=clean)
        if answer["rejected"]:
            first = answer["rejected"][0]
            raise ApiError(400, f"{first['field']}: {first['error']}", str(first["field"]))
        return JSONResponse(answer)

    endpoint.__doc__ = f"One Segment {kind} message."
    return endpoint


for _kind in KINDS:
    router.post(f"/{_kind}", name=_kind, openapi_extra=json_request(BODIES[_kind]))(_single(_kind))


async def ingest(
    state: Runtime, items: list[Any], *, kind: str | None, text_checked: bool = False
) -> dict[str, Any]:
    """Parse the messages, store the good ones together with those of the requests arriving
    meanwhile (``Runtime.write_together``), and hand their leads to the rescoring rounds
    (``ScoringRounds``). The answer comes once their results are kept (at most
    ``Runtime.scored_within`` seconds later), or once they are stored (``Runtime.answer_after``)."""
    at = now_us()
    pending, rejected, kinds = parse_messages(items, kind, at, text_checked=text_checked)
    if rejected:
        metrics.EVENTS_REJECTED.inc(len(rejected))
    if items and len(rejected) == len(items):
        return {"success": False, "accepted": 0, "rejected": rejected, "error": "no message taken"}
    touched = await state.write_together(store_messages, pending, size=len(pending))
    answer = {"success": True, "accepted": len(items) - len(rejected), "rejected": rejected}
    if state.answer_after == "scored":
        answer["scored"] = await state.scorer.score(touched, within=state.scored_within)
    else:
        state.scorer.add(touched)
    for name in kinds:
        metrics.EVENTS_INGESTED.labels(type=name).inc()
    return answer
