"""The dashboard's accounts pages: companies ranked by the engagement of their leads (the
brief's "how many people from one company" signal), and one company with its leads. The
numbers are the account API's (``app/accounts.py``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from leadscore.app.accounts import kept_account, kept_accounts
from leadscore.errors import NotFoundError
from leadscore.service.cursors import cursor, position
from leadscore.service.dashboard import (
    PAGE,
    chosen_model,
    current_session,
    points_text,
    templates,
    to_login,
)
from leadscore.service.runtime import State
from leadscore.spec import json_values

router = APIRouter(include_in_schema=False)


def _shown(row: dict[str, object]) -> dict[str, object]:
    return {
        **row,
        **{k: points_text(int(str(row[k]))) for k in ("fit", "engagement", "score")},
    }


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, state: State, model: str | None = None, after: str | None = None
) -> Response:
    session = current_session(request, state)
    if session is None:
        return to_login(request)
    scoring_model = chosen_model(state, model)
    name = scoring_model.name
    found = kept_accounts(
        state.store, scoring_model, after=position(after) if after else None, limit=PAGE + 1
    )
    next_page = None
    if len(found) > PAGE:
        last = found[PAGE - 1]
        query = {"model": name, "after": cursor(last["engagement"], last["account_id"])}
        next_page = "/accounts?" + urlencode(query)
    context = {
        "session": session,
        "model": name,
        "rows": [_shown(row) for row in found[:PAGE]],
        "next_page": next_page,
    }
    return templates.TemplateResponse(request, "accounts.html", context)


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(
    request: Request, account_id: str, state: State, model: str | None = None
) -> Response:
    session = current_session(request, state)
    if session is None:
        return to_login(request)
    scoring_model = chosen_model(state, model)
    name = scoring_model.name
    try:
        if json_values.id_problem(account_id) is not None:
            raise NotFoundError(f"no account {account_id!r}")
        found = kept_account(state.store, scoring_model, account_id)
    except NotFoundError as exc:
        context = {"session": session, "message": str(exc)}
        return templates.TemplateResponse(request, "missing.html", context, status_code=404)
    leads = [
        {
            "lead_id": row["lead_id"],
            "name": row["person"].get("name") or row["person"].get("email", ""),
            "job_title": row["person"].get("job_title", ""),
            "score": points_text(row["score"]),
            "tier": row["tier"],
            "stage": row["stage"],
        }
        for row in found["leads_of_account"]
    ]
    context = {"session": session, "model": name, "account": _shown(found), "leads": leads}
    return templates.TemplateResponse(request, "account.html", context)
