"""Scores out to the CRM and back: the export is a file the CRM's import takes, holds only
what changed since last time, and importing it again changes nothing.

Points by hand from the brief's model (models/brief.yaml): leadership role +20, company of
100+ employees +15, company of 11-99 employees +8, personal email domain -10, a webinar
attended +10 (recent: full points). Tiers: hot 50+, warm 19-49, cold below."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app

runner = CliRunner()

CONTACTS = (
    "Email,First Name,Job Title,Number of Employees,Lifecycle Stage\n"
    "ceo@acme.example,Ann,CEO,250,Lead\n"
    "vp@fjord.example,Kai,VP Sales,40,Marketing Qualified Lead\n"
    "kid@gmail.com,Bo,,,Subscriber\n"
)


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.stderr.split())


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def _webinar(project: Path, lead_id: str) -> None:
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    message = {"type": "track", "userId": lead_id, "event": "Webinar Attended",
               "messageId": f"w-{lead_id}", "timestamp": when}  # fmt: skip
    (project / "events.jsonl").write_text(json.dumps(message) + "\n", encoding="utf-8")
    _ok("import", "events", "events.jsonl")


def test_hubspot_round_trip(project_on_each_database: Path) -> None:
    project = project_on_each_database
    (project / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    _ok("import", "leads", "contacts.csv")
    _webinar(project, "vp@fjord.example")  # active: the brief withdraws an idle MQL
    _ok("score")
    said = _ok("export", "crm", "--format", "hubspot")
    assert "Wrote 3 leads of model brief to crm-hubspot.csv (hubspot); 0 unchanged" in said
    rows = {row["Email"]: row for row in _rows(project / "crm-hubspot.csv")}
    assert list(next(iter(rows.values()))) == [
        "Email",
        "leadscore_score",
        "leadscore_tier",
        "leadscore_grade",
        "leadscore_stage",
        "leadscore_reasons",
        "leadscore_scored_at",
    ]
    ceo = rows["ceo@acme.example"]
    # leadership role +20, 100+ employees +15: 35, warm; no events
    assert (ceo["leadscore_score"], ceo["leadscore_tier"], ceo["leadscore_stage"]) == (
        "35",
        "warm",
        "Lead",
    )
    assert ceo["leadscore_reasons"] == "leadership role +20; company of 100+ employees +15"
    # the CRM's MQL came in with the import, and goes back out (stages only move forward)
    assert rows["vp@fjord.example"]["leadscore_stage"] == "MQL"
    # free mail -10 clips to 0
    assert (rows["kid@gmail.com"]["leadscore_score"], rows["kid@gmail.com"]["leadscore_tier"]) == (
        "0",
        "cold",
    )

    # nothing changed: nothing to write
    said = _ok("export", "crm", "--format", "hubspot", "-o", "again.csv")
    assert "Wrote 0 leads" in said and "3 unchanged since the last export" in said
    assert _rows(project / "again.csv") == []

    # one lead attends a webinar: only that lead goes out, 35 + 10 = 45
    _webinar(project, "ceo@acme.example")
    _ok("score")
    _ok("export", "crm", "--format", "hubspot", "-o", "changed.csv")
    (changed,) = _rows(project / "changed.csv")
    assert (changed["Email"], changed["leadscore_score"]) == ("ceo@acme.example", "45")
    assert changed["leadscore_reasons"].startswith("leadership role +20; ")

    # importing the export into leadscore changes no lead, and no stage history
    with Project.find(project).store() as store:
        before = {
            lead: (store.lead(lead), store.transitions(lead)) for lead in store.all_lead_ids()
        }
    _ok("import", "leads", "crm-hubspot.csv")
    with Project.find(project).store() as store:
        after = {lead: (store.lead(lead), store.transitions(lead)) for lead in store.all_lead_ids()}
    assert after == before
    assert [t.kind for t in before["vp@fjord.example"][1]] == ["crm"]  # the CRM's MQL, kept

    # --all writes every lead again
    _ok("export", "crm", "--format", "hubspot", "--all", "-o", "all.csv")
    assert len(_rows(project / "all.csv")) == 3


def test_salesforce_by_id_and_leads_without_email(project_on_each_database: Path) -> None:
    project = project_on_each_database
    (project / "leads.csv").write_text(
        "lead_id,email,job_title,company_size\n00Q1,a@acme.example,CEO,250\n00Q2,,CEO,50\n",
        encoding="utf-8",
    )
    _ok("import", "leads", "leads.csv")
    _ok("score")
    said = _ok("export", "crm", "--format", "salesforce")
    assert "1 without an email left out (--key id writes them)" in said
    (row,) = _rows(project / "crm-salesforce.csv")
    assert list(row) == [
        "Email",
        "Leadscore_Score__c",
        "Leadscore_Tier__c",
        "Leadscore_Grade__c",
        "Leadscore_Stage__c",
        "Leadscore_Reasons__c",
        "Leadscore_Scored_At__c",
    ]
    _ok("export", "crm", "--format", "salesforce", "--key", "id", "-o", "by-id.csv")
    rows = {r["Id"]: r for r in _rows(project / "by-id.csv")}
    # 00Q2: leadership +20, 11-99 employees +8 = 28
    assert rows["00Q2"]["Leadscore_Score__c"] == "28"


def test_clear_refusals(project_on_each_database: Path) -> None:
    nothing = runner.invoke(app, ["export", "crm"])
    assert nothing.exit_code == 1 and "run 'leadscore score'" in nothing.stderr
    bad = runner.invoke(app, ["export", "crm", "--format", "pipedrive"])
    assert bad.exit_code == 2 and "use one of hubspot, salesforce, csv" in bad.output
