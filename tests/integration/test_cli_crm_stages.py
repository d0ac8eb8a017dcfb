"""CRM stages round the lifecycle: a HubSpot export's Lifecycle Stage (or a Salesforce
status) enters the stage history with its source, moves leads forward only, and a Customer
counts as an outcome that training learns from."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app

runner = CliRunner()

EXPORT = (
    "Email,First Name,Company Name,Job Title,Lifecycle Stage\n"
    "mql@acme.example,Mia,Acme,CMO,Marketing Qualified Lead\n"
    "buyer@acme.example,Bo,Acme,CEO,Customer\n"
    "sub@acme.example,Sam,Acme,Intern,Subscriber\n"
    "demo@acme.example,Dee,Acme,CTO,Demo Booked\n"
    "none@acme.example,Nils,Acme,CTO,\n"
    "idle@acme.example,Ida,Acme,CMO,marketingqualifiedlead\n"
)


def _visit(project: Path, lead_id: str) -> None:
    """A page view two days ago: the lead is active (the brief withdraws an MQL after 90
    days without activity, and a lead that never did anything has been inactive forever)."""
    when = datetime.now(UTC) - timedelta(days=2)
    message = {"type": "page", "userId": lead_id, "messageId": f"v-{lead_id}",
               "properties": {"path": "/blog"}, "timestamp": when.isoformat()}  # fmt: skip
    (project / "events.jsonl").write_text(json.dumps(message) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "events", "events.jsonl"])
    assert result.exit_code == 0, result.output


def _import(project: Path, text: str) -> str:
    path = project / "contacts.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["import", "leads", "contacts.csv"])
    assert result.exit_code == 0, result.output
    return " ".join(result.stderr.split())


def _stages(project: Path) -> dict[str, str]:
    out = project / "scores.csv"
    result = runner.invoke(app, ["score", "--dry-run", "--output", str(out)])
    assert result.exit_code == 0, result.output
    return {row["lead_id"]: row["stage"] for row in csv.DictReader(out.read_text().splitlines())}


def test_hubspot_stages_enter_the_history_and_customers_are_outcomes(
    project_on_each_database: Path,
) -> None:
    project = project_on_each_database
    said = _import(project, EXPORT)
    # 5 leads carry a stage; both MQLs (label and internal name) and Customer -> SQL move
    # under the one model (brief); Subscriber means Lead, where every lead starts; Demo
    # Booked means nothing yet
    assert "CRM stages of 5 leads: 3 stage changes and 1 outcomes recorded." in said
    assert "CRM stage 'Demo Booked' (1 leads) means nothing here" in said
    with Project.find(project).store() as store:
        (mql,) = store.transitions("mql@acme.example")
        assert (mql.model, mql.from_stage, mql.to_stage, mql.kind) == (
            "brief",
            "Lead",
            "MQL",
            "crm",
        )
        assert mql.reason == (
            "the CRM has the lead as 'Marketing Qualified Lead' (imported from contacts.csv)"
        )
        (buyer,) = store.transitions("buyer@acme.example")
        assert (buyer.to_stage, buyer.kind) == ("SQL", "crm")
        assert store.transitions("sub@acme.example") == []
    # none of these leads meets the brief's MQL conditions: the stages are the CRM's, and
    # the model's own withdraw rule still holds (the idle MQL goes back to Lead)
    _visit(project, "mql@acme.example")
    assert _stages(project) == {
        "mql@acme.example": "MQL",
        "buyer@acme.example": "SQL",
        "sub@acme.example": "Lead",
        "demo@acme.example": "Lead",
        "none@acme.example": "Lead",
        "idle@acme.example": "Lead",
    }
    explained = runner.invoke(app, ["explain", "mql@acme.example"])
    assert explained.exit_code == 0, explained.output
    assert "imported from contacts.csv" in explained.stdout

    # the same file again changes nothing: no repeated history, no second outcome
    again = _import(project, EXPORT)
    assert "CRM stages of 5 leads: 0 stage changes and 0 outcomes recorded." in again


def test_a_stage_behind_the_recorded_one_changes_nothing(project_on_each_database: Path) -> None:
    project = project_on_each_database
    _import(project, "Email,Lifecycle Stage\nx@acme.example,Sales Qualified Lead\n")
    said = _import(project, "Email,Lifecycle Stage\nx@acme.example,Marketing Qualified Lead\n")
    assert "0 stage changes" in said
    assert _stages(project) == {"x@acme.example": "SQL"}


def test_the_setting_says_what_other_values_mean(project_on_each_database: Path) -> None:
    project = project_on_each_database
    config = project / "leadscore.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + 'crm_stages = { "Demo Booked" = "SQL", "Customer" = { outcome = "converted" }, '
        '"Subscriber" = "" }\n',
        encoding="utf-8",
    )
    said = _import(project, EXPORT)
    # both MQLs (default), Demo Booked -> SQL (setting); Customer now only an outcome
    assert "3 stage changes and 1 outcomes recorded" in said
    assert "means nothing here" not in said
    stages = _stages(project)
    assert (stages["demo@acme.example"], stages["buyer@acme.example"]) == ("SQL", "Lead")


def test_salesforce_statuses(project_on_each_database: Path) -> None:
    project = project_on_each_database
    said = _import(
        project,
        "Lead ID,Email,Lead Status\n"
        "00Q1,a@fjord.example,Open - Not Contacted\n"
        "00Q2,b@fjord.example,Working - Contacted\n"
        "00Q3,c@fjord.example,Closed - Converted\n"
        "00Q4,d@fjord.example,Closed - Not Converted\n",
    )
    assert "CRM stages of 4 leads: 2 stage changes and 2 outcomes recorded." in said
    assert _stages(project) == {"00Q1": "Lead", "00Q2": "SQL", "00Q3": "SQL", "00Q4": "Lead"}


def test_a_bad_setting_is_named_without_a_traceback(project_on_each_database: Path) -> None:
    project = project_on_each_database
    config = project / "leadscore.toml"
    config.write_text('crm_stages = { "Won" = { outcome = "bought" } }\n', encoding="utf-8")
    result = runner.invoke(app, ["import", "leads", "contacts.csv"])
    assert result.exit_code == 1
    assert "leadscore.toml: crm_stages.Won" in result.stderr
    assert "Input should be 'converted', 'won' or 'lost' (got 'bought')" in result.stderr
    assert "Traceback" not in result.output
