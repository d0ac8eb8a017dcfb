"""The dashboard's model pages, for ops and admin: the model in use in words, its versions,
what a version changes, a backtest of a version against the one in use (the lab), upload of
a candidate (problems listed with their line, as ``leadscore validate`` lists them) and
activation (every lead rescored in the background, as the models API does it)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadscore._types import now_us
from leadscore.app.backtest import run_backtest
from leadscore.app.backtest_metrics import state_words
from leadscore.app.model_diff import diff_models
from leadscore.app.model_versions import model_by_reference, upload, versions
from leadscore.app.people import label
from leadscore.app.users import Session
from leadscore.engines.semantics import DAY_US
from leadscore.errors import LeadscoreError, ModelFileError
from leadscore.service.dashboard import CsrfField, TextField, allowed, chosen_model, templates
from leadscore.service.models_api import switch_version
from leadscore.service.runtime import State
from leadscore.spec.model import ScoringModel
from leadscore.spec.wording import predicate_words, tree_words

router = APIRouter(include_in_schema=False)
BACKTEST_DAYS = 90
MAX_MODEL_TEXT = 1_000_000


def _ops(request: Request, state: Any, csrf: str | None = None) -> Session | Response:
    """The session when its role may change models (and, for a form, ``csrf`` is its
    token), else the answer that says why not."""
    return allowed(request, state, "ops", "see models", csrf)


def _in_words(scoring_model: ScoringModel) -> dict[str, Any]:
    fit = [
        {
            "name": r.name,
            "points": f"{r.points:g}",
            "when": "; ".join(predicate_words(p) for p in r.when),
        }
        for r in scoring_model.fit
    ]
    engagement = []
    for rule in scoring_model.engagement:
        limits = [
            f"{name} {value:g}" if isinstance(value, float | int) else name
            for name, value in (
                ("cap", rule.cap),
                ("daily cap", rule.daily_cap),
                ("within days", rule.within_days),
                ("once", rule.once or None),
            )
            if value is not None
        ]
        what = rule.event or f"{rule.type} calls"
        engagement.append(
            {
                "name": rule.name,
                "what": what,
                "points": f"{rule.points:g}",
                "limits": ", ".join(limits),
            }
        )
    tiers = [
        f"{t.name} from {t.min:g}" if t.min is not None else t.name for t in scoring_model.tiers
    ]
    stages = [
        {
            "name": s.name,
            "when": tree_words(s.when) if s.when is not None else "",
            "withdraw": tree_words(s.withdraw.when) if s.withdraw is not None else "",
        }
        for s in scoring_model.stages
    ]
    return {"fit": fit, "engagement": engagement, "tiers": tiers, "stages": stages}


@router.get("/model", response_class=HTMLResponse)
def model_page(
    request: Request,
    state: State,
    name: str | None = None,
    kept: int | None = None,
    activated: int | None = None,
) -> Response:
    session = _ops(request, state)
    if not isinstance(session, Session):
        return session
    flash = None  # said by the page from what happened, never text from the link
    if kept is not None:
        flash = f"Kept as v{kept}: backtest it, then activate it."
    if activated is not None:
        flash = f"v{activated} is in use; every lead is being rescored with it."
    return _model(request, state, session, name, flash=flash, problems=[], text="", code=200)


def _model(
    request: Request,
    state: Any,
    session: Session,
    name: str | None,
    *,
    flash: str | None,
    problems: list[str],
    text: str,
    code: int,
) -> Response:
    scoring_model = chosen_model(state, name)
    chosen = scoring_model.name
    context = {
        "session": session,
        "name": chosen,
        "versions": versions(state.project, chosen),
        "flash": flash,
        "problems": problems,
        "text": text,
        **_in_words(scoring_model),
    }
    return templates.TemplateResponse(request, "model.html", context, status_code=code)


@router.post("/model/upload", response_class=HTMLResponse)
async def upload_page(
    request: Request,
    state: State,
    text: Annotated[str, Form(max_length=MAX_MODEL_TEXT)] = "",
    csrf: CsrfField = "",
) -> Response:
    session = _ops(request, state, csrf)
    if not isinstance(session, Session):
        return session
    try:
        kept = await state.write(upload, state.project, text, "uploaded file")
    except ModelFileError as exc:
        lines = [str(issue) for issue in exc.issues]
        return _model(request, state, session, None, flash=None, problems=lines, text=text,
                      code=400)  # fmt: skip
    except LeadscoreError as exc:
        return _model(request, state, session, None, flash=None, problems=[str(exc)],
                      text=text, code=400)  # fmt: skip
    query = urlencode({"name": kept.name, "kept": kept.version})
    return RedirectResponse(f"/model?{query}", status_code=303)


@router.get("/model/diff", response_class=HTMLResponse)
def diff_page(request: Request, state: State, name: str, version: int) -> Response:
    session = _ops(request, state)
    if not isinstance(session, Session):
        return session
    try:
        candidate = model_by_reference(state.project, f"{name}@{version}")
        in_use = model_by_reference(state.project, name)
    except LeadscoreError as exc:
        return HTMLResponse(str(exc), 404)
    changes = [change.line() for change in diff_models(in_use.model, candidate.model)]
    context = {
        "session": session,
        "name": name,
        "title": f"v{version} against the version in use",
        "lines": changes or ["No change."],
    }
    return templates.TemplateResponse(request, "model_result.html", context)


@router.post("/model/backtest", response_class=HTMLResponse)
async def backtest_page(
    request: Request,
    state: State,
    name: TextField = "",
    version: Annotated[int, Form()] = 0,
    csrf: CsrfField = "",
) -> Response:
    session = _ops(request, state, csrf)
    if not isinstance(session, Session):
        return session
    try:
        candidate = model_by_reference(state.project, f"{name}@{version}")
        in_use = model_by_reference(state.project, name)
        end = now_us()
        found = await asyncio.to_thread(
            run_backtest,
            state.store,
            [(candidate.label, candidate.model), (in_use.label, in_use.model)],
            end - BACKTEST_DAYS * DAY_US,
            end,
            differences_limit=25,
        )
    except LeadscoreError as exc:
        return HTMLResponse(str(exc), 400)
    rows = [
        ["hand-over stage", *[r.handover or "-" for r in found.results]],
        ["handed over", *[f"{r.handed_over:,}" for r in found.results]],
        ["converted after (precision)", *[_rate(r.precision) for r in found.results]],
        ["conversions handed over first (recall)", *[_rate(r.recall) for r in found.results]],
    ]
    differences = [
        {
            "who": label(found.people.get(d.lead_id, {})) or d.lead_id,
            "first": state_words(d.first),
            "second": state_words(d.second),
            "reason": d.reason,
        }
        for listed in found.differences.values()
        for d in listed
    ]
    context = {
        "session": session,
        "name": name,
        "title": f"Backtest of v{version} over the last {BACKTEST_DAYS} days",
        "table": {"head": found.labels, "rows": rows},
        "differences": differences,
        "lines": [] if differences else ["No lead is treated differently at the end."],
    }
    return templates.TemplateResponse(request, "model_result.html", context)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@router.post("/model/activate")
async def activate_page(
    request: Request,
    state: State,
    name: TextField = "",
    version: Annotated[int, Form()] = 0,
    csrf: CsrfField = "",
) -> Response:
    session = _ops(request, state, csrf)
    if not isinstance(session, Session):
        return session
    try:
        lead_ids = await switch_version(state, name, version)
    except LeadscoreError as exc:
        return HTMLResponse(str(exc), 400)
    state.scorer.add(lead_ids)
    query = urlencode({"name": name, "activated": version})
    return RedirectResponse(f"/model?{query}", status_code=303)
