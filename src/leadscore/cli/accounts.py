"""``leadscore accounts``: companies ranked by engagement, rolled up from their leads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadscore._types import format_as_of
from leadscore.app.accounts import roll_up_accounts
from leadscore.app.people import people
from leadscore.app.project import Project
from leadscore.app.scoring import score_all
from leadscore.cli.console import err, out, parse_as_of
from leadscore.cli.scoring import AsOf, ModelOption, Output, write_results
from leadscore.engines.results import points


def accounts(
    as_of: AsOf = None,
    output: Output = None,
    model: ModelOption = None,
    top: Annotated[int, typer.Option(help="How many top accounts to show per model.")] = 10,
) -> None:
    """Accounts (companies) ranked by engagement: leads, engaged leads, fit (best lead's),
    engagement (summed), score (best lead's). Records nothing."""
    moment = parse_as_of(as_of)
    project = Project.find(Path.cwd())
    models = project.models(model)
    with project.store() as store, err.status(f"Scoring as of {format_as_of(moment)}..."):
        rolled = roll_up_accounts(
            score_all(
                store,
                models,
                moment,
                preparations=project.preparations(),
                engine=project.settings.engine,
            ),
            models,
            store.leads_arrow(moment),
        )
    if output is not None:
        write_results(rolled, output)
        if output != "-":
            err.print(f"Wrote {rolled.num_rows:,} accounts to {output}.", markup=False)
        return
    if rolled.num_rows == 0:
        err.print(
            "No accounts: leads join one by an account_id or company_id attribute, or a "
            "company email domain (free-mail domains never make an account).",
            markup=False,
        )
        return
    rows = rolled.to_pylist()
    for name in sorted({row["model"] for row in rows}):
        mine = [r for r in rows if r["model"] == name]
        shown = (
            f"; the {top:,} most engaged below (--top N for more, --output FILE for all)"
            if len(mine) > top
            else ""
        )
        out.print(
            f"[bold]{name}[/bold]: {len(mine):,} accounts as of {format_as_of(moment)}{shown}"
        )
        table = Table(
            "company", "account", "leads", "engaged", "fit", "engagement", "score", "best lead"
        )
        with project.store() as store:
            who = people(store, [r["best_lead"] for r in mine[:top]])
        for r in mine[:top]:
            best = who.get(r["best_lead"], {})
            table.add_row(
                r["company"] or "",
                r["account_id"],
                f"{r['leads']:,}",
                f"{r['engaged_leads']:,}",
                f"{points(r['fit']):g}",
                f"{points(r['engagement']):g}",
                f"{points(r['score']):g}",
                f"{r['best_lead']} {best.get('name', '')}".strip(),
            )
        out.print(table)
