"""The dashboard's reports page: the lab's report (``app/report.py``: funnel and SLA, does
the model work, attribution, drift) for the model in use over the last 90 days, as the
``leadscore report`` page. Making it replays the model day by day, so a made report is kept
for ``KEEP_SECONDS`` per model and day; ``?fresh=1`` makes it again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from leadscore._types import now_us
from leadscore.app.report import build_report
from leadscore.app.report_page import page
from leadscore.engines.semantics import DAY_US
from leadscore.errors import LeadscoreError
from leadscore.service.dashboard import chosen_model, current_session, to_login
from leadscore.service.runtime import State

router = APIRouter(include_in_schema=False)
KEEP_SECONDS = 600
PERIOD_DAYS = 90


@router.get("/reports", response_class=HTMLResponse)
async def reports(
    request: Request, state: State, model: str | None = None, fresh: bool = False
) -> Response:
    session = current_session(request, state)
    if session is None:
        return to_login(request)
    scoring_model = chosen_model(state, model)
    name = scoring_model.name
    now = now_us()
    key = (name, now // DAY_US)
    if not hasattr(request.app.state, "reports"):  # made reports, per app (its store)
        request.app.state.reports = {}
    cache: dict[tuple[str, int], tuple[float, str]] = request.app.state.reports
    kept = cache.get(key)
    if kept is None or fresh or time.monotonic() - kept[0] > KEEP_SECONDS:
        try:
            found: dict[str, Any] = await asyncio.to_thread(
                build_report, state.store, scoring_model, now - PERIOD_DAYS * DAY_US, now
            )
        except LeadscoreError as exc:
            return HTMLResponse(f"The report could not be made: {exc}", 400)
        kept = (time.monotonic(), page(found, back=("/leads", "Leads")))
        cache[key] = kept
    return HTMLResponse(kept[1])
