"""Prometheus metrics of the service, served at ``/metrics``.

One registry per process (Prometheus' own default): a service runs one app.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_INGESTED = Counter(
    "leadscore_events_ingested", "Messages accepted by the ingestion API.", ["type"]
)
EVENTS_REJECTED = Counter(
    "leadscore_events_rejected", "Messages rejected by the ingestion API (bad fields)."
)
SCORING_SECONDS = Histogram(
    "leadscore_scoring_seconds",
    "Time to store a write and rescore the leads it touched, per request.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESCORE_SECONDS = Histogram(
    "leadscore_rescore_seconds",
    "Time of a scheduled rescoring of every lead.",
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
)
WEBHOOK_DELIVERIES = Counter(
    "leadscore_webhook_deliveries",
    "Webhook delivery attempts by kind and result (delivered, pending: to retry, failed).",
    ["kind", "result"],
)
