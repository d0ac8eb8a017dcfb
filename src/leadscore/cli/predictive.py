"""``leadscore train``, ``evaluate`` and ``learn-points``: models learned from history, and the
honest measure of them (their versions: ``cli/models.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from leadscore._types import now_us
from leadscore.app import model_versions
from leadscore.cli.console import err, out
from leadscore.cli.learning_options import (
    Cutoff,
    Drop,
    FirstTouchDays,
    Horizon,
    IdColumn,
    LakeOption,
    MinConversions,
    Missing,
    Seed,
    Snapshots,
    Step,
    TableOption,
    Target,
    TimeColumn,
)
from leadscore.cli.learning_sources import Source, chosen_source, project_store
from leadscore.cli.models import keep_predictions
from leadscore.errors import ConfigError
from leadscore.predict import MAX_RULES, MIN_CONVERSIONS

if TYPE_CHECKING:  # the learning libraries load when a command needs them
    import numpy as np

    from leadscore.predict.dataset import Dataset
    from leadscore.spec.model import ScoringModel
    from leadscore.store.store import Store  # a type only: commands reach it through app/


def train(
    name: Annotated[str, typer.Option("--name", help="The model's name.")] = "predictive",
    table: TableOption = None,
    target: Target = None,
    id_column: IdColumn = None,
    time_column: TimeColumn = None,
    drop: Drop = None,
    missing: Missing = None,
    horizon_days: Horizon = 30,
    cutoff: Cutoff = None,
    snapshots: Snapshots = 6,
    step_days: Step = 14,
    after_first_touch: FirstTouchDays = None,
    seed: Seed = 0,
    min_conversions: MinConversions = MIN_CONVERSIONS,
    activate: Annotated[
        bool, typer.Option("--activate/--no-activate", help="Make it the active version.")
    ] = True,
    lake: LakeOption = False,
) -> None:
    """Learn a calibrated predictive model (gradient-boosted trees) and keep it as a version.

    From the project: features as of each cut-off from events before it, label "converted or
    won within the horizon after it". From --table: one row per lead with a target column.
    """
    from leadscore.predict import metrics
    from leadscore.predict.splits import time_split
    from leadscore.predict.trees import train as fit

    model_versions.check_trained_name(name)
    with project_store(table) as (project, store):
        source = chosen_source(
            project,
            store,
            lake,
            table,
            target,
            id_column,
            time_column,
            drop,
            missing,
            horizon_days,
            cutoff,
            snapshots,
            step_days,
            after_first_touch,
        )
        data = source.data
        with err.status(
            f"Training on {len(data.label):,} rows ({data.conversions:,} conversions)..."
        ):
            model, warnings = fit(data, seed=seed, min_conversions=min_conversions)
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False)
    held = time_split(data, seed).stop
    validation = metrics.evaluate(
        model.score(data.subset(held)), data.label[held], probabilistic=True
    )
    kept = {k: validation[k] for k in ("rows", "conversions", "roc_auc", "pr_auc", "brier", "ece")}
    saved = model_versions.keep_trained(
        Path.cwd() if project is None else project.root,
        name,
        model,
        kinds=source.kinds,
        from_history=source.from_history,
        metrics={"validation": kept},
        activate=activate,
    )
    state = "active" if activate else "not active"
    err.print(
        f"Trained {name} v{saved.version} ({state}): {len(data.label):,} rows, "
        f"{data.conversions:,} conversions, {len(model.feature_names)} features, "
        f"{_member(model.info)}; validation ROC AUC {kept['roc_auc']:.3f} on "
        f"{kept['rows']:,} later rows. Kept in {saved.path}.",
        markup=False,
    )
    err.print(f"Chosen: {model.info['family']['why']}.", markup=False)
    if activate and project is not None and source.from_history:
        with project.store() as store:
            keep_predictions(project, store, now_us())


def _member(info: dict[str, Any]) -> str:
    """The chosen member in words: ``trees (120)``, ``logistic regression``, a blend."""
    chosen = str(info["family"]["chosen"])
    return chosen.replace("trees", f"trees ({info['trees']})", 1) if "trees" in chosen else chosen


def evaluate(
    table: TableOption = None,
    target: Target = None,
    id_column: IdColumn = None,
    time_column: TimeColumn = None,
    drop: Drop = None,
    missing: Missing = None,
    horizon_days: Horizon = 30,
    cutoff: Cutoff = None,
    snapshots: Snapshots = 6,
    step_days: Step = 14,
    after_first_touch: FirstTouchDays = None,
    seed: Seed = 0,
    min_conversions: MinConversions = MIN_CONVERSIONS,
    tune: Annotated[
        int, typer.Option("--tune", min=0, help="Also tune the trees by this many random trials.")
    ] = 0,
    points: Annotated[
        bool, typer.Option("--points/--no-points", help="Also measure learned points.")
    ] = True,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Where evaluation.json and .html go.")
    ] = Path("evaluation"),
    lake: LakeOption = False,
) -> None:
    """Measure the trees, learned points and the baselines (logistic regression, an Odoo-style
    naive-Bayes frequency table, the project's hand point models) on later rows none saw."""
    from leadscore.predict import report as report_files
    from leadscore.predict.evaluation import evaluate as run_evaluation

    with project_store(table) as (project, store):
        source = chosen_source(
            project,
            store,
            lake,
            table,
            target,
            id_column,
            time_column,
            drop,
            missing,
            horizon_days,
            cutoff,
            snapshots,
            step_days,
            after_first_touch,
        )
        hand = [] if project is None else project.models()
        points_store = store if source.from_history else None
        with err.status("Training and measuring every model..."):
            result = run_evaluation(
                source.data,
                seed=seed,
                hand_models=hand,
                score_points=_point_scorer(source, points_store),
                kinds=source.kinds,
                tune_trials=tune,
                with_points=points,
                min_conversions=min_conversions,
            )
    for warning in result.report["warnings"]:
        err.print(f"warning: {warning}", markup=False)
    show(result.report)
    json_path, html_path = report_files.write(result.report, output_dir)
    err.print(f"Wrote {json_path} and {html_path}.", markup=False)


def _point_scorer(
    source: Source, store: Store | None
) -> Callable[[ScoringModel, Dataset], tuple[np.ndarray, list[str | None]]]:
    """How ``evaluate`` scores the project's point models on the rows: at each cut-off from
    the rows' own source (the lake on Spark, the project's database), or as table rows."""
    from leadscore.predict.point_scores import point_scores

    lake = source.lake
    if lake is not None:
        from leadscore.app.lake_history import lake_point_scores

        return lambda model, rows: lake_point_scores(lake, model, rows)
    return lambda model, rows: point_scores(model, rows, store)


def show(report: dict[str, Any]) -> None:
    from leadscore.predict.report import MEASURES

    table = Table(
        "model",
        *(title for title, _ in MEASURES),
        title=f"{report['test_rows']:,} test rows ({report['test_conversions']:,} conversions), "
        f"{report['split']}",
    )
    for name, m in report["models"].items():
        if "roc_auc" not in m:
            table.add_row(name, m.get("note", ""))
            continue
        table.add_row(name, *("n/a" if m[k] is None else f"{m[k]:.3f}" for _, k in MEASURES))
    out.print(table)
    for name, m in report["models"].items():
        if "chosen" in m:
            out.print(f"{name}: {m['chosen']}; {m['why']}.", markup=False)
    heard = report.get("sales_feedback")
    if heard:
        tiers = "; ".join(
            f"{t['tier']}: " + ", ".join(f"{t[v]} {v.replace('_', ' ')}" for v in t if v != "tier")
            for t in heard["by_tier"]
        )
        out.print(
            f"Sales feedback given after the cut-offs: {heard['verdicts']:,} verdicts; the "
            f"default model's score agreed with {heard['agreement']:.0%} of them (good fit in "
            f"the top half, bad fit or not interested in the bottom half). {tiers}.",
            markup=False,
        )


def learn_points(
    name: Annotated[str, typer.Option("--name", help="The model's name.")] = "learned",
    table: TableOption = None,
    target: Target = None,
    id_column: IdColumn = None,
    time_column: TimeColumn = None,
    drop: Drop = None,
    missing: Missing = None,
    horizon_days: Horizon = 30,
    cutoff: Cutoff = None,
    snapshots: Snapshots = 6,
    step_days: Step = 14,
    after_first_touch: FirstTouchDays = None,
    seed: Seed = 0,
    min_conversions: MinConversions = MIN_CONVERSIONS,
    max_rules: Annotated[
        int, typer.Option("--max-rules", min=1, help="At most this many.")
    ] = MAX_RULES,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the model. Default: models/NAME.yaml"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    lake: LakeOption = False,
) -> None:
    """Learn a readable point model (the normal model format) from the same history: binned
    attributes and behaviours with integer points, tiers from the data."""
    from leadscore.predict.points import learn_points as learn
    from leadscore.predict.trees import check_conversions

    with project_store(table) as (project, store):
        folder = Path.cwd() if project is None else project.root / "models"
        target_file = output or folder / f"{name}.yaml"
        if target_file.exists() and not force:
            raise ConfigError(f"{target_file} already exists; give --force to overwrite it")
        source = chosen_source(
            project,
            store,
            lake,
            table,
            target,
            id_column,
            time_column,
            drop,
            missing,
            horizon_days,
            cutoff,
            snapshots,
            step_days,
            after_first_touch,
        )
    check_conversions(source.data, min_conversions)
    with err.status("Learning points..."):
        learned = learn(source.data, name=name, kinds=source.kinds, max_rules=max_rules, seed=seed)
    target_file.parent.mkdir(parents=True, exist_ok=True)
    target_file.write_text(learned.text, encoding="utf-8")
    err.print(
        f"Wrote {target_file}: {learned.rules} rules learned from {len(source.data.label):,} "
        f"rows ({source.data.conversions:,} conversions). Run it with 'leadscore score'.",
        markup=False,
    )
