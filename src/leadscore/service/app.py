"""The HTTP service over one project: Segment-compatible ingestion (``ingestion``), the lead API
(``leads``), webhooks (``webhook_api``, sent by ``sender``), the models API (``models_api``),
health and Prometheus metrics.

Every accepted write is stored, and the leads it touches are scored again at once under every
model: their results are kept on the lead, stage changes are recorded, and the webhook
deliveries they owe are queued, all in one transaction.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from leadscore.app.project import Project
from leadscore.app.scoring import marked_leads
from leadscore.service import (
    accounts_api,
    api_docs,
    dashboard,
    dashboard_accounts,
    dashboard_admin,
    dashboard_lead,
    dashboard_leads,
    dashboard_model,
    dashboard_reports,
    errors,
    ingestion,
    leads,
    metrics,
    models_api,
    webhook_api,
)
from leadscore.service.body import BoundedForms
from leadscore.service.logs import RequestLog
from leadscore.service.options import AnswerAfter
from leadscore.service.runtime import Runtime
from leadscore.service.schemas import with_security
from leadscore.service.sender import Sender
from leadscore.service.url_guard import RefuseControlCharacters

logger = logging.getLogger(__name__)

#: How often the service copies SQLite's write-ahead log into the database.
CHECKPOINT_SECONDS = 1.0
#: How often the service looks for leads other processes marked unscored.
PICK_UP_SECONDS = 2.0


def create_app(
    project: Project,
    *,
    rescore_every: float | None = None,
    cors_origins: list[str] | None = None,
    webhook_poll: float = 1.0,
    answer_after: AnswerAfter = "scored",
    owns_process: bool = False,
) -> FastAPI:
    """The service for ``project``; one store (connection pool) for the app's lifetime.

    With ``rescore_every`` (seconds), every lead is rescored on that schedule while the
    service runs, in the rescoring rounds (so writes go on meanwhile): time alone moves
    decayed scores and "inactive for N days" stages, and the changes it causes are recorded
    and sent to webhooks.
    ``cors_origins``: the web origins whose pages may call the API (browser tracking).
    ``answer_after``: "scored" answers an ingestion request once its leads' results are
    kept; "stored" once its messages are stored, which keeps answers fast under load (the
    results follow within a rescoring round; a crash in between is caught up on restart).
    ``owns_process``: the app is its process's only work (what ``leadscore serve`` does), so
    it may tune it: rescoring rounds compute in a process of their own, so that requests are
    answered while a round computes, and the heap built at startup is frozen out of the
    garbage collector's sight (``gc.freeze``), so that a full collection pauses ~1 ms, not
    ~100 ms."""
    store = project.store()
    state = Runtime(
        project,
        store,
        project.models(),
        Sender(store, poll=webhook_poll),
        answer_after=answer_after,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if owns_process:
            await state.scorer.start_process()
        await _catch_up(state)
        if owns_process:  # what startup made (modules, models, pools) lives as long as it
            gc.freeze()
            state.scorer.freeze_after_first_round = True
        sending = asyncio.create_task(state.sender.run())
        checkpoints = asyncio.create_task(checkpoint_wal()) if store.defer_checkpoints() else None
        scheduled = asyncio.create_task(schedule()) if rescore_every else None
        picking = asyncio.create_task(pick_up())
        yield
        # uvicorn has answered the requests in flight, so every accepted write is kept; the
        # leads handed to rescoring are rescored, a scheduled rescoring under way finishes
        # (the write lane), deliveries in flight are recorded
        picking.cancel()
        with suppress(asyncio.CancelledError):
            await picking
        await state.scorer.idle()
        state.scorer.stop_process()
        async with state.writing:
            if scheduled is not None:
                scheduled.cancel()
                with suppress(asyncio.CancelledError):
                    await scheduled
        if checkpoints is not None:
            checkpoints.cancel()
            with suppress(asyncio.CancelledError):
                await checkpoints
        state.sender.stop()
        await sending
        await state.sender.close()
        store.close()

    async def checkpoint_wal() -> None:
        """SQLite: keep the write-ahead log short off the request path (``defer_checkpoints``)."""
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await asyncio.to_thread(store.checkpoint)
            except Exception:  # the next one may succeed; the log only grows meanwhile
                logger.exception("checkpoint of the write-ahead log failed")

    async def pick_up() -> None:
        """Rescore the leads other processes marked (``leadscore import`` writing while the
        service runs): their results follow within ``PICK_UP_SECONDS`` and a round."""
        while True:
            await asyncio.sleep(PICK_UP_SECONDS)
            try:
                behind = set(await asyncio.to_thread(marked_leads, store))
            except Exception:  # the next look may succeed
                logger.exception("reading the leads marked unscored failed")
                continue
            state.scorer.add(behind - state.scorer.pending_leads())

    async def schedule() -> None:
        assert rescore_every
        while True:
            await asyncio.sleep(rescore_every)
            started = time.perf_counter()
            try:  # in the rounds, a bounded number of leads at a time: writes go on
                await state.scorer.score(await asyncio.to_thread(store.all_lead_ids))
            except Exception:  # the schedule goes on: the next run may succeed
                logger.exception("scheduled rescoring failed")
            metrics.RESCORE_SECONDS.observe(time.perf_counter() - started)

    app = FastAPI(
        title="leadscore",
        summary="Lead scoring in real time: Segment-compatible ingestion, the lead API and "
        "webhooks.",
        lifespan=lifespan,
        docs_url=None,  # /docs is api_docs' page: FastAPI's loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.runtime = state
    app.state.store = store
    app.state.trusted_keys = {}  # key -> (scope, trusted until): auth.scope_of
    errors.install(app)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
        )

    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(BoundedForms)
    app.add_middleware(RequestLog)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the service answers."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus() -> Response:
        """Prometheus metrics: events ingested and rejected, scoring latency, webhook
        deliveries and failures. On the event loop: gauges read the scorer's state, which
        only the loop changes."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    routers = (ingestion.router, leads.router, accounts_api.router, webhook_api.router,
               models_api.router, dashboard.router, dashboard_leads.router, dashboard_lead.router,
               dashboard_accounts.router, dashboard_reports.router,
               dashboard_model.router, dashboard_admin.router, api_docs.router)  # fmt: skip
    for router in routers:
        app.include_router(router)

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_security(FastAPI.openapi(app), ("/healthz", "/metrics"))
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
    return app


async def _catch_up(state: Runtime) -> None:
    """Rescore the leads a crash left unscored (stored, not yet kept): their results, stage
    changes and webhooks follow as if the service had not stopped."""
    behind = await asyncio.to_thread(marked_leads, state.store)
    if behind:
        logger.info("rescoring %d leads left unscored by the last run", len(behind))
        await state.scorer.score(behind)
