"""Prometheus metrics of the service, served at ``/metrics``.

One registry per process (Prometheus' own default): a service runs one app.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_INGESTED = Counter(
    "leadscore_events_ingested", "Messages accepted by the ingestion API.", ["type"]
)
EVENTS_REJECTED = Counter(
    "leadscore_events_rejected", "Messages rejected by the ingestion API (bad fields)."
)
SCORING_SECONDS = Histogram(
    "leadscore_scoring_seconds",
    "Time of one rescoring round: score the leads written since the last, keep the results.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SCORING_LAG_SECONDS = Histogram(
    "leadscore_scoring_lag_seconds",
    "From a write handing its leads to rescoring until their new results are kept.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LEADS_UNSCORED = Gauge(
    "leadscore_leads_unscored", "Leads written and waiting for their results to be kept."
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
