"""Webhook subscriptions over HTTP (admin keys): create, list, remove, and the delivery log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request

from leadscore.errors import InputError, NotFoundError
from leadscore.service.auth import require
from leadscore.service.body import json_body
from leadscore.service.errors import ApiError
from leadscore.service.runtime import State
from leadscore.service.schemas import NewWebhook, errors, json_request
from leadscore.store.webhooks import deliveries, subscribe, unsubscribe, webhooks

router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    dependencies=[require("admin")],
    responses=errors(400, 401, 403, 404),
)


@router.post("", status_code=201, openapi_extra=json_request(NewWebhook), responses=errors(413))
async def create(request: Request, state: State) -> dict[str, Any]:
    """Subscribe ``url`` to ``events`` (stage_changed, tier_changed, threshold_crossed) of
    ``model`` (default: every model); ``to`` keeps only stage and tier changes into these
    names; ``threshold`` (points) is the score threshold_crossed watches. The answer holds the
    signing secret, shown this once."""
    body = await json_body(request)
    url = body.get("url")
    if not isinstance(url, str):
        raise ApiError(400, "url: must be an http(s) URL", "url")
    allowed = state.project.settings.webhook_hosts
    host = _host(url)
    if allowed and host not in allowed:
        raise ApiError(
            400, f"url: {host!r} is not one of the hosts webhooks may go to: {allowed}", "url"
        )
    events = body.get("events")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ApiError(400, "events: must be a list of event names", "events")
    model = body.get("model")
    if model is not None and model not in state.model_names():
        raise ApiError(
            400, f"model: no model named {model!r}; models here: {state.model_names()}", "model"
        )
    to = body.get("to")
    if to is not None and (not isinstance(to, list) or not all(isinstance(t, str) for t in to)):
        raise ApiError(400, "to: must be a list of stage or tier names", "to")
    threshold = body.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
    ):
        raise ApiError(400, "threshold: must be a number of points", "threshold")
    try:
        hook, secret = subscribe(state.store, url, events, model=model, to=to, threshold=threshold)
    except InputError as exc:
        field = str(exc).partition(":")[0]
        raise ApiError(400, str(exc), field) from None
    return {**hook.public(), "secret": secret}


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


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
    if webhook_id not in {hook.id for hook in webhooks(state.store)}:
        raise NotFoundError(f"no webhook with id {webhook_id!r}")
    return {"deliveries": deliveries(state.store, webhook_id, limit)}
