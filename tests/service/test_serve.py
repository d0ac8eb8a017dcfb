"""``leadscore serve`` as operators run it: CORS for browser tracking, structured logs, and a
graceful shutdown (SIGTERM) that keeps every event it acknowledged."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx2

from leadscore import Project, Settings
from leadscore.store.keys import create_key
from leadscore.store.scores import stored_scores
from tests.service.serve import free_port, start_service

SHOP = "https://shop.example.com"


def test_cors_json_logs_and_a_graceful_stop_that_keeps_every_acknowledged_event(
    tmp_path: Path, database_url: str
) -> None:
    Project.init(tmp_path)
    project = Project.open(tmp_path, Settings(database_url=database_url))
    with project.store() as store:
        key = create_key(store, "ingest", "browser")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    stop = threading.Event()
    server = start_service(tmp_path, database_url, port, "--cors-origin", SHOP)
    try:
        # a page on the shop may send events from the browser; another site's page may not
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = httpx2.options(f"{base}/v1/track", headers={"Origin": SHOP, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == SHOP
        other = "https://elsewhere.example.org"
        refused = httpx2.options(f"{base}/v1/track", headers={"Origin": other, **preflight})
        assert "access-control-allow-origin" not in refused.headers

        def send() -> None:
            with httpx2.Client(base_url=base, auth=(key, "")) as client:
                for n in range(100_000):
                    if stop.is_set():
                        return
                    body = {"userId": "ada", "event": "Demo Requested", "messageId": f"m{n}"}
                    try:
                        answer = client.post("/v1/track", json=body, timeout=5)
                    except httpx2.HTTPError:
                        return  # the service has stopped listening
                    if answer.status_code == 200:
                        acknowledged.append(body["messageId"])

        client = threading.Thread(target=send)
        client.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)  # it stops by itself
        stop.set()
        client.join(timeout=30)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)

    assert len(acknowledged) >= 20
    with project.store() as store:
        with store.engine.connect() as conn:
            stored = set(conn.exec_driver_sql("SELECT message_id FROM events").scalars())
        assert set(acknowledged) <= stored
        # the lead was scored after its last stored event: nothing is left behind
        [kept] = stored_scores(store, "ada")
        with store.engine.connect() as conn:
            last = conn.exec_driver_sql(
                "SELECT max(received_at) FROM events WHERE lead_id = 'ada'"
            ).scalar_one()
        assert kept["as_of"] >= last

    lines = (tmp_path / "serve.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [r for r in records if r.get("path") == "/v1/track" and r.get("method") == "POST"]
    assert len(requests) >= len(acknowledged)
    assert {r["status"] for r in requests} == {200}
    assert all(r["level"] == "INFO" and r["duration_ms"] >= 0 for r in requests)
    messages = [r["message"] for r in records]
    assert "Application shutdown complete." in messages  # the lifespan's shutdown ran
    assert all("color_message" not in r for r in records)
