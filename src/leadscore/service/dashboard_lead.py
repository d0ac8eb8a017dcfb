"""The dashboard's lead page: who the lead is, where its points come from (they add up to its
score), each stage and why in plain words, and sales' feedback, given with a button and shown
at once. Sessions and CSRF as on every dashboard page (``dashboard.py``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadscore._types import now_us
from leadscore.app.lead_history import lead_over_time, score_chart, timeline_rows
from leadscore.app.people import people
from leadscore.app.sales import ACTIONS, VERDICTS, act, told
from leadscore.engines.results import RuleContribution
from leadscore.errors import LeadscoreError, NotFoundError
from leadscore.service.dashboard import (
    CsrfField,
    chosen_model,
    current_session,
    points_text,
    refused_form,
    status_of,
    templates,
    to_login,
)
from leadscore.service.leads import predictions
from leadscore.service.runtime import State

router = APIRouter(include_in_schema=False)
FLASH: dict[str, str] = {
    **{v: f"Recorded: {v.replace('_', ' ')}." for v in VERDICTS},
    "converted": "Recorded: converted.",
    "recycle": "Recycled: the lead is back with marketing, its engagement starting again.",
}


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(
    request: Request,
    lead_id: str,
    state: State,
    model: str | None = None,
    done: str | None = None,
) -> Response:
    session = current_session(request, state)
    if session is None:
        return to_login(request)
    scoring_model = chosen_model(state, model)
    name = scoring_model.name
    at = now_us()
    try:
        result, points, events = lead_over_time(state.store, scoring_model, lead_id, at)
    except NotFoundError as exc:
        page = templates.TemplateResponse(
            request, "missing.html", {"session": session, "message": str(exc)}, status_code=404
        )
        return page
    who = people(state.store, [lead_id]).get(lead_id, {})
    contributions = [
        {
            "name": c.name,
            "kind": c.kind,
            "events": c.matches if c.kind == "engagement" else "",
            "points": points_text(c.points),
            "how": _how(c),
        }
        for c in result.contributions
        if c.points != 0 or c.matches or c.bot_filtered or c.filtered
    ]
    context = {
        "session": session,
        "lead_id": lead_id,
        "who": who,
        "model": name,
        "result": {
            "score": points_text(result.score),
            "fit": points_text(result.fit),
            "engagement": points_text(result.engagement),
            "tier": result.tier,
            "grade": result.grade,
            "stage": result.stage,
        },
        "contributions": contributions,
        "stages": result.stages,
        "chart": score_chart(scoring_model, points, events),
        "timeline": timeline_rows(scoring_model, events),
        "predictions": predictions(state.store, state.project, lead_id, at),
        "told": told(state.store, lead_id),
        "verdicts": list(ACTIONS.items()),
        "flash": FLASH.get(done or ""),
    }
    return templates.TemplateResponse(request, "lead.html", context)


@router.post("/leads/{lead_id}/feedback")
async def feedback(
    request: Request,
    lead_id: str,
    state: State,
    verdict: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: CsrfField = "",
) -> Response:
    session = current_session(request, state)
    if session is None:
        return to_login(request)
    if (refused := refused_form(session, csrf)) is not None:
        return refused
    scoring_model = chosen_model(state, request.query_params.get("model"))
    try:
        await state.write(act, state.store, scoring_model, lead_id, verdict, note, session.email)
    except LeadscoreError as exc:
        return HTMLResponse(str(exc), status_of(exc))
    query = urlencode({"done": verdict, **_model_of(request)})
    return RedirectResponse(f"/leads/{quote(lead_id, safe='')}?{query}", status_code=303)


def _how(c: RuleContribution) -> str:
    """How an engagement rule came to its points, in words: before decay, after decay, the
    cap, and the events that matched but did not count (bot clicks, outside its window or
    after its first with ``once``); a group's cap or the clip says what it took off."""
    if c.kind != "engagement" and c.kind != "fit":
        return {
            "group_daily_cap": f"taken off by the group {c.name}'s daily cap",
            "group_cap": f"taken off by the group {c.name}'s cap",
            "engagement_cap": "taken off by the cap on all engagement",
            "clip": "taken off by the score's clip",
        }.get(c.kind, "")
    if c.kind != "engagement":
        return ""
    said = []
    if c.raw != c.decayed:
        said.append(f"{points_text(c.raw)} before decay, {points_text(c.decayed)} after")
    if c.decayed != c.points:
        said.append(f"capped at {points_text(c.points)}")
    if c.bot_filtered:
        said.append(f"{c.bot_filtered} bot click{'s' if c.bot_filtered > 1 else ''} left out")
    if c.filtered:
        said.append(f"{c.filtered} not counted (outside its window or after the first)")
    return "; ".join(said)


def _model_of(request: Request) -> dict[str, Any]:
    model = request.query_params.get("model")
    return {"model": model} if model else {}
