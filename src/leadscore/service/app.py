"""The HTTP service: Segment-compatible ingestion and the lead API over one project.

Ingestion speaks the Segment HTTP Tracking API (``/v1/identify``, ``/v1/track``, ``/v1/page``,
``/v1/batch``, the write key as the basic-auth user name), so Segment's own client libraries
and webhook destinations send here unmodified. Every accepted write is stored, and the leads it
touches are scored again at once under every model: their results are kept on the lead and
stage changes are recorded, as ``leadscore score`` records them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadscore._types import format_as_of, now_us
from leadscore.engines.results import points
from leadscore.errors import InputError, NotFoundError
from leadscore.project import Project, explain_lead, explanation, rescore_all, rescore_leads
from leadscore.store.ingest import Pending, parse_message
from leadscore.store.keys import ALLOWS, key_scope
from leadscore.store.outcomes import (
    OUTCOMES,
    VERDICTS,
    erase_lead,
    lead_records,
    record_feedback,
    record_outcome,
)
from leadscore.store.scores import ranked_scores
from leadscore.store.segment import MessageError, parse_timestamp
from leadscore.store.store import Store

logger = logging.getLogger(__name__)

#: The largest request body taken (Segment's own limit for a batch is 500 KB).
MAX_BODY_BYTES = 1_000_000
KINDS = ("identify", "track", "page")


class ApiError(Exception):
    """An error answered as ``{"error": message, "field": field}`` with ``status``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def create_app(project: Project, *, rescore_every: float | None = None) -> FastAPI:
    """The service for ``project``; one store (connection pool) for the app's lifetime.

    With ``rescore_every`` (seconds), every lead is rescored on that schedule while the
    service runs (``rescore_all``): time alone moves decayed scores and "inactive for N
    days" stages, and the stage changes it causes are recorded."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(schedule()) if rescore_every else None
        yield
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        store.close()

    async def schedule() -> None:
        assert rescore_every
        while True:
            await asyncio.sleep(rescore_every)
            try:
                async with writing:
                    await run_in_threadpool(
                        partial(rescore_all, store, models, now_us(), cache=project.prepared_cache)
                    )
            except Exception:  # the schedule goes on: the next run may succeed
                logger.exception("scheduled rescoring failed")

    app = FastAPI(
        title="leadscore",
        summary="Lead scoring in real time: Segment-compatible ingestion and the lead API.",
        lifespan=lifespan,
    )
    store = project.store()
    models = project.models()
    app.state.store = store

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.message}
        if exc.field is not None:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": 'Basic realm="leadscore"'} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=exc)
        return JSONResponse({"error": "internal error; the service log has the details"}, 500)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or "body"
        return JSONResponse({"error": f"{field}: {first['msg']}", "field": field}, 400)

    def scope_of(request: Request) -> str:
        key = _key_of(request.headers.get("authorization"))
        scope = key_scope(store, key)
        if scope is None:
            raise ApiError(401, "unknown or revoked API key")
        return scope

    def require(needed: str) -> Any:
        # a default, not Annotated: the annotation of a closure is not resolvable as a string
        def check(scope: str = Depends(scope_of)) -> None:
            if needed not in ALLOWS[scope]:
                raise ApiError(403, f"a {scope} key cannot do this; it needs a {needed} key")

        return Depends(check)

    # writes run one at a time, off the event loop: reads and health checks stay answered,
    # and two writes never rescore the same lead side by side
    writing = asyncio.Lock()

    async def ingest(items: list[Any], *, kind: str | None, single: bool) -> dict[str, Any]:
        async with writing:
            return await run_in_threadpool(
                partial(_ingest, store, models, items, kind=kind, single=single)
            )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/batch", dependencies=[require("ingest")])
    async def batch(request: Request) -> JSONResponse:
        body = await _json_body(request)
        items = body.get("batch")
        if not isinstance(items, list):
            raise ApiError(400, "batch: must be a list of messages", "batch")
        answer = await ingest(items, kind=None, single=False)
        return JSONResponse(answer, status_code=200 if answer["success"] else 400)

    def single(kind: str) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            body = await _json_body(request)
            return JSONResponse(await ingest([body], kind=kind, single=True))

        return endpoint

    for kind in KINDS:
        app.post(f"/v1/{kind}", dependencies=[require("ingest")], name=kind)(single(kind))

    names = [m.name for m in models]

    @app.get("/v1/leads", dependencies=[require("read")])
    def ranked(
        model: str | None = None,
        tier: str | None = None,
        stage: str | None = None,
        grade: str | None = None,
        q: str | None = None,
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Leads ranked by their kept score under one model (default: the first), with filters
        and a cursor for the next page (``next_cursor``; null on the last page)."""
        name = model if model is not None else names[0]
        if name not in names:
            raise ApiError(404, f"no model named {name!r}; models here: {names}", "model")
        rows = ranked_scores(
            store,
            name,
            tier=tier,
            stage=stage,
            grade=grade,
            text=q,
            after=None if cursor is None else _after(cursor),
            limit=limit + 1,
        )
        page = rows[:limit]
        more = len(rows) > limit
        return {
            "model": name,
            "leads": [
                {
                    "lead_id": row["lead_id"],
                    "score": points(row["score"]),
                    "fit": points(row["fit"]),
                    "engagement": points(row["engagement"]),
                    "tier": row["tier"],
                    "grade": row["grade"],
                    "stage": row["stage"],
                    "scored_at": format_as_of(row["as_of"]),
                    "attributes": json.loads(row["attributes"]),
                }
                for row in page
            ],
            "next_cursor": _cursor(page[-1]) if more else None,
        }

    @app.get("/v1/leads/{lead_id}", dependencies=[require("read")])
    def lead(lead_id: str) -> dict[str, Any]:
        """The lead's attributes and, per model that applies to it, its result as of now with
        the explanation and the stage history."""
        attributes = store.lead(lead_id)
        at = now_us()
        results = []
        for scoring_model in models:
            try:
                explained = explain_lead(store, scoring_model, lead_id, at)
            except NotFoundError:
                continue  # the model does not apply to this lead
            history = [t for t in store.transitions(lead_id, scoring_model.name) if t.at <= at]
            results.append(explanation(explained, history))
        return {
            "lead_id": lead_id,
            "attributes": attributes,
            "results": results,
            **_records(store, lead_id),
        }

    @app.post("/v1/leads/{lead_id}/outcomes", status_code=201, dependencies=[require("admin")])
    async def outcome(lead_id: str, request: Request) -> dict[str, Any]:
        """Record what became of the lead: converted, won or lost, with a value and a time."""
        body = await _json_body(request)
        value = body.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ApiError(400, "value: must be a number", "value")
        at = body.get("at")
        if at is not None and not isinstance(at, str):
            raise ApiError(400, "at: must be an ISO 8601 time with a UTC offset", "at")
        try:
            moment = None if at is None else parse_timestamp(at, "at")
        except MessageError as exc:
            raise ApiError(400, f"at: {exc.reason}", "at") from None
        row = record_outcome(store, lead_id, _choice(body, "outcome", OUTCOMES), moment, value)
        return {**row, "at": format_as_of(row["at"])}

    @app.post("/v1/leads/{lead_id}/feedback", status_code=201, dependencies=[require("admin")])
    async def feedback(lead_id: str, request: Request) -> dict[str, Any]:
        """Record sales' verdict on the lead: good_fit, bad_fit or not_interested."""
        body = await _json_body(request)
        note = body.get("note", "")
        if not isinstance(note, str):
            raise ApiError(400, "note: must be text", "note")
        row = record_feedback(store, lead_id, _choice(body, "feedback", VERDICTS), note)
        return {**row, "at": format_as_of(row["at"])}

    @app.delete("/v1/leads/{lead_id}", dependencies=[require("admin")])
    def erase(lead_id: str) -> dict[str, Any]:
        """Erase the lead and everything about it (right to erasure); only an audit row that
        does not name it is left."""
        return {"erased": lead_id, "rows_deleted": erase_lead(store, lead_id)}

    return app


