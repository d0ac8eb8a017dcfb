"""``leadscore export crm``: scores out to the CRM, as a file its own import takes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.app.crm_export import FORMATS, Format, Key, export_crm
from leadscore.app.project import Project
from leadscore.cli.console import err, progress

app = typer.Typer(help="Write scores out for other systems.", no_args_is_help=True)


@app.command("crm")
def crm(
    target: Annotated[
        str, typer.Option("--format", help=f"The CRM's import format: {', '.join(FORMATS)}.")
    ] = "hubspot",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The file to write. Default: crm-FORMAT.csv here."),
    ] = None,
    key: Annotated[
        str,
        typer.Option(
            "--key",
            help="What the CRM matches rows by: email (leads without one are left out) or id "
            "(the lead id as Record ID / Id).",
        ),
    ] = "email",
    model: Annotated[
        str | None, typer.Option("--model", help="The model whose scores to write.")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every lead, not only those changed since last time.")
    ] = False,
) -> None:
    """Write each lead's kept score, tier, grade, stage and top reasons in a CRM's import
    format: only leads whose values changed since the last export to that format, unless
    --all. docs/crm.md lists the custom properties (HubSpot) or fields (Salesforce) to create."""
    if target not in FORMATS:
        raise typer.BadParameter(
            f"{target!r}; use one of {', '.join(FORMATS)}", param_hint="--format"
        )
    if key not in ("email", "id"):
        raise typer.BadParameter(f"{key!r}; use email or id", param_hint="--key")
    project = Project.find(Path.cwd())
    path = output or Path(f"crm-{target}.csv")
    chosen: Format = next(f for f in FORMATS if f == target)
    matched: Key = "id" if key == "id" else "email"
    with progress() as bar:
        task = bar.add_task("Explaining changed leads", total=None)
        done = export_crm(
            project,
            path,
            target=chosen,
            key=matched,
            model=model,
            everything=everything,
            progress=lambda n, total: bar.update(task, completed=n, total=total),
        )
    message = (
        f"Wrote {done.written:,} leads of model {done.model} to {done.path} ({target}); "
        f"{done.unchanged:,} unchanged since the last export"
    )
    if done.keyless:
        message += f", {done.keyless:,} without an email left out (--key id writes them)"
    err.print(message + ".", markup=False)
