"""Accounts through the CLI: grouping at import, account facts in explain, the roll-up."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from leadscore.cli import app
from tests.integration.conftest import write

runner = CliRunner()


def _webinars(lead_id: str) -> list[dict[str, object]]:
    return [
        {
            "type": "track",
            "userId": lead_id,
            "event": name,
            "messageId": f"{lead_id}-{name}",
            "timestamp": "2026-06-01T10:00:00Z",
        }
        for name in ("Webinar Registered", "Webinar Attended")
    ]


def test_accounts_roll_up_and_explain(project_on_each_database: Path) -> None:
    project = project_on_each_database
    leads = project / "leads.csv"
    leads.write_text(
        "lead_id,email\na,a@acme.example\nb,b@acme.example\nc,c@ACME.example\nd,d@gmail.com\n"
    )
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    events = [e for lead in "abcd" for e in _webinars(lead)]
    events.append(
        {
            "type": "track",
            "userId": "a",
            "event": "Demo Requested",
            "messageId": "x",
            "timestamp": "2026-06-01T11:00:00Z",
        }
    )
    assert (
        runner.invoke(app, ["import", "events", str(write(project / "e.jsonl", events))]).exit_code
        == 0
    )

    out = project / "accounts.csv"
    result = runner.invoke(app, ["accounts", "--as-of", "2026-06-02", "--output", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(out.read_text().splitlines())  # d (free mail) has no account
    # a, b, c: webinars 10 + 10 = 20 each (engaged: >= 19), a also demo +15 -> 35.
    # Three engaged colleagues: each gets "buying team engaged" +10 fit.
    assert (row["account_id"], row["leads"], row["engaged_leads"]) == ("acme.example", "3", "3")
    assert (row["fit"], row["engagement"], row["score"], row["best_lead"]) == (
        "10",
        "75",
        "45",
        "a",
    )

    result = runner.invoke(app, ["explain", "b", "--as-of", "2026-06-02", "--json"])
    (explained,) = json.loads(result.stdout)
    assert explained["account"] == {
        "account.id": "acme.example",
        "account.leads": 3,
        "account.engaged_leads": 3,
        "account.engagement": 75.0,
        "account.newsletter_readers": 0,
    }
    assert explained["fit"] == 10
    result = runner.invoke(app, ["explain", "d", "--as-of", "2026-06-02"])
    own = "account (none: an account of its own): leads 1, engaged 1, engagement 20"
    assert own in result.stdout


def test_accounts_are_named_by_their_company_and_the_cut_is_said(
    project_on_each_database: Path,
) -> None:
    project = project_on_each_database
    leads = project / "leads.csv"
    leads.write_text(
        "lead_id,email,company,first_name\n"
        "a,a@nordwind.example,Nordwind Logistik GmbH,Ann\n"
        "b,b@nordwind.example,Nordwind Logistik GmbH,Bo\n"
        "c,c@nordwind.example,Nordwind,Cy\n"
        "d,d@fjord.example,Fjord AS,Di\n"
        "e,e@pine.example,,Ed\n"
    )
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    events = [e for lead in "abd" for e in _webinars(lead)]  # nordwind 40, fjord 20
    assert runner.invoke(app, ["import", "events", str(write(project / "e.jsonl", events))])
    result = runner.invoke(app, ["accounts", "--as-of", "2026-06-02", "--top", "2"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    # 3 accounts, 2 shown: the cut is said, with how to see the rest
    assert "brief: 3 accounts as of 2026-06-02 23:59:59 UTC; the 2 most engaged below " in text
    lines = [line for line in result.stdout.splitlines() if ".example" in line]
    # nordwind: the name two of its three leads give; its best lead with her name
    assert lines[0].split("│")[1].strip() == "Nordwind Logistik GmbH"
    assert lines[0].split("│")[-2].strip() == "a Ann"
    assert lines[1].split("│")[1].strip() == "Fjord AS"
    out = project / "accounts.csv"
    runner.invoke(app, ["accounts", "--as-of", "2026-06-02", "--output", str(out)])
    rows = {r["account_id"]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert rows["pine.example"]["company"] == ""  # no lead names the company