def _choice(body: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = body.get(field)
    if value not in choices:
        raise ApiError(400, f"{field}: must be one of {', '.join(choices)}", field)
    return str(value)


def _records(store: Store, lead_id: str) -> dict[str, Any]:
    found = lead_records(store, lead_id)
    for rows in found.values():
        for row in rows:
            row.pop("id", None)
            row.pop("lead_id", None)
            for name in ("at", "recorded_at"):
                if name in row:
                    row[name] = format_as_of(row[name])
    return found


def _cursor(row: dict[str, Any]) -> str:
    text = json.dumps([row["score"], row["lead_id"]])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _after(cursor: str) -> tuple[int, str]:
    try:
        score, lead_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(score), str(lead_id)
    except (ValueError, TypeError, binascii.Error):
        raise ApiError(400, "cursor: not a cursor this service gave", "cursor") from None


def _key_of(header: str | None) -> str:
    """The API key of an ``Authorization`` header: Segment's basic auth (the key is the user
    name, the password empty) or a bearer token."""
    if not header:
        raise ApiError(401, "no API key: send it as the basic-auth user name or a bearer token")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "the basic-auth credentials are not valid base64") from None
        if user:
            return user
    raise ApiError(401, "no API key: send it as the basic-auth user name or a bearer token")


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            raise ApiError(400, "the body is not valid gzip") from None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _ingest(
    store: Store, models: list[Any], items: list[Any], *, kind: str | None, single: bool
) -> dict[str, Any]:
    """Parse, store and score: one transaction per table, then the touched leads rescored.

    Bad items are answered by index with the field and reason; the others are kept. A
    message without a timestamp happened when it was received (as Segment does)."""
    at = now_us()
    pending = Pending()
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise MessageError("message", "must be a JSON object")
            message = dict(item)
            if kind is not None:
                message.setdefault("type", kind)
            if not (message.get("timestamp") or message.get("originalTimestamp")):
                message["timestamp"] = _iso(at)
            pending.add(*parse_message(message, at))
        except MessageError as exc:
            rejected.append({"index": index, "field": exc.field, "error": exc.reason})
    if single and rejected:
        first = rejected[0]
        raise ApiError(400, f"{first['field']}: {first['error']}", str(first["field"]))
    if items and len(rejected) == len(items):
        return {"success": False, "accepted": 0, "rejected": rejected, "error": "no message taken"}
    touched = pending.lead_ids()
    anonymous = pending.anonymous_ids()
    pending.flush(store)
    touched |= store.anonymous_leads(anonymous)
    rescore_leads(store, models, touched, now_us())
    return {"success": True, "accepted": len(items) - len(rejected), "rejected": rejected}


def _iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1_000_000, UTC).isoformat()
