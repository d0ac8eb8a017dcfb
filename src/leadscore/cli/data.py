"""``leadscore import leads|events|outcomes|feedback PATH``: files into the project's database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from leadscore.app.imports import (
    CrmStages,
    ImportSummary,
    import_events,
    import_feedback,
    import_leads,
    import_outcomes,
)
from leadscore.app.project import Project
from leadscore.cli.console import err, progress

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

Separator = Annotated[
    str | None,
    typer.Option(
        help="A CSV file's column separator (one character, or \\t for a tab); default: "
        "found from the header among , ; tab and |.",
    ),
]


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0


def _report(summary: ImportSummary, what: str, allow_rejects: bool) -> None:
    if what == "events":  # calls update leads and add no event: counted apart
        events = summary.accepted - summary.calls
        calls = f" and {summary.calls:,} identify, group or alias calls" if summary.calls else ""
        message = f"Imported {events:,} events{calls} from {summary.path}"
        message += f" ({summary.new:,} new, {events - summary.new:,} already stored)"
    else:
        message = f"Imported {summary.accepted:,} {what} from {summary.path}"
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
    separator: Separator = None,
) -> None:
    """Create or update leads; HubSpot and Salesforce exports are recognised by their headers.

    A file without an id column (lead_id, id, userId, Record ID, Lead ID) keys each lead by
    its email, trimmed and lower-cased; events then find the lead by a user id whose identify
    call carries that email, or by the address as user id."""
    project = Project.find(Path.cwd())
    with progress() as bar:
        task = bar.add_task(f"Importing {path.name}", total=_count_lines(path))
        summary, stages = import_leads(
            project,
            path,
            mapping=mapping,
            progress=lambda n: bar.update(task, completed=n),
            encoding=encoding,
            separator=separator,
        )
    _report_stages(summary, stages)
    _report(summary, "leads", allow_rejects)


def _report_stages(summary: ImportSummary, stages: CrmStages) -> None:
    if not summary.crm_stages:
        return
    err.print(
        f"CRM stages of {len(summary.crm_stages):,} leads: {stages.transitions:,} stage "
        f"changes and {stages.outcomes:,} outcomes recorded.",
        markup=False,
    )
    for value, leads in list(stages.unknown.items())[:5]:
        err.print(
            f"  CRM stage {value!r} ({leads:,} leads) means nothing here; say what it means "
            f'in leadscore.toml, e.g. crm_stages = {{ "{value}" = "MQL" }}',
            markup=False,
        )


@app.command("events")
def events(
    path: Annotated[Path, typer.Argument(help="Segment JSON lines (identify/track/page) or CSV.")],
    allow_rejects: AllowRejects = False,
    encoding: Encoding = None,
    separator: Separator = None,
) -> None:
    """Store events once per messageId (the first message with an id wins, as in Segment);
    identify calls update leads and link anonymous ids."""
    project = Project.find(Path.cwd())
    with progress() as bar:
        task = bar.add_task(f"Importing {path.name}", total=_count_lines(path))
        summary = import_events(
            project,
            path,
            progress=lambda n: bar.update(task, completed=n),
            encoding=encoding,
            separator=separator,
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
    _import_records(import_outcomes, path, "outcomes", allow_rejects, encoding)


@app.command("feedback")
def feedback(
    path: Annotated[
        Path, typer.Argument(help="CSV or JSONL of sales feedback: lead_id, verdict, at, note.")
    ],
    allow_rejects: AllowRejects = False,
    encoding: Encoding = None,
) -> None:
    """Record what sales said of leads (good_fit, bad_fit, not_interested; at: a date or an
    ISO time with an offset; note optional), as a CRM kept it: trained models learn from each
    verdict as of when it was given (docs/predictive.md, "Sales feedback")."""
    _import_records(import_feedback, path, "feedback", allow_rejects, encoding)


def _import_records(
    importer: Callable[..., ImportSummary],
    path: Path,
    what: str,
    allow_rejects: bool,
    encoding: str | None,
) -> None:
    """Outcomes or feedback from ``path`` with a progress bar, then the one summary line."""
    project = Project.find(Path.cwd())
    with progress() as bar:
        task = bar.add_task(f"Importing {path.name}", total=_count_lines(path))
        summary = importer(
            project, path, progress=lambda n: bar.update(task, completed=n), encoding=encoding
        )
    _report(summary, what, allow_rejects)
