"""The dashboard's leads page: leads ranked by their kept score under one model, with who
they are, their last activity and, when a trained model is active, their chance to convert
(the kept prediction, ``app.predictions``; the list can rank by it);
filters (tier, stage, grade, owner, text, "my leads"), keyset pages, and live refresh: the
page asks for its rows again every few seconds (a small inline script; without script the
page still works, reloaded by hand) and swaps them in when they changed."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from leadscore._types import format_as_of
from leadscore.app.predictions import chance_model
from leadscore.app.ranked import ORDERS, order_key, ranked_leads
from leadscore.engines.plan import compile_plan
from leadscore.service.cursors import ranked_cursor, ranked_position
from leadscore.service.dashboard import (
    PAGE,
    chosen_model,
    current_session,
    points_text,
    templates,
    to_login,
)
from leadscore.service.runtime import Runtime, State

router = APIRouter(include_in_schema=False)
#: The header the page's refresh script sends: answer with the rows only.
ROWS_ONLY = "x-leadscore-rows"
#: The orders the page offers, in words.
SORTS = {
    "score": "score",
    "engagement": "engagement (what they do)",
    "chance": "chance to convert (the trained model)",
}
#: Seconds between two refreshes of an open leads page.
REFRESH_SECONDS = 3


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    state: State,
    model: str | None = None,
    tier: str | None = None,
    stage: str | None = None,
    grade: str | None = None,
    owner: str | None = None,
    mine: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    after: str | None = None,
) -> Response:
    """Leads ranked by their kept score under one model (or by engagement), with filters
    and pages."""
    current = current_session(request, state)
    if current is None:
        return to_login(request)
    scoring_model = chosen_model(state, model)
    name = scoring_model.name
    plan = compile_plan(scoring_model)
    chance_of = chance_model(state.project)
    offered = SORTS if chance_of is not None else {k: v for k, v in SORTS.items() if k != "chance"}
    order = sort if sort in ORDERS and sort in offered else "score"
    filters = {"tier": tier, "stage": stage, "grade": grade, "owner": owner, "q": q}
    chosen = {key: value for key, value in filters.items() if value}
    found = ranked_leads(
        state.store,
        name,
        tier=chosen.get("tier"),
        stage=chosen.get("stage"),
        grade=chosen.get("grade"),
        owner=current.email if mine else chosen.get("owner"),
        text=chosen.get("q"),
        after=ranked_position(after) if after else None,
        limit=PAGE + 1,
        order=order,
        chance_of=chance_of,
    )
    rows = _rows(state, found[:PAGE])
    next_page = None
    if len(found) > PAGE:
        query = {"model": name, "sort": order, **chosen, **({"mine": "1"} if mine else {})}
        last = order_key(found[PAGE - 1], order)
        next_page = "/leads?" + urlencode({**query, "after": ranked_cursor(last)})
    context = {
        "session": current,
        "models": state.model_names(),
        "model": name,
        "tiers": [t for t, _ in plan.tiers],
        "stages": [s.name for s in plan.stages],
        "grades": [g for g, _ in plan.grades],
        "mine": bool(mine),
        "sort": order,
        "sorts": offered,
        **{key: value or "" for key, value in filters.items()},
        "rows": rows,
        "chances": any(row["chance"] is not None for row in rows),
        "next_page": next_page,
        "version": hashlib.sha256(repr((rows, next_page)).encode()).hexdigest()[:16],
        "refresh_ms": REFRESH_SECONDS * 1000,
    }
    page = "leads_rows.html" if request.headers.get(ROWS_ONLY) else "leads.html"
    return templates.TemplateResponse(request, page, context)


def _rows(state: Runtime, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's rows: who, score, tier, grade, stage, owner, last activity, chance."""
    ids = [row["lead_id"] for row in found]
    latest = state.store.last_activity(ids) if ids else {}
    rows = []
    for row in found:
        who, lead_id = row["who"], row["lead_id"]
        rows.append(
            {
                "lead_id": lead_id,
                "name": who.get("name") or who.get("email", ""),
                "company": who.get("company", ""),
                "owner": who.get("owner", ""),
                "score": points_text(row["score"]),
                "tier": row["tier"],
                "grade": row["grade"],
                "stage": row["stage"],
                "last_activity": format_as_of(latest[lead_id])[:16] if lead_id in latest else "",
                "chance": row.get("chance"),  # the kept prediction's probability
            }
        )
    return rows
