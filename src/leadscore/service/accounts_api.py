"""The account API: companies ranked by the kept results of their leads (the brief's "how
many people from one company" signal), and one account with its leads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from leadscore._types import MILLI
from leadscore.app.accounts import kept_account, kept_accounts
from leadscore.service.auth import require
from leadscore.service.cursors import cursor, position
from leadscore.service.errors import ApiError
from leadscore.service.runtime import State
from leadscore.service.schemas import errors
from leadscore.spec import json_values
from leadscore.spec.model import ScoringModel

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=errors(400, 401, 403, 404))


def _model(state: State, name: str | None) -> ScoringModel:
    names = state.model_names()
    chosen = name if name is not None else names[0]
    for scoring_model in state.models:
        if scoring_model.name == chosen:
            return scoring_model
    raise ApiError(404, f"no model named {chosen!r}; models here: {names}", "model")


def _account(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": row["account_id"],
        "company": row["company"],
        "leads": row["leads"],
        "engaged_leads": row["engaged_leads"],
        "fit": row["fit"] / MILLI,
        "engagement": row["engagement"] / MILLI,
        "score": row["score"] / MILLI,
        "tier": row["tier"],
    }


@router.get("", dependencies=[require("read")])
def ranked(
    state: State,
    model: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor_text: str | None = Query(None, alias="cursor"),
) -> dict[str, Any]:
    """Accounts under one model (default: the first), most engaged first: leads, engaged
    leads, fit and score (the best lead's), engagement (summed), tier (of the best score),
    company (the name its leads give most often); ``next_cursor`` for the next page."""
    scoring_model = _model(state, model)
    after = position(cursor_text) if cursor_text else None
    rows = kept_accounts(state.store, scoring_model, after=after, limit=limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "model": scoring_model.name,
        "accounts": [_account(row) for row in page],
        "next_cursor": cursor(page[-1]["engagement"], page[-1]["account_id"]) if more else None,
    }


@router.get("/{account_id}", dependencies=[require("read")])
def account(account_id: str, state: State, model: str | None = None) -> dict[str, Any]:
    """One account as the list gives it, with its leads: who each is, and their kept score,
    tier, grade and stage, best first."""
    reason = json_values.id_problem(account_id)
    if reason is not None:
        raise ApiError(404, f"no account with id {account_id!r}, and none can have it: it {reason}")
    scoring_model = _model(state, model)
    found = kept_account(state.store, scoring_model, account_id)
    return {
        "model": scoring_model.name,
        **_account(found),
        "leads_of_account": [
            {
                "lead_id": row["lead_id"],
                **row["person"],
                "score": row["score"] / MILLI,
                "fit": row["fit"] / MILLI,
                "engagement": row["engagement"] / MILLI,
                "tier": row["tier"],
                "grade": row["grade"],
                "stage": row["stage"],
            }
            for row in found["leads_of_account"]
        ],
    }
