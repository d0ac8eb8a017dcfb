"""The grade x band matrix in `score` files and the CRM export, and refused without grades.

By hand from the brief's model: leadership +20, 100+ employees +15, target country +5;
manager +10; grades A from 35, B from 20. Engagement bands (tests/service/test_priority.py's
PRIORITY): 1 from 50, 2 from 20, 3 from 5, 4 below."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from leadscore.cli import app
from tests.service.test_priority import PRIORITY


def test_priority_in_score_files_and_crm_exports(project_on_each_database: Path) -> None:
    project = project_on_each_database
    runner = CliRunner()
    model = project / "models" / "brief.yaml"
    model.write_text(model.read_text(encoding="utf-8") + PRIORITY, encoding="utf-8")
    (project / "leads.csv").write_text(
        "lead_id,email,job_title,company_size,country\n"
        "L1,a@acme.example,CEO,250,DK\n"  # 20 + 15 + 5 = 40: grade A; no events: band 4
        "L2,b@acme.example,Marketing Manager,250,DK\n",  # 30: grade B, band 4
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", "leads", "leads.csv"]).exit_code == 0
    scored = runner.invoke(app, ["score", "--output", "scores.csv"])
    assert scored.exit_code == 0, scored.output
    rows = {r["lead_id"]: r for r in csv.DictReader(Path("scores.csv").read_text().splitlines())}
    assert list(rows["L1"])[:9] == [
        "lead_id", "account_id", "model", "fit", "engagement", "score", "tier", "grade",
        "priority",
    ]  # fmt: skip
    assert (rows["L1"]["priority"], rows["L2"]["priority"]) == ("A4", "B4")
    exported = runner.invoke(app, ["export", "crm", "--format", "hubspot"])
    assert exported.exit_code == 0, exported.output
    out = {r["Email"]: r for r in csv.DictReader(Path("crm-hubspot.csv").read_text().splitlines())}
    assert out["a@acme.example"]["leadscore_priority"] == "A4"


def test_priority_needs_grades(project_on_each_database: Path) -> None:
    project = project_on_each_database
    (project / "models" / "brief.yaml").write_text(
        "name: bare\ntiers: [{name: all}]\n" + PRIORITY, encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 1
    assert "priority pairs each grade with a band: give 'grades' too" in result.stderr
