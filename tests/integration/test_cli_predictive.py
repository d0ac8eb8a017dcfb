"""The predictive commands end to end, as a user runs them: import outcomes, train, score and
explain with the trained model, evaluate against the baselines, learn points and run them."""

from __future__ import annotations

import base64
import csv
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app
from leadscore.service.app import create_app
from tests.predict import synthetic

runner = CliRunner()


@pytest.fixture
def project(project_on_each_database: Path) -> Path:
    """Every test here runs on SQLite and on PostgreSQL."""
    return project_on_each_database


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _company(project: Path) -> synthetic.Files:
    files = synthetic.write(project, leads=800)
    _ok("import", "leads", str(files.leads))
    _ok("import", "events", str(files.events))
    _ok("import", "outcomes", str(files.outcomes))
    return files


def test_bad_outcome_lines_are_named_and_the_good_ones_kept(project: Path) -> None:
    _ok("import", "leads", str(synthetic.write(project, leads=5).leads))
    path = project / "outcomes.csv"
    path.write_text(
        "lead_id,outcome,at,value\n"
        "L-00000,converted,2026-02-01,1200\n"
        "L-00001,bought,2026-02-01,\n"
        "L-00002,won,yesterday,\n"
        "L-99999,won,2026-02-01,\n"
        "L-00003,lost,2026-02-03T10:00:00+02:00,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", "outcomes", str(path)])
    assert result.exit_code == 3
    assert "outcomes.csv:3: 'outcome' 'bought' is not one of converted, won, lost" in result.stderr
    assert "outcomes.csv:4: 'at'" in result.stderr
    assert "outcomes.csv:5: 'lead_id' 'L-99999' is not in the database" in result.stderr
    assert "Imported 2 outcomes" in result.stderr


