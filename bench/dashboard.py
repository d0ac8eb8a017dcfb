"""Dashboard page latency with many leads in the store: the leads page and the lead page.

    python bench/dashboard.py --leads 1000000 --events 10000000 --runs 3

Builds once (kept in bench/out/, git-ignored) a project whose database holds the synthetic
leads and events of bench/data.py (event times moved so the year ends now) with every lead's
kept result under the brief's model, and a dashboard user. Then starts `leadscore serve` on
it, signs in, and times each page seen by a client on the same machine, one request at a time:
the leads page (first page, a tier, the fifth page, a text search), a lead's page (the top
lead, and leads drawn at random: most have a few events, some hundreds) and, as the baseline
measured in the same run, `/healthz` (the HTTP round trip and nothing else). Reported: p50
and p95 per page and run, and the median over runs of each p95.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).parent))

import data

EMAIL, PASSWORD = "bench@example.com", "a long bench password"


def build(leads: int, events: int) -> Path:
    """The project folder with its database (made once)."""
    import pyarrow.parquet as pq

    from leadscore._types import now_us
    from leadscore.app.project import Project
    from leadscore.app.scoring import rescore_all
    from leadscore.app.users import create_user
    from leadscore.store import schema

    folder = data.OUT / f"dashboard-{leads}-{events}"
    if (folder / "ready").exists():
        return folder
    leads_path, events_path = data.make(leads, events)
    project = Project.init(folder)
    shift = now_us() - data.AS_OF
    with project.store() as store:
        table = pq.read_table(leads_path)
        ids, texts = table["lead_id"].to_pylist(), table["attributes"].to_pylist()
        for start in range(0, len(ids), 50_000):
            part = zip(ids[start : start + 50_000], texts[start : start + 50_000], strict=True)
            rows = [(i, json.loads(t), None) for i, t in part]
            store.upsert_leads(rows)
            print(f"leads: {start + len(rows):,}", file=sys.stderr)
        for n, batch in enumerate(pq.ParquetFile(events_path).iter_batches(200_000)):
            rows = [
                {
                    "message_id": f"e{n}-{k}",
                    "lead_id": row["lead_id"],
                    "anonymous_id": None,
                    "type": row["type"],
                    "event": row["event"],
                    "timestamp": row["timestamp"] + shift,
                    "properties": row["properties"],
                    "received_at": row["timestamp"] + shift,
                }
                for k, row in enumerate(batch.to_pylist())
            ]
            with store.engine.begin() as conn:
                conn.execute(schema.events.insert(), rows)
            print(f"events: {(n + 1) * 200_000:,}", file=sys.stderr)
        rescore_all(store, project.models(), now_us(), preparations=project.preparations())
        create_user(store, EMAIL, PASSWORD, "sales")
    (folder / "ready").write_text("built\n")
    return folder


def serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "leadscore", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--rescore-every", "0"], cwd=folder, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx2.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not start within 300 s")


def signed_in(base: str) -> httpx2.Client:
    client = httpx2.Client(base_url=base, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"email": EMAIL, "password": PASSWORD, "csrf": csrf.group(1), "next": "/leads"}
    assert client.post("/login", data=form).status_code in (200, 303)
    return client


def timed(client: httpx2.Client, path: str, times: int) -> list[float]:
    """Milliseconds of ``times`` requests of ``path`` (each must answer 200)."""
    found = []
    for _ in range(times):
        started = time.perf_counter()
        answer = client.get(path)
        found.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return found


def fifth_page(client: httpx2.Client) -> str:
    path = "/leads"
    for _ in range(4):
        found = re.search(r'<a href="(/leads\?[^"]+)">Next page</a>', client.get(path).text)
        assert found is not None
        path = unescape(found.group(1))
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=60, help="per page and run")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    folder = build(args.leads, args.events)
    print(
        f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.leads:,} leads, {args.events:,} events; "
        f"{args.requests} requests per page and run, {args.runs} runs (a new service each)"
    )
    rng = random.Random(1)
    p95s: dict[str, list[float]] = {}
    for run in range(args.runs):
        process = serve(folder, args.port)
        try:
            client = signed_in(f"http://127.0.0.1:{args.port}")
            top = re.search(r'data-lead="([^"]+)"', client.get("/leads").text)
            assert top is not None
            randoms = [f"/leads/L{rng.randrange(args.leads)}" for _ in range(args.requests)]
            pages = {
                "healthz (baseline)": ["/healthz"],
                "leads: first page": ["/leads"],
                "leads: tier hot": ["/leads?tier=hot"],
                "leads: fifth page": [fifth_page(client)],
                "leads: text search": ["/leads?q=co4242.example"],
                "lead: the top lead": [f"/leads/{top.group(1)}"],
                "lead: at random": randoms,
            }
            for name, paths in pages.items():
                timed(client, paths[0], 3)  # warm up
                values = [
                    v for k in range(args.requests) for v in timed(client, paths[k % len(paths)], 1)
                ]
                p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
                p95s.setdefault(name, []).append(p95)
                print(f"run {run + 1}: {name:<22} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
        finally:
            process.terminate()
            process.wait(timeout=60)
    print("\nmedian over runs of the p95:")
    base = statistics.median(p95s["healthz (baseline)"])
    for name, values in p95s.items():
        median = statistics.median(values)
        print(f"  {name:<22} {median:7.1f} ms  ({median / base:5.1f}x the baseline)")


if __name__ == "__main__":
    main()
