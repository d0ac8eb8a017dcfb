"""``leadscore report``: the funnel and SLA, whether the model works, attribution and drift,
as one HTML page to send to a head of sales and the same numbers as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from leadscore.app.project import Project
from leadscore.app.report import build_report
from leadscore.app.report_page import page
from leadscore.cli.console import err
from leadscore.cli.lab import (
    Horizon,
    ModelChoice,
    Since,
    Stage,
    Until,
    chosen_model,
    parse_days,
    period,
    step_progress,
)
from leadscore.cli.thresholds import parse_capacity
from leadscore.errors import InputError


def report(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML file; the JSON goes beside it.")
    ] = Path("report.html"),
    since: Since = None,
    until: Until = None,
    model: ModelChoice = None,
    capacity: Annotated[
        str | None,
        typer.Option("--capacity", help="The hand-over volume agreed with sales: 50/week."),
    ] = None,
    horizon: Horizon = "90d",
    stage: Stage = None,
    drift: Annotated[
        str, typer.Option("--drift", help="The periods compared for drift: the last 28d.")
    ] = "28d",
) -> None:
    """Write the report: leads, hand-overs, SQLs and customers a week against the agreed
    volume; hours to the first sales action and days to the sale by tier; conversion by tier
    and score band, the high scores that did not convert and the low ones that did, the ROC
    AUC month by month; sources, campaigns, touches and content that produce hand-overs and
    customers; the last period's drift. One self-contained HTML file (charts inline, no
    network needed) and the same numbers as JSON beside it."""
    project = Project.find(Path.cwd())
    if output.suffix.lower() not in (".html", ".htm"):
        raise typer.BadParameter("the report is an .html file", param_hint="--output")
    start, end = period(since, until)
    reference = chosen_model(project, model)
    with project.store() as store, Progress(console=err, transient=True) as bar:
        found = build_report(
            store,
            reference.model,
            start,
            end,
            capacity=parse_capacity(capacity) if capacity else None,
            horizon_days=parse_days(horizon, "--horizon"),
            stage=stage,
            drift_days=parse_days(drift, "--drift"),
            preparations=project.preparations(),
            progress=step_progress(bar, "Replaying day by day:"),
        )
    data = output.with_suffix(".json")
    try:
        output.write_text(page(found), encoding="utf-8")
        data.write_text(json.dumps(found, indent=2), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--output {output}: cannot be written: {exc.strerror}") from None
    err.print(f"Wrote {output} and {data}.", markup=False)
