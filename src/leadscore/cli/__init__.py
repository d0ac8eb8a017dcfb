"""The ``leadscore`` command line: a thin layer over Project; errors become clean messages.

Exit codes: 0 success; 1 an error the user can fix (the message says what and where);
2 a usage error; 3 an import finished but rejected some lines (``--allow-rejects`` makes it 0).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from leadscore.cli.console import err
from leadscore.errors import LeadscoreError

EXIT_ERROR = 1
EXIT_REJECTS = 3


class _ErrorBoundary(TyperGroup):
    """Turns a LeadscoreError anywhere below into a message on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LeadscoreError as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    cls=_ErrorBoundary,
    no_args_is_help=True,
    add_completion=False,
    help=(
        "Open-source lead scoring: explainable point models, from a laptop to PostgreSQL.\n\n"
        "Works on the project in the current folder (see 'leadscore init').\n\n"
        "Exit codes: 0 success; 1 error (message on stderr); 2 usage error; "
        "3 import finished with rejected lines."
    ),
)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    ctx.obj = {"debug": debug}
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(message)s")


from leadscore.cli import (  # noqa: E402  (the commands)
    accounts,
    data,
    explain,
    export,
    lab,
    models,
    predictive,
    project,
    report,
    scoring,
    service,
    thresholds,
)

app.add_typer(data.app, name="import")
app.add_typer(export.app, name="export")
app.add_typer(models.app, name="models")
app.command("init")(project.init)
app.command("validate")(project.validate)
app.command("demo")(project.demo)
app.command("score")(scoring.score)
app.command("explain")(explain.explain)
app.command("recycle")(scoring.recycle)
app.command("rescore")(scoring.rescore)
app.command("backtest")(lab.backtest)
app.command("thresholds")(thresholds.thresholds)
app.command("report")(report.report)
app.command("accounts")(accounts.accounts)
app.command("serve")(service.serve)
app.add_typer(service.keys_app, name="keys")
app.command("train")(predictive.train)
app.command("evaluate")(predictive.evaluate)
app.command("learn-points")(predictive.learn_points)
app.add_typer(predictive.predictive_app, name="predictive")


def main() -> None:
    """Console-script entry point."""
    app()