def test_train_score_and_explain_with_the_trained_model(
    project: Path, request: pytest.FixtureRequest
) -> None:
    _company(project)
    trained = runner.invoke(app, ["train", "--name", "buyers", "--snapshots", "4"])
    assert trained.exit_code == 0, trained.output
    assert "Trained buyers v1 (active)" in trained.stderr
    listed = _ok("predictive", "list")
    assert "buyers" in listed and "v1" in listed
    meta = json.loads(
        (project / "models" / "predictive" / "buyers" / "v1" / "model.json").read_text("utf-8")
    )
    chosen = meta["training"]["family"]["chosen"]  # the member train chose, named in the list
    assert chosen.split()[0] in listed and "Chosen: best mean ROC AUC" in trained.stderr

    out = project / "predictions.csv"
    _ok("score", "--model", "buyers", "--as-of", "2026-06-01", "--output", str(out))
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 800
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= float(r["probability"]) <= 1 for r in rows)

    lead = rows[0]["lead_id"]
    explained = json.loads(
        _ok("explain", lead, "--model", "buyers", "--as-of", "2026-06-01", "--json")
    )
    total = sum(r["points"] for r in explained["reasons"])
    # the reasons share out the distance from the average lead; each is rounded to 0.1 and
    # those under 0.05 are left out
    tolerance = 0.05 * len(explained["reasons"]) + 0.1
    assert explained["reasons_basis"] == "score"  # the best lead is far from the average
    assert abs(total - (explained["score"] - explained["average_score"])) < tolerance
    assert explained["score"] == float(rows[0]["score"])

    # a second version, not activated: the first keeps serving until activated
    _ok("train", "--name", "buyers", "--snapshots", "3", "--no-activate")
    assert "v2" in _ok("predictive", "list")
    _ok("predictive", "activate", "buyers", "2")
    again = json.loads(_ok("explain", lead, "--model", "buyers", "--json"))
    assert again["version"] == 2

    # the service serves the active version beside the point models
    key = _ok("keys", "create", "--scope", "read").strip().splitlines()[0]
    served = create_app(Project.find(project))
    # the app's store is closed by the app's shutdown, which this client never runs
    request.addfinalizer(served.state.store.close)
    client = TestClient(served)
    shown = client.get(f"/v1/leads/{lead}", headers={"Authorization": f"Bearer {key}"})
    assert shown.status_code == 200, shown.text
    (prediction,) = shown.json()["predictions"]
    assert (prediction["model"], prediction["version"]) == ("buyers", 2)
    assert prediction["score"] == round(100 * prediction["probability"], 1)
    assert {r["feature"] for r in prediction["reasons"]} >= {"days since last activity"}
    assert shown.json()["results"][0]["model"] == "brief"

    # one listing and one activation for both kinds of model
    table = _ok("models", "list")
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines()
            if line.startswith(("│ brief", "│ buyers"))]  # fmt: skip
    assert [row[:4] for row in rows] == [
        ["brief", "v1", "yes", "points"],
        ["buyers", "v1", "", "trained"],
        ["buyers", "v2", "yes", "trained"],
    ]
    assert f"{chosen.split()[0]}" in rows[1][4] and "validation ROC AUC 0." in rows[1][4]
    said = _ok("models", "rollback", "buyers")
    assert "buyers v1 is in use (a trained model" in said
    assert json.loads(_ok("explain", lead, "--model", "buyers", "--json"))["version"] == 1
    admin = _ok("keys", "create", "--scope", "admin").strip().splitlines()[0]
    headers = {"Authorization": f"Bearer {admin}"}
    listed_api = client.get("/v1/models", headers=headers).json()["versions"]
    assert [(v["name"], v["version"], v["active"], v["kind"]) for v in listed_api] == [
        ("brief", 1, True, "points"),
        ("buyers", 1, True, "trained"),
        ("buyers", 2, False, "trained"),
    ]
    switched = client.post("/v1/models/buyers/versions/2/activate", headers=headers)
    assert switched.status_code == 202 and switched.json()["leads_to_rescore"] == 0
    again = client.get(f"/v1/leads/{lead}", headers={"Authorization": f"Bearer {key}"})
    assert again.json()["predictions"][0]["version"] == 2
    wrong = client.post("/v1/models/buyers/versions/2/activate?kind=points", headers=headers)
    assert wrong.status_code == 404 and "no point model named 'buyers'" in wrong.text

    # every lead's prediction kept (the activation above kept v2's; rescore keeps them again
    # with the point results), ranked and filtered by the lead list as computed on request
    assert "Kept 800 predictions of buyers v2" in _ok("rescore")
    read = {"Authorization": f"Bearer {key}"}
    first = client.get("/v1/leads", params={"sort": "chance", "limit": 1}, headers=read)
    assert first.status_code == 200, first.text
    kept_at = first.json()["leads"][0]["chance"]["as_of"]
    instant = datetime.strptime(kept_at, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    out = project / "chances.csv"
    _ok("score", "--model", "buyers", "--as-of", instant.isoformat(), "--output", str(out))
    with out.open(encoding="utf-8") as handle:
        computed = {r["lead_id"]: float(r["score"]) for r in csv.DictReader(handle)}
    threshold = sorted(computed.values(), reverse=True)[40]
    listed = client.get(
        "/v1/leads", params={"sort": "chance", "min_chance": threshold, "limit": 500}, headers=read
    ).json()["leads"]
    assert {row["lead_id"]: row["chance"]["score"] for row in listed} == {
        lead_id: score for lead_id, score in computed.items() if score >= threshold
    }
    shown = [row["chance"]["score"] for row in listed]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 41
    page = client.get("/v1/leads", params={"limit": 3}, headers=read).json()["leads"]
    assert all(row["chance"]["score"] == computed[row["lead_id"]] for row in page)

    # a service round keeps the prediction of the leads it rescored, as of the round
    ingest = _ok("keys", "create", "--scope", "ingest").strip().splitlines()[0]
    basic = {"Authorization": "Basic " + base64.b64encode(f"{ingest}:".encode()).decode()}
    demo = {"type": "track", "userId": lead, "event": "Demo Requested", "messageId": "late"}
    time.sleep(1.1)  # the list shows instants to the second: the round's is a later one
    sent = client.post("/v1/batch", json={"batch": [demo]}, headers=basic)
    assert sent.status_code == 200, sent.text
    everyone = client.get(
        "/v1/leads", params={"sort": "chance", "min_chance": 0, "limit": 500}, headers=read
    ).json()["leads"]
    after = {row["lead_id"]: row["chance"]["as_of"] for row in everyone}
    assert after[lead] > kept_at  # this lead's prediction is the round's
    assert sorted(a for key, a in after.items() if key != lead)[-1] == kept_at  # not others


def test_evaluate_writes_the_report_and_learned_points_run(project: Path) -> None:
    _company(project)
    _ok("evaluate", "--snapshots", "4", "--output-dir", "report")
    report = json.loads((project / "report" / "evaluation.json").read_text(encoding="utf-8"))
    models = report["models"]
    assert {
        "trees (default settings)",
        "learned points",
        "logistic regression",
        "naive Bayes frequency table (Odoo-style)",
        "hand model 'brief'",
    } <= set(models)
    assert report["test_rows"] > 0 and report["split"] == "later rows by time"
    page = (project / "report" / "evaluation.html").read_text(encoding="utf-8")
    assert "<svg" in page and "ROC curve" in page

    _ok("learn-points", "--snapshots", "4")
    assert (project / "models" / "learned.yaml").exists()
    scored = _ok("score", "--model", "learned", "--dry-run")
    assert "learned" in scored
    refused = runner.invoke(app, ["learn-points", "--snapshots", "4"])
    assert refused.exit_code == 1 and "already exists; give --force" in refused.stderr


def test_train_on_each_leads_first_days(project: Path) -> None:
    _company(project)
    trained = runner.invoke(app, ["train", "--after-first-touch", "3"])
    assert trained.exit_code == 0, trained.output
    assert "at the end of day 3 after their first touch; left out:" in trained.stderr
    assert "Trained predictive v1 (active)" in trained.stderr


def test_clear_refusals(project: Path) -> None:
    empty = runner.invoke(app, ["train"])
    assert empty.exit_code == 1 and "no events or outcomes to learn from" in empty.stderr
    _company(project)
    few = runner.invoke(app, ["train", "--min-conversions", "100000"])
    assert few.exit_code == 1 and "at least 100000 are needed" in few.stderr
    table = runner.invoke(app, ["train", "--table", "leads.csv"])
    assert table.exit_code == 1 and "--table needs --target" in table.stderr
    missing = runner.invoke(app, ["train", "--table", "nope.csv", "--target", "won"])
    assert missing.exit_code == 1 and "nope.csv: no such file" in missing.stderr
    unknown = runner.invoke(app, ["explain", "L-00001", "--model", "nothing"])
    assert unknown.exit_code == 1


def test_a_crm_table_needs_no_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no leadscore.toml here or above
    rng = random.Random(3)
    lines = ["Job Title;Number of Employees;Visits;Converted"]
    for _ in range(600):
        visits = rng.randint(0, 30)
        size = rng.choice([5, 50, 500])
        chance = 0.05 + 0.5 * (visits > 15) + 0.2 * (size == 500)
        won = "Yes" if rng.random() < chance else "No"
        lines.append(f"{rng.choice(['CEO', 'Intern', 'VP Sales'])};{size};{visits};{won}")
    (tmp_path / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = ["--table", "export.csv", "--target", "Converted"]
    _ok("evaluate", *table, "--no-points")
    assert (tmp_path / "evaluation" / "evaluation.json").exists()
    _ok("learn-points", *table)
    assert "Visits" in (tmp_path / "learned.yaml").read_text(encoding="utf-8")
    trained = runner.invoke(app, ["train", *table])
    assert trained.exit_code == 0, trained.output
    assert (tmp_path / "models" / "predictive" / "predictive" / "v1" / "trees.txt").exists()
    # history still needs a project, and says so
    history = runner.invoke(app, ["train"])
    assert history.exit_code == 1 and "run 'leadscore init'" in history.stderr


def test_drop_holds_for_project_history(project: Path) -> None:
    _company(project)
    _ok("learn-points", "--snapshots", "4", "--output", "all.yaml")
    assert "field: plan" in (project / "all.yaml").read_text(encoding="utf-8")  # it predicts
    _ok("learn-points", "--snapshots", "4", "--drop", "plan", "--output", "no-plan.yaml")
    learned = (project / "no-plan.yaml").read_text(encoding="utf-8")
    assert "field: plan" not in learned  # the column is left out, as with --table
    bad = runner.invoke(app, ["train", "--snapshots", "4", "--drop", "nope"])
    assert bad.exit_code == 1
    assert "--drop 'nope': no such column; columns: " in bad.stderr and "plan" in bad.stderr


def test_sales_feedback_is_learned_from_and_checked_against(project: Path) -> None:
    files = _company(project)
    feedback = synthetic.write_feedback(project, files)
    imported = _ok("import", "feedback", str(feedback))
    assert "Imported" in imported and "feedback" in imported
    shown = _ok("evaluate", "--snapshots", "4", "--output-dir", "report")
    assert "Sales feedback given after the cut-offs" in " ".join(shown.split())
    report = json.loads((project / "report" / "evaluation.json").read_text(encoding="utf-8"))
    heard = report["sales_feedback"]
    tiers = heard["by_tier"]
    assert heard["verdicts"] == sum(t[v] for t in tiers for v in t if v != "tier") > 0
    _ok("train", "--snapshots", "4", "--name", "buyers")
    meta = json.loads(
        (project / "models" / "predictive" / "buyers" / "v1" / "model.json").read_text("utf-8")
    )
    assert "sales feedback" in [feature["source"] for feature in meta["features"]]
