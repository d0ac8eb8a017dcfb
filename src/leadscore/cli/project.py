"""``leadscore init``, ``validate`` and ``demo``: create, check and try a project."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from leadscore.app.model_checks import check_names, unseen_events
from leadscore.app.project import CONFIG_FILE, Project
from leadscore.cli.console import err, out, parse_as_of, progress
from leadscore.errors import ConfigError, Issue, LeadscoreError, ModelFileError
from leadscore.spec.loader import load_model


def init(
    path: Annotated[Path, typer.Argument(help="Folder for the new project.")] = Path("."),
) -> None:
    """Create a project: leadscore.toml, models/brief.yaml (the default model), a database."""
    project = Project.init(path)
    err.print(f"Created a leadscore project in {project.root.resolve()}", markup=False)
    err.print(
        "Next: leadscore import leads leads.csv && leadscore import events events.jsonl "
        "&& leadscore score",
        markup=False,
    )


def validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Model files; default: every file in models/.")
    ] = None,
) -> None:
    """Check model files; every problem is listed with its file, line and field. In a
    project, also warn of rules counting events that no stored event has (a typo scores
    nothing otherwise)."""
    try:
        project: Project | None = Project.find(Path.cwd())
    except ConfigError:
        if not files:
            raise
        project = None  # files checked on their own
    if not files and project is not None:
        files = sorted((project.root / "models").glob("*.y*ml"))
    issues: list[Issue] = []
    loaded = []
    for file in files or []:
        try:
            model = load_model(file)
        except ModelFileError as exc:
            issues.extend(exc.issues)
            continue
        loaded.append((file, model))
        out.print(
            f"{file}: OK (model {model.name!r}: {len(model.fit)} fit rules, "
            f"{len(model.engagement)} engagement rules, {len(model.stages)} stages)",
            markup=False,
        )
    if issues:
        raise ModelFileError(issues)
    check_names(loaded)
    if project is not None:
        stored = project.event_names()
        for unseen in unseen_events([model for _, model in loaded], stored):
            err.print(f"warning: {unseen.message()}", markup=False)


#: The dashboard user ``leadscore demo --serve`` makes (an admin: every page).
DEMO_USER = "admin@demo.example"


def demo(
    path: Annotated[Path, typer.Argument(help="Folder for the demo project.")] = Path(
        "leadscore-demo"
    ),
    leads: Annotated[int, typer.Option(min=10, help="How many leads to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same company.")] = 7,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then train the predictive model, make a dashboard user (admin@demo.example, "
            "a new password printed) and serve the dashboard until stopped (Ctrl+C).",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: the interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="With --serve: the TCP port.")] = 8000,
) -> None:
    """Generate a synthetic company with a year of events into a new project and score it;
    with --serve, open it in the dashboard."""
    from leadscore import demo as demo_data  # the scoring stack, loaded for this command only
    from leadscore.app.imports import import_events, import_leads, import_outcomes
    from leadscore.app.scoring import rescore_all
    from leadscore.cli.scoring import show_summary

    exists = (path / CONFIG_FILE).exists()
    project = Project.open(path) if exists else Project.init(path)
    err.print(f"Generating {leads:,} leads and a year of events in {path}...", markup=False)
    data = demo_data.generate(path / "data", leads=leads, seed=seed)
    with progress() as bar:

        def advance(what: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(f"Importing {what}", total=total)
            return lambda n: bar.update(task, completed=n)

        import_leads(project, data.leads_csv, progress=advance("leads", data.leads))
        import_events(project, data.events_jsonl, progress=advance("events", data.events))
        outcomes = advance("outcomes", len(data.customers))
        import_outcomes(project, data.outcomes_csv, progress=outcomes)
    as_of = parse_as_of(None)
    with project.store() as store, err.status("Scoring..."):
        results, _, _ = rescore_all(
            store, project.models(), as_of, preparations=project.preparations(),
            engine=project.settings.engine,
        )  # fmt: skip
    customers = data.customers
    best = show_summary(results, as_of, 10, project)
    by_tier: dict[str, list[bool]] = defaultdict(list)
    for row in results.to_pylist():
        by_tier[row["tier"]].append(row["lead_id"] in customers)
    out.print("Customers by tier (does the default model rank buyers first?):")
    for tier, flags in sorted(by_tier.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
        out.print(
            f"  {tier}: {sum(flags):,} of {len(flags):,} leads became customers "
            f"({100 * sum(flags) / len(flags):.1f}%)"
        )
    if not serve:
        err.print(
            f"Try: cd {path} && leadscore explain {best}, then leadscore "
            "evaluate, train or learn-points: the demo's customers are its outcomes.",
            markup=False,
        )
        return
    _serve_demo(project, host, port)


def _serve_demo(project: Project, host: str, port: int) -> None:
    """Train the demo's predictive model, give its dashboard user a new password, serve."""
    import os

    from leadscore.app.users import create_user, new_password, reset_password
    from leadscore.cli.predictive import train
    from leadscore.cli.service import serve_project
    from leadscore.errors import ConflictError

    here = Path.cwd()
    os.chdir(project.root)  # the predictive commands work on the project in the folder
    try:
        train()
    except LeadscoreError as exc:  # too few customers (a small --leads): serve without it
        err.print(f"No predictive model: {exc}", markup=False)
    finally:
        os.chdir(here)  # the project's settings may hold paths relative to where it began
    password = new_password()
    with project.store() as store:
        try:
            create_user(store, DEMO_USER, password, "admin")
        except ConflictError:
            reset_password(store, DEMO_USER, password)
    err.print(
        f"Dashboard: http://{host}:{port}/ - sign in as {DEMO_USER} with the password "
        f"{password} (new at each start; `leadscore users create` makes more users). "
        "Ctrl+C stops it.",
        markup=False,
    )
    serve_project(project, host, port, log_format="text")
