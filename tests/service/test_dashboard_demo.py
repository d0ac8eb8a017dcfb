"""``leadscore demo --serve`` as a user runs it: the demo company is generated, scored and
trained on, a dashboard user is made and its password printed, and the dashboard opens in
Chromium: the top lead's rules add up to its score, and the trained model's chance to
convert shows on the list and on the lead."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.service.browser import check_page, screenshot_folder
from tests.service.serve import answers, free_port
from tests.service.test_dashboard import CHROMIUM, needs_chromium

pytestmark = pytest.mark.slow


def _started(process: subprocess.Popen[str], port: int) -> str:
    """Wait (at most 180 s) for the demo to print its sign-in line and answer; the password."""
    assert process.stderr is not None
    deadline = time.monotonic() + 180
    said: list[str] = []
    password = None
    while time.monotonic() < deadline and password is None:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            pytest.fail("the demo stopped: " + "".join(said))
        said.append(line)
        if found := re.search(r"with the password (\S+) ", line):
            password = found.group(1)
    assert password is not None, "".join(said)
    if not answers(port, process, max(deadline - time.monotonic(), 1)):
        pytest.fail("the demo's service did not answer /healthz within 180 s")
    return password


@needs_chromium
def test_the_demo_serves_its_dashboard(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    command = [sys.executable, "-m", "leadscore", "demo", "co", "--serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("LEADSCORE_DATABASE")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        password = _started(process, port)
        base = f"http://127.0.0.1:{port}"
        shots = screenshot_folder(request)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(base)
            page.get_by_label("Email").fill("admin@demo.example")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/leads")
            headers = page.locator("thead th").all_inner_texts()
            assert "Chance to convert" in headers
            chance = (
                page.locator("tbody tr").first.locator("td").nth(headers.index("Chance to convert"))
            )
            assert re.fullmatch(r"\d{1,3}%", chance.inner_text())
            check_page(page, shots, "demo-leads")
            top = page.locator("tbody tr").first.locator("td a").first
            name = top.inner_text()
            top.click()
            assert page.get_by_role("heading", level=1).inner_text() == name
            shown = [float(v) for v in page.locator("tbody tr[data-points]").evaluate_all(
                "rows => rows.map(r => r.dataset.points)")]  # fmt: skip
            total = float(page.locator("[data-total]").inner_text())
            # the rules add up to the score unless the clip (100) took some off, as a row
            assert round(sum(shown), 3) == total
            rows = page.locator("tbody tr[data-points]").all_inner_texts()
            if total == 100:  # the clip's row says what it took off; decay says its part
                assert any("taken off by the score's clip" in row for row in rows), rows
            assert any("before decay" in row for row in rows), rows
            assert page.locator("svg[data-chart='score-over-time'] path").count() >= 1
            predicted = page.locator("section[aria-labelledby='predicted-title']").inner_text()
            assert re.search(r"\d{1,3}% under the trained model predictive v1", predicted)
            check_page(page, shots, "demo-lead")
            browser.close()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()
