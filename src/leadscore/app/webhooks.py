"""Webhooks for the interfaces: who may be subscribed, and the outbox the service's sender
works through.

A subscription's target must be one of the hosts the settings allow (``webhook_hosts``, when
set: a production service sends nowhere else) and its model one the project has; the rest
(events, stage or tier names, threshold, the signing secret) is checked and kept by
``store.webhooks``. Deliveries are owed when a rescoring keeps results
(``app.notifications``) and sent by ``service.sender`` from the outbox below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from leadscore.errors import InputError, NotFoundError
from leadscore.store.webhooks import (
    Delivery,
    Webhook,
    deliveries,
    due,
    next_due,
    record_attempt,
    unsubscribe,
    webhooks,
)
from leadscore.store.webhooks import subscribe as keep_subscription

if TYPE_CHECKING:
    from leadscore.store.store import Store

__all__ = [
    "Delivery",
    "Webhook",
    "delivery_log",
    "due",
    "next_due",
    "record_attempt",
    "subscribe",
    "unsubscribe",
    "webhooks",
]


def subscribe(
    store: Store,
    url: str,
    events: list[str],
    *,
    model: str | None,
    to: list[str] | None,
    threshold: float | None,
    allowed_hosts: Sequence[str],
    models: Sequence[str],
    trained: Sequence[str] = (),
) -> tuple[Webhook, str]:
    """Keep a subscription and return it with its signing secret (shown this once); an
    ``InputError`` starting with the field's name says what is wrong."""
    host = _host(url)
    if allowed_hosts and host not in allowed_hosts:
        raise InputError(
            f"url: {host!r} is not one of the hosts webhooks may go to: {list(allowed_hosts)}"
        )
    if "chance_crossed" in events and model is not None and model not in trained:
        raise InputError(
            f"model: chance_crossed watches a trained model; trained models here: {list(trained)}"
        )
    if model is not None and model not in [*models, *trained]:
        raise InputError(f"model: no model named {model!r}; models here: {list(models)}")
    return keep_subscription(store, url, events, model=model, to=to, threshold=threshold)


def delivery_log(store: Store, webhook_id: str, limit: int) -> list[dict[str, Any]]:
    """The subscription's latest deliveries, newest first; NotFoundError for no such one."""
    if webhook_id not in {hook.id for hook in webhooks(store)}:
        raise NotFoundError(f"no webhook with id {webhook_id!r}")
    return deliveries(store, webhook_id, limit)


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
