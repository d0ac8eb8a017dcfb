"""``leadscore users create|list``: the people who sign in to the dashboard, and their roles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadscore.app import users as accounts
from leadscore.app.project import Project
from leadscore.cli.console import err, out

app = typer.Typer(help="Dashboard users: create, list.", no_args_is_help=True)


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The user's email: what they sign in with.")],
    role: Annotated[
        str,
        typer.Option("--role", help="sales (leads, feedback), ops (+ models), admin (+ users)."),
    ] = "sales",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a dashboard user. The password is asked for (twice) unless --password-stdin;
    it is kept only as an argon2 hash."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    project = Project.find(Path.cwd())
    with project.store() as store:
        accounts.create_user(store, email, password, role)
    err.print(f"Created {email.strip().lower()} ({role}).", markup=False)


@app.command("list")
def list_users() -> None:
    """Every dashboard user, with their role."""
    project = Project.find(Path.cwd())
    table = Table("email", "role", "disabled")
    with project.store() as store:
        for email, role, disabled in accounts.users(store):
            table.add_row(email, role, "yes" if disabled else "")
    out.print(table)
