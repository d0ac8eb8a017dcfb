"""Webhook subscriptions over HTTP (admin keys): create, list, remove, and the delivery log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from leadscore.app.model_versions import trained_names
from leadscore.app.webhooks import delivery_log, subscribe, unsubscribe, webhooks
from leadscore.errors import InputError
from leadscore.service.auth import require
from leadscore.service.body import json_body
from leadscore.service.errors import ApiError
from leadscore.service.runtime import State
from leadscore.service.schemas import NewWebhook, errors, json_request

router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    dependencies=[require("admin")],
    responses=errors(400, 401, 403, 404),
)


@router.post("", status_code=201, openapi_extra=json_request(NewWebhook), responses=errors(413))
async def create(request: Request, state: State) -> dict[str, Any]:
    """Subscribe ``url`` to ``events`` (stage_changed, tier_changed, threshold_crossed,
    chance_crossed) of ``model`` (default: every model); ``to`` keeps only stage and tier
    changes into these names; ``threshold`` is the score threshold_crossed watches (points)
    or the kept 0-100 prediction chance_crossed watches (``model``: a trained model). The
    answer holds the signing secret, shown this once."""
    body = await json_body(request)
    url = body.get("url")
    if not isinstance(url, str):
        raise ApiError(400, "url: must be an http(s) URL", "url")
    events = body.get("events")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ApiError(400, "events: must be a list of event names", "events")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise ApiError(400, "model: must be a model's name", "model")
    to = body.get("to")
    if to is not None and (not isinstance(to, list) or not all(isinstance(t, str) for t in to)):
        raise ApiError(400, "to: must be a list of stage or tier names", "to")
    threshold = body.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
    ):
        raise ApiError(400, "threshold: must be a number of points", "threshold")
    try:
        hook, secret = subscribe(
            state.store,
            url,
            events,
            model=model,
            to=to,
            threshold=threshold,
            allowed_hosts=state.project.settings.webhook_hosts,
            models=state.model_names(),
            trained=trained_names(state.project),
        )
    except InputError as exc:
        field = str(exc).partition(":")[0]
        raise ApiError(400, str(exc), field) from None
    return {**hook.public(), "secret": secret}


@router.get("")
def listed(state: State) -> dict[str, Any]:
    """Every subscription (without secrets)."""
    return {"webhooks": [hook.public() for hook in webhooks(state.store)]}


@router.delete("/{webhook_id}")
def remove(webhook_id: str, state: State) -> dict[str, Any]:
    """Remove a subscription with its deliveries (owed or made) and their log."""
    unsubscribe(state.store, webhook_id)
    return {"removed": webhook_id}


@router.get("/{webhook_id}/deliveries")
def log(
    webhook_id: str,
    state: State,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """The subscription's latest deliveries, newest first, each with its attempts."""
    return {"deliveries": delivery_log(state.store, webhook_id, limit)}
