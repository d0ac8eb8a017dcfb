"""The webhook sender: posts the outbox's due deliveries, signed, until each is answered 2xx.

It runs inside the service. Deliveries are read from the database (``store.webhooks.due``),
never from memory, so those owed when the service stopped or crashed are sent after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import httpx2
import standardwebhooks

from leadscore._types import now_us
from leadscore.app.webhooks import (
    Delivery,
    due,
    next_due,
    record_attempt,
)
from leadscore.service import metrics

if TYPE_CHECKING:  # a type only: the service reaches the store through app/
    from leadscore.store.store import Store

logger = logging.getLogger(__name__)

#: Longest wait for a receiver's answer, and how many deliveries are in flight at once.
TIMEOUT_S = 10.0
PARALLEL = 8


class Sender:
    """Sends due deliveries whenever woken (``wake``, after a write queued some) and at least
    every ``poll`` seconds (retries come due with time alone)."""

    def __init__(
        self, store: Store, *, poll: float = 1.0, client: httpx2.AsyncClient | None = None
    ) -> None:
        self.store = store
        self.poll = poll
        self.client = client or httpx2.AsyncClient(timeout=TIMEOUT_S)
        self.woken = asyncio.Event()
        self.gate = asyncio.Semaphore(PARALLEL)
        self.stopping = False

    def wake(self) -> None:
        self.woken.set()

    def stop(self) -> None:
        """Let ``run`` return once the deliveries in flight are recorded."""
        self.stopping = True
        self.woken.set()

    async def run(self) -> None:
        """Send until stopped; a failing database is logged and retried, never fatal."""
        while not self.stopping:
            self.woken.clear()
            try:
                await self.send_due()
                pending = await asyncio.to_thread(next_due, self.store)
            except Exception:
                logger.exception("webhook sending failed; retrying")
                pending = None
            wait = 0.0 if self.stopping else self.poll
            if pending is not None:
                wait = min(wait, max(0.0, (pending - now_us()) / 1e6))
            if wait > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.woken.wait(), wait)

    async def send_due(self) -> int:
        """Send every delivery due now; returns how many were attempted."""
        sent = 0
        while not self.stopping:
            batch = await asyncio.to_thread(due, self.store, now_us())
            if not batch:
                return sent
            await asyncio.gather(*(self._gated(delivery) for delivery in batch))
            sent += len(batch)
        return sent

    async def _gated(self, delivery: Delivery) -> None:
        async with self.gate:
            await self._send(delivery)

    async def _send(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "leadscore-webhooks",
            **signed_headers(delivery.secret, delivery.delivery_id, delivery.payload),
        }
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            answer = await self.client.post(delivery.url, content=delivery.payload, headers=headers)
            status_code = answer.status_code
        except httpx2.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration = (time.perf_counter() - started) * 1000
        status = await asyncio.to_thread(
            partial(
                record_attempt,
                self.store,
                delivery,
                at=now_us(),
                status_code=status_code,
                error=error,
                duration_ms=duration,
            )
        )
        kind = json.loads(delivery.payload).get("type", "")
        metrics.WEBHOOK_DELIVERIES.labels(kind=kind, result=status).inc()
        if status != "delivered":
            logger.warning(
                "webhook delivery %s to %s failed (%s); status %s",
                delivery.delivery_id,
                delivery.url,
                error or f"HTTP {status_code}",
                status,
            )

    async def close(self) -> None:
        await self.client.aclose()


def signed_headers(secret: str, delivery_id: str, payload: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: ``webhook-id`` (the delivery id, the same
    on every retry, for de-duplication), ``webhook-timestamp`` (now, in Unix seconds) and
    ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body``), so a
    receiver verifies with a maintained library in its own language."""
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(secret).sign(delivery_id, now, payload),
    }
