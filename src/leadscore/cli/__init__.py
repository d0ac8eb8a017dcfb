"""The ``leadscore`` command line: a thin layer over Project; errors become clean messages.

Exit codes: 0 success; 1 an error the user can fix (the message says what and where);
2 a usage error; 3 an import finished but rejected some lines (``--allow-rejects`` makes it 0).
"""

from __future__ import annotations

import ast
import functools
import importlib
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from leadscore.cli.console import err
from leadscore.errors import LeadscoreError

EXIT_ERROR = 1
EXIT_REJECTS = 3


class _ErrorBoundary(TyperGroup):
    """Turns a LeadscoreError anywhere below into a message on stderr and exit code 1; finds
    the commands in ``COMMANDS``, importing each only when it runs."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:  # the root's help: the command's help text is all it shows
            return TyperCommand(cmd_name, help=_help_of(*COMMANDS[cmd_name]))
        return command_of(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

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


#: Every command: its name, then the module of ``leadscore.cli`` and the attribute that
#: implement it (a function, or a ``typer.Typer`` for a group of commands). A module is
#: imported only when its command runs or shows its own help: ``leadscore --help`` reads the
#: commands' help from their source (``_help_of``), without importing the scoring stack.
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("data", "app"),
    "export": ("export", "app"),
    "models": ("models", "app"),
    "init": ("project", "init"),
    "validate": ("project", "validate"),
    "demo": ("project", "demo"),
    "score": ("scoring", "score"),
    "explain": ("explain", "explain"),
    "recycle": ("scoring", "recycle"),
    "rescore": ("scoring", "rescore"),
    "backtest": ("lab", "backtest"),
    "thresholds": ("thresholds", "thresholds"),
    "report": ("report", "report"),
    "accounts": ("accounts", "accounts"),
    "serve": ("service", "serve"),
    "keys": ("service", "keys_app"),
    "users": ("users", "app"),
    "train": ("predictive", "train"),
    "evaluate": ("predictive", "evaluate"),
    "learn-points": ("predictive", "learn_points"),
    "predictive": ("models", "predictive_app"),
}


@functools.cache
def _help_of(module: str, attribute: str) -> str:
    """A command's help as its source says it (a function's docstring, a group's ``help=``),
    read with ``ast``: what listing the commands needs, without importing them."""
    source = (Path(__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == attribute:
            return ast.get_docstring(node) or ""
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == attribute for t in node.targets)
            and isinstance(node.value, ast.Call)
        ):
            for keyword in node.value.keywords:
                if keyword.arg == "help" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return ""


def command_of(name: str) -> Any:
    """The click command ``name`` runs, its module imported now."""
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(f"leadscore.cli.{module}"), attribute)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def main() -> None:
    """Console-script entry point."""
    app()
