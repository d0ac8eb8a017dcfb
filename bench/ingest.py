"""Service ingestion benchmark: `leadscore serve` on SQLite or PostgreSQL, client on loopback.

    python bench/ingest.py --leads 2000 --single 3000 --rate 300 --batches 10
    python bench/ingest.py --leads 2000 --single 3000 --rate 300 --batches 10 --answer-after stored
    python bench/ingest.py --leads 2000 --single 3000 --rate 300 --batches 10 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

A fresh project (on PostgreSQL: in a schema of its own, dropped at the end) with the default
model gets `--leads` identified leads (10 to a company, so
account facts have colleagues to read). Then, against the running service:

* single events: `--single` POST /v1/track or /v1/page calls in an open loop at `--rate` a
  second (each starts at its scheduled time, answered or not, as many browsers would send);
  reported: the latency p50 and p99 from the scheduled start, the rate achieved, and how
  soon the results were kept (the service's scoring-lag histogram);
* batches: `--batches` POST /v1/batch calls of 500 events each, one after another;
  reported: events a second answered, and stored and rescored (until the service's
  unscored-leads gauge is back to 0);
* baseline, in the same run: GET /healthz latency (the HTTP round trip without any work).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx2
from prometheus_client.parser import text_string_to_metric_families

EVENTS = [
    ("track", "Email Opened", {"email_type": "newsletter"}),
    ("track", "Email Link Clicked", {}),
    ("track", "Content Downloaded", {"premium": True}),
    ("track", "Webinar Attended", {}),
    ("track", "Form Submitted", {}),
    ("page", None, {"path": "/pricing"}),
    ("page", None, {"path": "/blog/lead-scoring-101"}),
]


def message(rng: random.Random, leads: int, number: int) -> dict[str, object]:
    kind, event, properties = rng.choice(EVENTS)
    body: dict[str, object] = {
        "type": kind,
        "userId": f"L{rng.randrange(leads)}",
        "messageId": f"bench-{number}",
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": properties,
    }
    if event is not None:
        body["event"] = event
    return body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def singles(
    url: str, auth: dict[str, str], rng: random.Random, leads: int, count: int, rate: float
) -> tuple[list[float], float]:
    """Open loop, as browsers send: call n starts at ``n / rate`` seconds whether or not the
    earlier ones were answered (up to 256 in flight). A call's latency counts from its
    scheduled start, so a service that falls behind is not hidden by a waiting client. The
    client is aiohttp: it costs a third of the processor time httpx does, and it shares the
    two cores with the service."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(url, headers=auth, connector=connector) as client:

        async def one(number: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = message(rng, leads, number)
            async with client.post(f"/v1/{body['type']}", json=body) as answer:
                text = await answer.text()
            latencies.append(time.perf_counter() - due)
            assert answer.status == 200, text

        began = time.perf_counter()
        await asyncio.gather(*(one(n, began + n / rate) for n in range(count)))
        return latencies, time.perf_counter() - began


def wait_scored(client: httpx2.Client) -> None:
    """Until the service has kept the results of every write (its unscored-leads gauge)."""
    while True:
        text = client.get("/metrics").text
        for family in text_string_to_metric_families(text):
            if family.name == "leadscore_leads_unscored" and family.samples[0].value == 0:
                return
        time.sleep(0.01)


def lag_buckets(client: httpx2.Client) -> dict[float, float]:
    """The scoring-lag histogram's cumulative bucket counts, by upper bound in seconds."""
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "leadscore_scoring_lag_seconds":
            return {
                float(sample.labels["le"]): sample.value
                for sample in family.samples
                if sample.name.endswith("_bucket")
            }
    raise SystemExit("the service has no scoring lag histogram")


def bucket_quantiles(
    after: dict[float, float], before: dict[float, float], quantiles: tuple[float, ...]
) -> list[float]:
    """Upper bounds of the buckets holding these quantiles of the lags observed between."""
    counts = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = counts[float("inf")]
    return [next(b for b, c in counts.items() if c >= q * total) for q in quantiles]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--single", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: the embedded SQLite)"
    )
    parser.add_argument(
        "--answer-after",
        choices=["scored", "stored"],
        default="scored",
        help="the service's --answer-after (default: scored)",
    )
    args = parser.parse_args()
    with database(args.database_url) as url:
        run_bench(args, url)


