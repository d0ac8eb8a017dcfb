"""Service ingestion benchmark: `leadscore serve` on the embedded database, client on loopback.

    python bench/ingest.py --leads 2000 --single 3000 --rate 300 --batches 10

A fresh project with the default model gets `--leads` identified leads (10 to a company, so
account facts have colleagues to read). Then, against the running service:

* single events: `--single` POST /v1/track calls, one at a time, paced at `--rate` a second
  (a call starts at its scheduled time, or at once when the service is behind); reported: the
  latency p50 and p99 and the rate achieved;
* batches: `--batches` POST /v1/batch calls of 500 events each; reported: events a second,
  storing and rescoring included;
* baseline, in the same run: GET /healthz latency (the HTTP round trip without any work).
"""

from __future__ import annotations

import argparse
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
from datetime import UTC, datetime
from pathlib import Path

import httpx2

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
    args = parser.parse_args()
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="leadscore-ingest-"))
    run = {"cwd": folder, "check": True, "capture_output": True, "text": True}
    leadscore = [sys.executable, "-m", "leadscore"]
    subprocess.run([*leadscore, "init"], **run)  # type: ignore[call-overload]
    key = subprocess.run([*leadscore, "keys", "create"], **run).stdout.strip()  # type: ignore[call-overload]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    port = free_port()
    server = subprocess.Popen(
        [*leadscore, "serve", "--port", str(port)],
        cwd=folder,
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

            latencies = []
            began = time.perf_counter()
            for number in range(args.single):
                due = began + number / args.rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                body = message(rng, args.leads, number)
                started = time.perf_counter()
                answer = client.post(f"/v1/{body['type']}", json=body)
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
            single_seconds = time.perf_counter() - began

            batch_seconds = 0.0
            number = args.single
            for _ in range(args.batches):
                batch = []
                for _ in range(500):
                    batch.append(message(rng, args.leads, number))
                    number += 1
                started = time.perf_counter()
                answer = client.post("/v1/batch", json={"batch": batch})
                batch_seconds += time.perf_counter() - started
                assert answer.json()["accepted"] == 500, answer.text
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = 1000
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"{args.leads:,} leads, default model"
    )
    print(
        f"baseline GET /healthz: p50 {percentile(health, 0.5) * ms:.2f} ms, "
        f"p99 {percentile(health, 0.99) * ms:.2f} ms"
    )
    print(
        f"single events: {args.single:,} at {args.rate:g}/s asked, "
        f"{args.single / single_seconds:.0f}/s achieved; latency p50 "
        f"{statistics.median(latencies) * ms:.1f} ms, p99 {percentile(latencies, 0.99) * ms:.1f} ms"
    )
    total = args.batches * 500
    print(
        f"batches: {args.batches} x 500 events in {batch_seconds:.1f} s: "
        f"{total / batch_seconds:,.0f} events/s (stored and rescored)"
    )
    print(json.dumps({"folder": str(folder)}))


if __name__ == "__main__":
    main()
