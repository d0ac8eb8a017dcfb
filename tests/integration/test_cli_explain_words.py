"""Explanations a marketer reads: who the lead is beside its id, conditions in plain words
with the measured value, and the models that do not apply named instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leadscore.cli import app

runner = CliRunner()

B2C = """\
name: b2c
applies_to: [{type: in, field: country, values: [US]}]
engagement:
  - {name: visit, type: page, points: 1}
tiers: [{name: hot, min: 10}, {name: cold}]
"""


def test_explain_speaks_of_people_and_plain_conditions(project_on_each_database: Path) -> None:
    project = project_on_each_database
    (project / "leads.csv").write_text(
        "lead_id,first_name,last_name,email,company,job_title,company_size,country\n"
        "L1,Ann,Berg,ann@acme.example,Acme,Marketing Manager,5,DK\n",
        encoding="utf-8",
    )
    (project / "models" / "b2c.yaml").write_text(B2C, encoding="utf-8")
    assert runner.invoke(app, ["import", "leads", "leads.csv"]).exit_code == 0
    result = runner.invoke(app, ["explain", "L1"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "L1 (Ann Berg <ann@acme.example>, Acme) under brief" in text
    # the brief's MQL conditions, as the brief says them
    assert "company size is more than 10: no, 5" in text
    assert "job title has one of the words marketing, sales, revenue, growth, it, " in text
    assert "at least 2 Content Downloaded events where premium is true: no, 0" in text
    assert "last activity at most 30 days ago: no, never" in text
    assert "range gt=" not in text and "\\b(" not in text
    # a model for US consumers does not apply to a Danish lead: said, not an error
    assert "Not under b2c: those models do not apply to this lead." in text

    # machines keep the exact form, with the words beside it
    as_json = runner.invoke(app, ["explain", "L1", "--json"])
    (brief,) = json.loads(as_json.stdout)
    first = brief["stages"][1]["checks"][0]
    assert first == {
        "condition": "company_size range gt=10.0",
        "words": "company size is more than 10",
        "value": "'5'",
        "holds": False,
    }

    asked = runner.invoke(app, ["explain", "L1", "--model", "b2c"])
    assert asked.exit_code == 1 and "model 'b2c' does not apply to lead 'L1'" in asked.stderr
