"""What every dashboard page opened in the browser goes through: a screenshot kept as a test
artifact (``test-artifacts/screenshots/<test>/<name>.png`` under the project, or the folder
in ``LEADSCORE_SCREENSHOTS``), and axe-core's accessibility checks (WCAG 2.1 A and AA) with
no serious or critical violation."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCKING = {"serious", "critical"}


def screenshot_folder(request: pytest.FixtureRequest) -> Path:
    """Where this test's screenshots go (one folder per test and parameter)."""
    base = Path(os.environ.get("LEADSCORE_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
    folder = base / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_page(page: Any, folder: Path, name: str) -> None:
    """Keep a full-page screenshot of ``page`` as ``name``.png and fail on any serious or
    critical axe-core violation, naming the rule and the elements."""
    from axe_playwright_python.sync_playwright import Axe

    title = page.title()  # what a tab, a bookmark and a screen reader say of the page
    assert 0 < len(title) <= 100 and "<" not in title, f"{name}: title {title[:200]!r}"
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    found = Axe().run(page, options=options).response["violations"]
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in found
        if v.get("impact") in BLOCKING
    ]
    assert not blocking, f"{name}: " + "; ".join(blocking)
