"""``leadscore report``: every section's numbers on a small history worked by hand, and the
page opened in a real browser (Debian's Chromium) with every chart drawn."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from leadscore import Project
from leadscore.app.report_page import chart_ids
from leadscore.app.report_quality import psi
from leadscore.cli import app
from leadscore.store import schema
from tests.integration.conftest import write

runner = CliRunner()


@pytest.fixture
def project(project_on_each_database: Path) -> Path:
    """Every test here runs on SQLite and on PostgreSQL."""
    return project_on_each_database


DAY0 = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()) // 86_400  # a Monday
CHROMIUM = Path("/usr/bin/chromium")

MODEL = """\
name: views
engagement:
  - {name: page view, type: page, points: 1}
tiers:
  - {name: hot, min: 10}
  - {name: warm, min: 5}
  - {name: cold}
stages:
  - name: Lead
  - name: MQL
    when: {type: score, gte: 10}
  - name: SQL
    when:
      all:
        - {type: stage_reached, stage: MQL}
        - {type: events, event: Demo Requested, gte: 1}
"""


def _iso(day: int, hour: int = 9) -> str:
    moment = datetime.fromtimestamp((DAY0 + day) * 86_400 + hour * 3_600, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(day: int) -> str:
    return datetime.fromtimestamp((DAY0 + day) * 86_400, UTC).strftime("%Y-%m-%d")


def _views(lead: str, count: int, day: int, campaign: dict[str, str] | None = None) -> list[Any]:
    found: list[dict[str, Any]] = []
    for n in range(count):
        message: dict[str, Any] = {
            "type": "page",
            "userId": lead,
            "messageId": f"{lead}-{day}-{n}",
            "timestamp": _iso(day),
            "properties": {"path": f"/p{n}"},
        }
        if campaign and n == 0:
            message["context"] = {"campaign": campaign}
        found.append(message)
    return found


@pytest.fixture
def report(project: Path) -> dict[str, Any]:
    """Six leads over two weeks (days 0-6 and 7-13), MQL at 10 views, SQL after a demo:

    L1 12 views on day 1 (from google), MQL then; feedback on day 2 at 05:00; a demo on day 3
       (SQL); won on day 10.        L2 10 views on day 4 (from linkedin), MQL then, no action.
    L3 6 views on day 1, won on day 6 at noon.  L4 2 views on day 2, won on day 9.
    L5 7 views on day 8.            L6 1 view on day 11.
    """
    for old in (project / "models").glob("*.yaml"):
        old.unlink()
    (project / "models" / "views.yaml").write_text(MODEL)
    leads = "lead_id,email,first_name,last_name,company\n" + "".join(
        f"L{i},l{i}@acme.example,Ann{i},Berg,Acme\n" for i in range(1, 7)
    )
    (project / "leads.csv").write_text(leads)
    assert runner.invoke(app, ["import", "leads", str(project / "leads.csv")]).exit_code == 0
    events = [
        *_views("L1", 12, 1, {"source": "google", "name": "brand"}),
        {"type": "track", "userId": "L1", "event": "Demo Requested", "messageId": "demo",
         "timestamp": _iso(3)},
        *_views("L2", 10, 4, {"source": "linkedin", "name": "cmo"}),
        *_views("L3", 6, 1), *_views("L4", 2, 2), *_views("L5", 7, 8), *_views("L6", 1, 11),
    ]  # fmt: skip
    done = runner.invoke(app, ["import", "events", str(write(project / "e.jsonl", events))])
    assert done.exit_code == 0, done.output
    (project / "outcomes.csv").write_text(
        f"lead_id,outcome,at\nL1,won,{_iso(10, 0)}\nL3,won,{_iso(6, 12)}\nL4,won,{_iso(9, 0)}\n"
    )
    assert runner.invoke(app, ["import", "outcomes", str(project / "outcomes.csv")]).exit_code == 0
    at = int(datetime.fromisoformat(_iso(2, 5)).timestamp()) * 1_000_000
    with Project.open(project).store() as store, store.engine.begin() as c:
        c.execute(schema.feedback.insert().values(lead_id="L1", verdict="good_fit", note="", at=at))
    result = runner.invoke(
        app,
        ["report", "--from", _date(0), "--to", _date(13), "--horizon", "30d", "--capacity",
         "1/week", "--drift", "7d", "--output", str(project / "report.html")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads((project / "report.json").read_text())
    return found


def test_funnel_and_sla(report: dict[str, Any]) -> None:
    funnel = report["funnel"]
    assert funnel["weeks"] == [
        {"week": _date(0), "leads": 4, "MQL": 2, "SQL": 1, "customers": 1},
        {"week": _date(7), "leads": 2, "MQL": 0, "SQL": 0, "customers": 2},
    ]
    assert (funnel["handovers_per_week"], funnel["weeks_over_capacity"]) == (1.0, 1)
    hot = report["sla"]["by_tier"][0]
    # hand-overs are dated to the end of their day: L1's feedback came 5 hours after day 1's
    # end; its sale 8 days after it; L2 is still waiting
    assert (hot["tier"], hot["handed_over"], hot["acted_on"], hot["won"]) == ("hot", 2, 1, 1)
    assert hot["median_hours_to_action"] == pytest.approx(5.0, abs=1e-6)
    assert hot["median_days_to_won"] == pytest.approx(8.0, abs=1e-6)
    assert (report["sla"]["waiting"], report["sla"]["handed_over"]) == (1, 2)


def test_does_the_model_work(report: dict[str, Any]) -> None:
    quality = report["model_quality"]
    # L1 and L2 handed over, L1 won: 1/2. Won in the period: L3, L4, L1; L1 handed over first
    assert (quality["precision"], quality["recall"]) == (0.5, pytest.approx(1 / 3))
    # weekly snapshots at the end of days 0 and 7. Day 0: nobody has a view, 6 cold, 3 of whom
    # (L1, L3, L4) win within 30 days. Day 7: L3 has won already; L1 and L2 hot (L1 wins), L4,
    # L5, L6 cold (L4 wins)
    rates = {r["tier"]: (r["leads"], r["converted"]) for r in quality["by_tier"]}
    assert rates == {"hot": (2, 1), "warm": (0, 0), "cold": (9, 4)}
    # in June the only monthly snapshot is day 0: every score is 0, a tie: 0.5
    assert [(m["month"], m["roc_auc"]) for m in quality["auc_by_month"]] == [("2026-06", 0.5)]
    # L4 was cold the day before its sale; no top-tier lead has had 30 days to show
    assert [r["lead_id"] for r in quality["low_converted"]] == ["L4"]
    assert quality["low_converted"][0]["name"] == "Ann4 Berg"
    assert quality["high_not_converted"] == []


def test_attribution_and_drift(report: dict[str, Any]) -> None:
    sources = {
        r["value"]: (r["leads"], r["handed_over"], r["next_stage"], r["customers"])
        for r in report["attribution"]["source"]
    }
    assert sources == {"google": (1, 1, 1, 1), "linkedin": (1, 1, 0, 0), "(none)": (4, 0, 0, 2)}
    first = {r["value"] for r in report["attribution"]["first touch"]}
    assert first == {"google / brand", "linkedin / cmo", "(none)"}
    drift = report["drift"]
    # at the end of day 6: hot L1 L2, warm L3, cold L4 L5 L6; at the end of day 13 L5 is warm
    assert drift["before"]["tier_mix"] == {"hot": 2, "warm": 1, "cold": 3}
    assert drift["last"]["tier_mix"] == {"hot": 2, "warm": 2, "cold": 2}
    assert drift["psi"] == pytest.approx(0.0)  # 4 below 10 points and 2 in 10-20, both times
    # open at day 0's end: all six cold, L3 won within its 7 days (L4's day 9 is past them);
    # at day 7's end: L1 L2 hot (L1 won on day 10), L4 L5 L6 cold (L4 won on day 9)
    assert drift["before"]["conversion_by_tier"] == {
        "hot": {"leads": 0, "converted": 0},
        "warm": {"leads": 0, "converted": 0},
        "cold": {"leads": 6, "converted": 1},
    }
    assert drift["last"]["conversion_by_tier"] == {
        "hot": {"leads": 2, "converted": 1},
        "warm": {"leads": 0, "converted": 0},
        "cold": {"leads": 3, "converted": 1},
    }


def test_population_stability_index_by_hand() -> None:
    # half at 5 points and half at 15, then all at 5: shares (0.5, 0.5) -> (1, 0.0001)
    expected = (1 - 0.5) * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert psi(np.array([5_000, 15_000]), np.array([5_000, 5_000])) == pytest.approx(expected)


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's Chromium is not installed (apt-get install -y chromium; .ci/run does)",
)
def test_the_page_opens_in_chromium_with_every_chart(project: Path, report: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.on("request", lambda request: requested.append(request.url))
        page.goto((project / "report.html").resolve().as_uri())
        for chart in chart_ids(report):
            svg = page.locator(f"svg[data-chart='{chart}']")
            assert svg.count() == 1, chart
            box = svg.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 50, chart
            assert svg.locator("line.axis").count() == 2, chart
            assert svg.locator("text.axis-title").count() >= 1, chart
            caption = svg.locator("xpath=following-sibling::figcaption")
            assert len(caption.inner_text().strip()) > 20, chart
        assert page.locator("svg.chart").count() == len(chart_ids(report))
        wide = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert all(url.startswith("file://") for url in requested)  # nothing from the network
    assert wide <= 390  # no sideways scrolling on a phone