@contextmanager
def database(server: str | None) -> Iterator[str | None]:
    """None for the embedded default, or a fresh schema on the PostgreSQL ``server``."""
    if server is None:
        yield None
        return
    import sqlalchemy as sa

    schema = f"bench_{os.getpid()}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def run_bench(args: argparse.Namespace, database_url: str | None) -> None:
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="leadscore-ingest-"))
    env = dict(os.environ)
    if database_url is not None:
        env["LEADSCORE_DATABASE_URL"] = database_url
    run = {"cwd": folder, "check": True, "capture_output": True, "text": True, "env": env}
    leadscore = [sys.executable, "-m", "leadscore"]
    subprocess.run([*leadscore, "init"], **run)  # type: ignore[call-overload]
    key = subprocess.run([*leadscore, "keys", "create"], **run).stdout.strip()  # type: ignore[call-overload]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    port = free_port()
    server = subprocess.Popen(
        [*leadscore, "serve", "--port", str(port), "--answer-after", args.answer_after],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(base_url=url, headers=auth, timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            identify = [
                {
                    "type": "identify",
                    "userId": f"L{n}",
                    "traits": {"email": f"p{n}@co{n // 10}.example", "job_title": "Manager"},
                }
                for n in range(args.leads)
            ]
            for start in range(0, len(identify), 500):
                client.post("/v1/batch", json={"batch": identify[start : start + 500]})

            health = []
            for _ in range(200):
                started = time.perf_counter()
                client.get("/healthz")
                health.append(time.perf_counter() - started)

            wait_scored(client)
            lag_before = lag_buckets(client)
            latencies, single_seconds = asyncio.run(
                singles(url, auth, rng, args.leads, args.single, args.rate)
            )
            wait_scored(client)
            lags = bucket_quantiles(lag_buckets(client), lag_before, (0.5, 0.99))

            batches = [
                [message(rng, args.leads, args.single + n * 500 + i) for i in range(500)]
                for n in range(args.batches)
            ]
            started = time.perf_counter()
            for batch in batches:
                answer = client.post("/v1/batch", json={"batch": batch})
                assert answer.json()["accepted"] == 500, answer.text
            answered_seconds = time.perf_counter() - started
            wait_scored(client)
            batch_seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = 1000
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"{args.leads:,} leads, default model, "
        f"{'PostgreSQL' if database_url else 'SQLite'}"
    )
    print(
        f"baseline GET /healthz: p50 {percentile(health, 0.5) * ms:.2f} ms, "
        f"p99 {percentile(health, 0.99) * ms:.2f} ms"
    )
    print(
        f"single events: {args.single:,} at {args.rate:g}/s asked, "
        f"{args.single / single_seconds:.0f}/s achieved; latency p50 "
        f"{statistics.median(latencies) * ms:.1f} ms, p99 {percentile(latencies, 0.99) * ms:.1f} ms"
        f"; results kept within p50 <= {lags[0] * ms:g} ms, p99 <= {lags[1] * ms:g} ms "
        "of the write (histogram bucket bounds)"
    )
    total = args.batches * 500
    print(
        f"batches: {args.batches} x 500 events answered in {answered_seconds:.2f} s "
        f"({total / answered_seconds:,.0f} events/s), all results kept after "
        f"{batch_seconds:.2f} s: {total / batch_seconds:,.0f} events/s stored and rescored"
    )
    print(json.dumps({"folder": str(folder)}))


if __name__ == "__main__":
    main()
