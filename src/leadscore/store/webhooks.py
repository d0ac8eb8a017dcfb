"""Webhooks: subscriptions to score changes, and the outbox of deliveries owed.

A subscription asks for some kinds of change of one model (or all): ``stage_changed`` (the
lifecycle moved: advance, withdraw), ``tier_changed`` and ``threshold_crossed`` (the score went
over or under a number), optionally only stage and tier changes into some names (``to``). The
deliveries a change owes (``app/notifications.py`` says which) are written in the transaction
that keeps the change (``insert_deliveries``), so a crash never loses or invents one; the
service's sender then posts them, signed, until each is answered 2xx (``due``,
``record_attempt``).
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import urlsplit

import sqlalchemy as sa

from leadscore._types import MAX_THRESHOLD, WebhookKind, format_as_of, now_us
from leadscore.errors import InputError, NotFoundError
from leadscore.store import schema
from leadscore.store.store import Store

KINDS: tuple[WebhookKind, ...] = get_args(WebhookKind)
#: Retries wait 10 s, 20 s, 40 s ... up to an hour; after this many attempts a delivery fails.
FIRST_RETRY_US = 10_000_000
LONGEST_RETRY_US = 3_600_000_000
MAX_ATTEMPTS = 15


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    secret: str
    model: str | None
    kinds: tuple[str, ...]
    to: tuple[str, ...] | None
    threshold: int | None  # milli-points

    def public(self) -> dict[str, Any]:
        """What the API shows of it (the secret is shown once, when it is created)."""
        return {
            "id": self.id,
            "url": self.url,
            "model": self.model,
            "events": list(self.kinds),
            "to": None if self.to is None else list(self.to),
            "threshold": None if self.threshold is None else self.threshold / 1000,
        }


def new_secret() -> str:
    """A signing secret as the Standard Webhooks specification writes it: ``whsec_`` and 24
    random bytes in standard base64, so any maintained verifier decodes the same key."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def subscribe(
    store: Store,
    url: str,
    kinds: Iterable[str],
    *,
    model: str | None = None,
    to: Iterable[str] | None = None,
    threshold: float | None = None,
) -> tuple[Webhook, str]:
    """A new subscription; returns it and its signing secret (stored, shown this once)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port out of range or not a number raises here)
    except ValueError:  # a bad IPv6 literal or port
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"url: {url!r} is not an http(s) URL")
    wanted = tuple(dict.fromkeys(kinds))
    if not wanted or any(kind not in KINDS for kind in wanted):
        raise InputError(f"events: give one or more of {', '.join(KINDS)}")
    crossings = [kind for kind in wanted if kind in ("threshold_crossed", "chance_crossed")]
    if len(crossings) > 1:
        raise InputError(
            "events: threshold_crossed (points) and chance_crossed (a trained model's 0-100 "
            "score) read the threshold differently: one subscription for each"
        )
    if bool(crossings) != (threshold is not None):
        raise InputError(
            "threshold: give a threshold exactly when asking for threshold_crossed or "
            "chance_crossed"
        )
    if threshold is not None and not abs(threshold) <= MAX_THRESHOLD:  # NaN fails too
        raise InputError(f"threshold: must be a number of points within ±{MAX_THRESHOLD:,}")
    if "chance_crossed" in wanted and threshold is not None and not 0 < threshold < 100:
        raise InputError("threshold: chance_crossed watches a 0-100 score: between 0 and 100")
    hook = Webhook(
        id=uuid.uuid4().hex,
        url=url,
        secret=new_secret(),
        model=model,
        kinds=wanted,
        to=None if to is None else tuple(to),
        threshold=None if threshold is None else round(threshold * 1000),
    )
    with store.engine.begin() as conn:
        conn.execute(
            schema.webhooks.insert().values(
                id=hook.id,
                url=hook.url,
                secret=hook.secret,
                model=hook.model,
                kinds=json.dumps(hook.kinds),
                to_names=None if hook.to is None else json.dumps(hook.to),
                threshold=hook.threshold,
                created_at=now_us(),
            )
        )
    return hook, hook.secret


def webhooks(store: Store, conn: sa.Connection | None = None) -> list[Webhook]:
    """Every subscription, oldest first."""
    table = schema.webhooks
    with store.begin(conn) as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.created_at, table.c.id)).all()
    return [
        Webhook(
            id=row.id,
            url=row.url,
            secret=row.secret,
            model=row.model,
            kinds=tuple(json.loads(row.kinds)),
            to=None if row.to_names is None else tuple(json.loads(row.to_names)),
            threshold=row.threshold,
        )
        for row in rows
    ]


def unsubscribe(store: Store, webhook_id: str) -> None:
    """Remove a subscription with its deliveries (owed or made) and their log."""
    table, sent = schema.webhook_deliveries, schema.webhook_attempts
    with store.engine.begin() as conn:
        gone = conn.execute(schema.webhooks.delete().where(schema.webhooks.c.id == webhook_id))
        if gone.rowcount == 0:
            raise NotFoundError(f"no webhook with id {webhook_id!r}")
        mine = sa.select(table.c.delivery_id).where(table.c.webhook_id == webhook_id)
        conn.execute(sent.delete().where(sent.c.delivery_id.in_(mine)))
        conn.execute(table.delete().where(table.c.webhook_id == webhook_id))


def insert_deliveries(conn: sa.Connection, owed: Iterable[tuple[str, str, str, str]]) -> int:
    """Write owed deliveries, (delivery id, webhook id, lead id, JSON payload), into the
    outbox in ``conn``'s transaction (the one keeping the changes that owe them)."""
    now = now_us()
    rows = [
        {
            "delivery_id": delivery_id,
            "webhook_id": webhook_id,
            "lead_id": lead_id,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for delivery_id, webhook_id, lead_id, payload in owed
    ]
    if rows:
        conn.execute(schema.webhook_deliveries.insert(), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    url: str
    secret: str
    payload: str
    attempts: int


def due(store: Store, now: int, limit: int = 100) -> list[Delivery]:
    """Pending deliveries whose next attempt is due, oldest first (with their subscription's
    URL and secret; deliveries of a removed subscription are not sent)."""
    table, hooks = schema.webhook_deliveries, schema.webhooks
    query = (
        sa.select(table, hooks.c.url, hooks.c.secret)
        .join(hooks, hooks.c.id == table.c.webhook_id)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at, table.c.created_at)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Delivery(r.delivery_id, r.url, r.secret, r.payload, r.attempts) for r in rows]


def next_due(store: Store) -> int | None:
    """When the earliest pending delivery is due (None: nothing pending)."""
    table = schema.webhook_deliveries
    query = sa.select(sa.func.min(table.c.next_attempt_at)).where(table.c.status == "pending")
    with store.engine.connect() as conn:
        found = conn.execute(query).scalar_one()
    return None if found is None else int(found)


def retry_delay(attempts: int) -> int:
    """Microseconds to wait after the ``attempts``-th failed attempt (exponential backoff)."""
    return int(min(FIRST_RETRY_US * 2 ** (attempts - 1), LONGEST_RETRY_US))


def record_attempt(
    store: Store,
    delivery: Delivery,
    *,
    at: int,
    status_code: int | None,
    error: str | None,
    duration_ms: float,
) -> str:
    """Log an attempt and move the delivery on: delivered on a 2xx, else retried later, or
    failed after ``MAX_ATTEMPTS``. Returns the delivery's new status."""
    attempts = delivery.attempts + 1
    ok = status_code is not None and 200 <= status_code < 300
    status = "delivered" if ok else "failed" if attempts >= MAX_ATTEMPTS else "pending"
    table = schema.webhook_deliveries
    with store.engine.begin() as conn:
        conn.execute(
            schema.webhook_attempts.insert().values(
                delivery_id=delivery.delivery_id,
                at=at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        conn.execute(
            table.update()
            .where(table.c.delivery_id == delivery.delivery_id)
            .values(
                status=status,
                attempts=attempts,
                delivered_at=at if ok else None,
                next_attempt_at=at + retry_delay(attempts),
                last_error=None if ok else (error or f"answered HTTP {status_code}"),
            )
        )
    return status


def deliveries(store: Store, webhook_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """A subscription's latest deliveries, newest first, with their attempts (the log)."""
    table, attempts = schema.webhook_deliveries, schema.webhook_attempts
    query = (
        sa.select(table)
        .where(table.c.webhook_id == webhook_id)
        .order_by(table.c.created_at.desc(), table.c.delivery_id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
        ids = [row["delivery_id"] for row in rows]
        tried: dict[str, list[dict[str, Any]]] = {}
        if ids:
            found = conn.execute(
                sa.select(attempts)
                .where(attempts.c.delivery_id.in_(ids))
                .order_by(attempts.c.at, attempts.c.id)
            )
            for attempt in found:
                tried.setdefault(attempt.delivery_id, []).append(
                    {
                        "at": format_as_of(attempt.at),
                        "status_code": attempt.status_code,
                        "error": attempt.error,
                        "duration_ms": attempt.duration_ms,
                    }
                )
    return [
        {
            "delivery_id": row["delivery_id"],
            "status": row["status"],
            "payload": json.loads(row["payload"]),
            "attempts": tried.get(row["delivery_id"], []),
            "created_at": format_as_of(row["created_at"]),
            "delivered_at": None
            if row["delivered_at"] is None
            else format_as_of(row["delivered_at"]),
            "next_attempt_at": None
            if row["status"] != "pending"
            else format_as_of(row["next_attempt_at"]),
            "last_error": row["last_error"],
        }
        for row in rows
    ]
