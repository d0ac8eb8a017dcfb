"""The lead API: leads ranked by kept score, one lead with every model's explained result,
creating and updating leads, outcomes, sales feedback, and erasure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from leadscore._types import format_as_of, now_us
from leadscore.app.explain import explain_lead, explanation
from leadscore.app.imports import write_lead
from leadscore.app.model_versions import trained_in_use
from leadscore.app.predictions import chance_model
from leadscore.app.ranked import order_key, ranked_leads
from leadscore.app.sales import (
    OUTCOMES,
    VERDICTS,
    erase_lead,
    lead_records,
    record_feedback,
    record_outcome,
)
from leadscore.engines.plan import compile_plan
from leadscore.engines.results import points
from leadscore.errors import NotFoundError
from leadscore.service.auth import require
from leadscore.service.body import choice, json_body
from leadscore.service.cursors import ranked_cursor, ranked_position
from leadscore.service.errors import ApiError
from leadscore.service.runtime import Runtime, State
from leadscore.service.schemas import Feedback, LeadChange, NewLead, Outcome, errors, json_request
from leadscore.spec import json_values
from leadscore.spec.model import ScoringModel
from leadscore.spec.segment import MessageError, parse_timestamp

if TYPE_CHECKING:  # a type only: the service reaches the store through app/
    from leadscore.app.project import Project
    from leadscore.store.store import Store

router = APIRouter(prefix="/v1/leads", tags=["leads"], responses=errors(400, 401, 403, 404))


def _addressed(lead_id: str) -> str:
    """The lead id in the path; 404 when it could not be one (``json_values.id_problem``:
    no lead with such an id was ever accepted), before any store sees it."""
    reason = json_values.id_problem(lead_id)
    if reason is not None:
        raise ApiError(404, f"no lead with id {lead_id!r}, and none can have it: it {reason}")
    return lead_id


#: A lead id taken from the path.
LeadId = Annotated[str, Depends(_addressed)]


@router.get("", dependencies=[require("read")])
def ranked(
    state: State,
    model: str | None = None,
    tier: str | None = None,
    stage: str | None = None,
    grade: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
    sort: Literal["score", "engagement", "chance"] = "score",
    min_chance: float | None = Query(None, ge=0, le=100),
) -> dict[str, Any]:
    """Leads ranked by their kept score under one model (default: the first), with filters
    (``owner`` is the lead's ``owner`` attribute) and a cursor for the next page
    (``next_cursor``; null on the last page). With a trained model in use, each lead carries
    its kept prediction (``chance``: probability and 0-100 score); ``sort=chance`` ranks by
    it and ``min_chance`` keeps leads whose prediction scores at least that."""
    names = state.model_names()
    name = model if model is not None else names[0]
    if name not in names:
        raise ApiError(404, f"no model named {name!r}; models here: {names}", "model")
    chance_of = chance_model(state.project)
    if chance_of is None and (sort == "chance" or min_chance is not None):
        field = "sort" if sort == "chance" else "min_chance"
        raise ApiError(400, "no trained model is in use: train one with 'leadscore train'", field)
    rows = ranked_leads(
        state.store,
        name,
        tier=tier,
        stage=stage,
        grade=grade,
        owner=owner,
        text=q,
        after=ranked_position(cursor) if cursor else None,
        limit=limit + 1,
        order=sort,
        chance_of=chance_of,
        chance_min=min_chance,
    )
    page = rows[:limit]
    more = len(rows) > limit
    plan = compile_plan(next(m for m in state.models if m.name == name))
    shown: list[dict[str, Any]] = [
        {
            "lead_id": row["lead_id"],
            "score": points(row["score"]),
            "fit": points(row["fit"]),
            "engagement": points(row["engagement"]),
            "tier": row["tier"],
            "grade": row["grade"],
            "stage": row["stage"],
            "scored_at": format_as_of(row["as_of"]),
            "attributes": row["attributes"],
            **(
                {}
                if row.get("chance") is None
                else {
                    "chance": {
                        "probability": row["chance"],
                        "score": row["chance_tenths"] / 10,
                        "as_of": format_as_of(row["chance_as_of"]),
                    }
                }
            ),
        }
        for row in page
    ]
    if plan.priority is not None:  # the grade x band matrix, beside tier and grade
        for row, lead_row in zip(page, shown, strict=True):
            lead_row["priority"] = plan.priority_of(row["grade"], row["engagement"], row["score"])
    return {
        "model": name,
        "leads": shown,
        "next_cursor": ranked_cursor(order_key(page[-1], sort)) if more else None,
    }


@router.get("/{lead_id}", dependencies=[require("read")])
def lead(lead_id: LeadId, state: State) -> dict[str, Any]:
    """The lead's attributes and, per model that applies to it, its result as of now with the
    explanation and the stage history."""
    return _view(state.store, state.models, lead_id, state.project)


@router.post(
    "",
    status_code=201,
    dependencies=[require("admin")],
    openapi_extra=json_request(NewLead),
    responses=errors(409, 413),
)
async def create(request: Request, state: State) -> dict[str, Any]:
    """Create a lead (``{"lead_id": ..., "attributes": {...}}``) and score it; 409 if it
    exists (update it with PATCH)."""
    body = await json_body(request)
    lead_id = body.get("lead_id")
    if not isinstance(lead_id, str) or not lead_id:
        raise ApiError(400, "lead_id: must be a non-empty string", "lead_id")
    reason = json_values.id_problem(lead_id)
    if reason is not None:
        raise ApiError(400, f"lead_id: {reason}", "lead_id")
    attributes = _attributes(body)
    return await _write_lead(state, lead_id, attributes, new=True)


@router.patch(
    "/{lead_id}",
    dependencies=[require("admin")],
    openapi_extra=json_request(LeadChange),
    responses=errors(413),
)
async def update(lead_id: LeadId, request: Request, state: State) -> dict[str, Any]:
    """Change some attributes of a lead (``{"attributes": {...}}``; the others are kept) and
    score it again; the change counts from now."""
    body = await json_body(request)
    attributes = _attributes(body)
    return await _write_lead(state, lead_id, attributes, new=False)


@router.post(
    "/{lead_id}/outcomes",
    status_code=201,
    dependencies=[require("admin")],
    openapi_extra=json_request(Outcome),
    responses=errors(413),
)
async def outcome(lead_id: LeadId, request: Request, state: State) -> dict[str, Any]:
    """Record what became of the lead: converted, won or lost, with a value and a time."""
    body = await json_body(request)
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
    kind = choice(body, "outcome", OUTCOMES)
    row = await state.write(record_outcome, state.store, lead_id, kind, moment, value)
    return {**row, "at": format_as_of(row["at"])}


@router.post(
    "/{lead_id}/feedback",
    status_code=201,
    dependencies=[require("admin")],
    openapi_extra=json_request(Feedback),
    responses=errors(413),
)
async def feedback(lead_id: LeadId, request: Request, state: State) -> dict[str, Any]:
    """Record sales' verdict on the lead: good_fit, bad_fit or not_interested."""
    body = await json_body(request)
    note = body.get("note", "")
    if not isinstance(note, str):
        raise ApiError(400, "note: must be text", "note")
    verdict = choice(body, "feedback", VERDICTS)
    row = await state.write(record_feedback, state.store, lead_id, verdict, note)
    return {**row, "at": format_as_of(row["at"])}


@router.delete("/{lead_id}", dependencies=[require("admin")])
async def erase(lead_id: LeadId, state: State) -> dict[str, Any]:
    """Erase the lead and everything about it (right to erasure); only an audit row that does
    not name it is left."""
    deleted = await state.write(erase_lead, state.store, lead_id)
    return {"erased": lead_id, "rows_deleted": deleted}


def _attributes(body: dict[str, Any]) -> dict[str, Any]:
    attributes = body.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ApiError(400, "attributes: must be a JSON object", "attributes")
    if "lead_id" in attributes:
        raise ApiError(400, "attributes.lead_id: the id is not an attribute", "attributes.lead_id")
    found = json_values.problem(attributes, "attributes")
    if found is not None:
        raise ApiError(400, f"{found[0]}: {found[1]}", found[0])
    return attributes


async def _write_lead(
    state: Runtime, lead_id: str, attributes: dict[str, Any], *, new: bool
) -> dict[str, Any]:
    """Store the lead, rescore it, and show it as GET /v1/leads/ID does."""
    await state.write(write_lead, state.store, lead_id, attributes, new)
    await state.scorer.score([lead_id])
    return _view(state.store, state.models, lead_id, state.project)


def _view(
    store: Store, models: list[ScoringModel], lead_id: str, project: Project
) -> dict[str, Any]:
    attributes = store.lead(lead_id)
    at = now_us()
    results = []
    for scoring_model in models:
        try:
            explained = explain_lead(store, scoring_model, lead_id, at)
        except NotFoundError:
            continue  # the model does not apply to this lead
        history = [t for t in store.transitions(lead_id, scoring_model.name) if t.at <= at]
        results.append(explanation(explained, history, scoring_model))
    return {
        "lead_id": lead_id,
        "attributes": attributes,
        "results": results,
        "predictions": predictions(store, project, lead_id, at),
        **_records(store, lead_id),
    }


def predictions(store: Store, project: Project, lead_id: str, at: int) -> list[dict[str, Any]]:
    """The active trained models' probability, score and reasons for the lead."""
    found = trained_in_use(project)
    if not found:
        return []
    from leadscore.predict.scoring import explain as explain_prediction

    return [explain_prediction(store, loaded, lead_id, at) for loaded in found]


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
