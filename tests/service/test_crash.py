"""The crash test: ``leadscore serve`` is killed with SIGKILL while a client sends events.
After a restart every event that got a 2xx is stored and scored, and every webhook owed is
delivered.

"Scored" is checked by an independent method: each lead's kept result must equal replaying
its stored events (``explain_lead``, the incremental engine). "Owed" is every lead whose
score reached the threshold: a threshold_crossed delivery must have arrived for it.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx2

from leadscore import Project, Settings, default_model, explain_lead
from leadscore.store.keys import create_key
from leadscore.store.scores import stored_scores
from leadscore.store.unscored import unscored
from leadscore.store.webhooks import subscribe
from tests.service.receiver import Receiver
from tests.service.serve import free_port, start_service

LEADS = 12
THRESHOLD = 3  # points: three page views (+1 each)


def test_a_killed_service_loses_no_accepted_event_and_no_owed_webhook(
    tmp_path: Path, database_url: str
) -> None:
    Project.init(tmp_path)
    project = Project.open(tmp_path, Settings(database_url=database_url))
    receiver = Receiver()
    with project.store() as store:
        key = create_key(store, "ingest", "crash test")
        subscribe(store, receiver.url, ["threshold_crossed"], threshold=THRESHOLD)
    port = free_port()
    acknowledged: list[str] = []
    stop = threading.Event()

    def send() -> None:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", auth=(key, "")) as client:
            for n in range(100_000):
                if stop.is_set():
                    return
                message = {
                    "userId": f"lead{n % LEADS}",
                    "name": "Docs",
                    "properties": {"path": f"/docs/{n}"},
                    "messageId": f"m{n}",
                }
                try:
                    answer = client.post("/v1/page", json=message, timeout=5)
                except httpx2.HTTPError:
                    continue  # the service is down: not acknowledged, may or may not be kept
                if answer.status_code == 200:
                    acknowledged.append(message["messageId"])

    server = start_service(tmp_path, database_url, port)
    client = threading.Thread(target=send)
    client.start()
    try:
        deadline = time.monotonic() + 20
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        helpers = _children(server.pid)  # its scoring process, and multiprocessing's tracker
        assert helpers
        server.send_signal(signal.SIGKILL)  # mid-stream, no shutdown of any kind
        server.wait(timeout=10)
        time.sleep(0.3)  # the client meets a closed port for a while
        stop.set()
        client.join(timeout=30)
        assert len(acknowledged) >= 40

        deadline = time.monotonic() + 10  # the helpers see the service gone and leave
        while any(Path(f"/proc/{pid}").exists() for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()]

        server = start_service(tmp_path, database_url, port)  # the restart catches up
        with project.store() as store:
            deadline = time.monotonic() + 20
            while unscored(store) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert unscored(store) == []
            with store.engine.connect() as conn:
                stored_ids = set(conn.exec_driver_sql("SELECT message_id FROM events").scalars())
            assert set(acknowledged) <= stored_ids

            model = default_model()
            owed = set()
            for n in range(LEADS):
                lead_id = f"lead{n}"
                [kept] = stored_scores(store, lead_id)
                replayed = explain_lead(store, model, lead_id, kept["as_of"])
                assert (kept["score"], kept["tier"]) == (replayed.score, replayed.tier), lead_id
                if kept["score"] >= THRESHOLD * 1000:
                    owed.add(lead_id)
            assert owed  # the run was long enough to owe something

            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                told = {p["lead_id"] for p in receiver.payloads() if p["direction"] == "up"}
                if owed <= told:
                    break
                time.sleep(0.1)
            assert owed <= told
    finally:
        stop.set()
        server.kill()
        server.wait(timeout=10)
        receiver.close()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
