"""Run the service on a real socket: ``leadscore serve`` as a process, for the tests that
kill or stop it, or the app in a thread, for real clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(
    root: Path, database_url: str, port: int, *options: str
) -> subprocess.Popen[bytes]:
    """Start the service in ``root`` and wait until it answers; its output goes to
    ``root/serve.log``. Scheduled rescoring is off unless ``options`` say otherwise."""
    env = {**os.environ, "LEADSCORE_DATABASE_URL": database_url}
    log = root / "serve.log"
    defaults = ["--rescore-every", "0"]
    with log.open("ab") as output:  # the child keeps its own handle
        process = subprocess.Popen(
            [sys.executable, "-m", "leadscore", "serve", "--port", str(port), *defaults, *options],
            cwd=root,
            env=env,
            stdout=output,
            stderr=output,
        )
    if not answers(port, process, 30):
        if process.poll() is not None:
            pytest.fail(f"the service did not start: {log.read_text()}")
        process.kill()
        pytest.fail("the service did not answer /healthz within 30 s")
    return process


def answers(port: int, process: subprocess.Popen[Any], seconds: float) -> bool:
    """Whether the service on ``port`` answers /healthz within ``seconds`` (False at once
    when ``process`` has stopped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return True
        except httpx2.HTTPError:
            time.sleep(0.05)
        if process.poll() is not None:
            return False
    return False


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread, for clients that need
    a real socket; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        pytest.fail("uvicorn did not start within 10 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
