"""``leadscore import leads|events|outcomes PATH``: load files into the project's database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.app.project import Project
from leadscore.cli.console import err, progress
from leadscore.store.ingest import ImportSummary, import_events, import_leads, import_outcomes

app = typer.Typer(help="Import leads or events into the project's database.", no_args_is_help=True)

AllowRejects = Annotated[
    bool, typer.Option("--allow-rejects", help="Exit 0 even when some lines were rejected.")
]
Encoding = Annotated[
    str | None,
    typer.Option(
        help="The file's text encoding (default UTF-8); files saved by Excel are often cp1252.",
    ),
]


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0


def _report(summary: ImportSummary, what: str, allow_rejects: bool) -> None:
    message = f"Imported {summary.accepted:,} {what} from {summary.path}"
    if what == "events":
        message += f" ({summary.new:,} new, {summary.accepted - summary.new:,} already stored)"
    if summary.rejected:
        message += f", rejected {summary.rejected:,} (see {summary.rejects_path})"
        for reject in summary.rejects[:5]:
            field = f" '{reject.field}'" if reject.field else ""
            err.print(f"  {summary.path}:{reject.line}:{field} {reject.reason}", markup=False)
    err.print(message + ".", markup=False)
    if summary.rejected and not allow_rejects:
        raise typer.Exit(3)


@app.command("leads")
def leads(
    path: Annotated[Path, typer.Argument(help="CSV or JSONL file of leads (lead_id, email, ...).")],
    mapping: Annotated[
        str, typer.Option(help="Column mapping: auto, hubspot, salesforce or none.")
    ] = "auto",
    allow_rejects: AllowRejects = False,
    encoding: Encoding = None,
) -> None:
    """Create or update leads; HubSpot and Salesforce exports are recognised by their headers."""
    project = Project.find(Path.cwd())
    with project.store() as store, progress() as bar:
        task = bar.add_task(f"Importing {path.name}", total=_count_lines(path))
        summary = import_leads(
            store,
            path,
            mapping=mapping,
            progress=lambda n: bar.update(task, completed=n),
            encoding=encoding,
        )
    _report(summary, "leads", allow_rejects)


@app.command("events")
def events(
    path: Annotated[Path, typer.Argument(help="Segment JSON lines (identify/track/page) or CSV.")],
    allow_rejects: AllowRejects = False,
    encoding: Encoding = None,
) -> None:
    """Store events once per messageId; identify calls update leads and link anonymous ids."""
    project = Project.find(Path.cwd())
    with project.store() as store, progress() as bar:
        task = bar.add_task(f"Importing {path.name}", total=_count_lines(path))
        summary = import_events(
            store, path, progress=lambda n: bar.update(task, completed=n), encoding=encoding
        )
    _report(summary, "events", allow_rejects)


@app.command("outcomes")
def outcomes(
    path: Annotated[
        Path, typer.Argument(help="CSV or JSONL of outcomes: lead_id, outcome, at, value.")
    ],
    allow_rejects: AllowRejects = False,
    encoding: Encoding = None,
) -> None:
    """Record what became of leads (converted, won, lost; at: a date or an ISO time with an
    offset; value optional): the labels `leadscore train` and `evaluate` learn from."""
    project = Project.find(Path.cwd())
    with project.store() as store, progress() as bar:
        task = bar.add_task(f"Importing {path.name}", total=_count_lines(path))
        summary = import_outcomes(
            store, path, progress=lambda n: bar.update(task, completed=n), encoding=encoding
        )
    _report(summary, "outcomes", allow_rejects)
