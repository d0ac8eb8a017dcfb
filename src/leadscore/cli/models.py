"""``leadscore models list|upload|diff|activate|rollback`` (and ``leadscore predictive
list|activate``, the trained models alone): model versions from the command line, as the
service's models API keeps them: point models (models/versions/NAME/vN.yaml) and trained
models (models/predictive/NAME/vN/) alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadscore._types import format_as_of, now_us
from leadscore.app import model_versions
from leadscore.app.model_diff import diff_models
from leadscore.app.model_versions import Kind
from leadscore.app.predictions import keep_every_prediction
from leadscore.app.project import Project
from leadscore.app.scoring import rescore_all
from leadscore.cli.console import err, out
from leadscore.errors import NotFoundError
from leadscore.spec.loader import load_model
from leadscore.spec.model import ScoringModel

if TYPE_CHECKING:
    from leadscore.store.store import Store  # a type only: commands reach it through app/

app = typer.Typer(
    help="Model versions, point and trained: list, upload, diff, activate, roll back.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The model's name (as in its file).")]
KindOption = Annotated[
    str | None,
    typer.Option(
        "--kind", help="points or trained, when a point model and a trained model share the name."
    ),
]
Rescore = Annotated[
    bool,
    typer.Option(
        "--rescore/--no-rescore",
        help="Rescore every lead now (default); without, a running service or the next "
        "'leadscore rescore' does it.",
    ),
]


@app.command("list")
def list_versions(
    name: Annotated[str | None, typer.Argument(help="Only this model.")] = None,
) -> None:
    """Every kept version of each model, point and trained (or of one), oldest first, and
    which is in use."""
    project = Project.find(Path.cwd())
    table = Table("model", "version", "active", "kind", "what it is", "kept in")
    for version in model_versions.every_version(project, name):
        table.add_row(
            version.name,
            f"v{version.version}",
            "yes" if version.active else "",
            version.kind,
            model_versions.summary(version),
            str(version.path.relative_to(project.root)),
        )
    out.print(table)


@app.command("upload")
def upload(
    path: Annotated[Path, typer.Argument(help="A model file to keep as a version.")],
) -> None:
    """Keep a model file as its model's next version, not in use yet (validated first; the
    same file twice is one version). Diff or backtest it, then activate it."""
    project = Project.find(Path.cwd())
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"{path}: {exc.strerror}", param_hint="PATH") from None
    kept = model_versions.upload(project, text, str(path))
    err.print(f"Kept {path} as {kept.name} v{kept.version} (not in use).", markup=False)


def _version_model(
    project: Project, name: str, version: int | None
) -> tuple[model_versions.ModelVersion, ScoringModel]:
    """A version (None: the one in use) and its model."""
    found = model_versions.versions(project, name)
    if version is None:
        chosen = next((v for v in found if v.active), None)
    else:
        chosen = next((v for v in found if v.version == version), None)
    if chosen is None:
        what = "no version in use" if version is None else f"no version {version}"
        raise NotFoundError(f"model {name!r} has {what}")
    return chosen, load_model(chosen.path)


@app.command("diff")
def diff(
    name: Name,
    first: Annotated[int, typer.Argument(help="The version to compare from.")],
    second: Annotated[
        int | None, typer.Argument(help="The version to compare with. Default: the one in use.")
    ] = None,
) -> None:
    """What changed between two versions: rules added, removed or changed (points, caps,
    windows, decay), thresholds moved, stage conditions added or dropped."""
    project = Project.find(Path.cwd())
    old, before = _version_model(project, name, first)
    new, after = _version_model(project, name, second)
    changes = diff_models(before, after)
    out.print(f"{name} v{old.version} -> v{new.version}: {len(changes)} change(s)", markup=False)
    for change in changes:
        out.print(f"  {change.line()}", markup=False, soft_wrap=True)


def rescore_every_lead(project: Project, store: Store, models: list[ScoringModel], at: int) -> None:
    """Score every lead as of ``at`` and keep the results and stage changes, saying so (what
    ``leadscore rescore`` and an activation with ``--rescore`` do)."""
    results, recorded, _ = rescore_all(
        store, models, at, preparations=project.preparations(), engine=project.settings.engine
    )
    err.print(
        f"Rescored {results.num_rows:,} results under {len(models)} model(s) as of "
        f"{format_as_of(at)}; recorded {recorded:,} stage change(s).",
        markup=False,
    )


def keep_predictions(project: Project, store: Store, at: int) -> None:
    """Keep every lead's prediction under the trained models in use (``app.predictions``),
    saying so; nothing without a trained model."""
    if not model_versions.trained_names(project):
        return
    with err.status("Keeping every lead's prediction..."):
        kept = keep_every_prediction(project, store, at)
    for done in kept:
        err.print(
            f"Kept {done.leads:,} predictions of {done.model} v{done.version} as of "
            f"{format_as_of(at)}.",
            markup=False,
        )


def _activate(project: Project, name: str, version: int, rescore: bool, kind: Kind | None) -> None:
    at = now_us()
    with project.store() as store:
        chosen, models, leads = model_versions.put_in_use(project, store, name, version, at, kind)
        if chosen == "trained":
            err.print(
                f"{name} v{version} is in use (a trained model: nothing to rescore).",
                markup=False,
            )
            keep_predictions(project, store, at)
            return
        err.print(f"{name} v{version} is in use; {len(leads):,} leads to rescore.", markup=False)
        if rescore:
            rescore_every_lead(project, store, models, at)


def _kind(kind: str | None) -> Kind | None:
    if kind is None or kind in ("points", "trained"):
        return kind  # type: ignore[return-value]  # checked just above
    raise typer.BadParameter(f"{kind!r} is not points or trained", param_hint="--kind")


@app.command("activate")
def activate(
    name: Name,
    version: Annotated[int, typer.Argument(help="The version to put in use.")],
    rescore: Rescore = True,
    kind: KindOption = None,
) -> None:
    """Put a version in use: a point model's is written over models/NAME.yaml and every lead
    is rescored; a trained model's serves the predictions from now on."""
    _activate(Project.find(Path.cwd()), name, version, rescore, _kind(kind))


@app.command("rollback")
def rollback(name: Name, rescore: Rescore = True, kind: KindOption = None) -> None:
    """Put the version before the one in use back in use (a point model's: and rescore every
    lead)."""
    project = Project.find(Path.cwd())
    chosen = model_versions.kind_of(project, name, _kind(kind))
    kept = [v for v in model_versions.every_version(project, name) if v.kind == chosen]
    current = next((v for v in kept if v.active), None)
    if current is None:
        raise NotFoundError(f"model {name!r} has no version in use")
    earlier = [v.version for v in kept if v.version < current.version]
    if not earlier:
        raise NotFoundError(f"model {name!r} has no version before v{current.version}")
    _activate(project, name, earlier[-1], rescore, chosen)


predictive_app = typer.Typer(help="List and activate trained models.", no_args_is_help=True)


@predictive_app.command("list")
def list_trained() -> None:
    """Every trained version, its validation measures and which is active (all models, point
    and trained: 'leadscore models list')."""
    project = Project.find(Path.cwd())
    found = model_versions.trained_versions(project)
    if not found:
        err.print("No trained models yet: run 'leadscore train'.", markup=False)
        return
    table = Table("name", "version", "active", "model", "created", "rows", "conversions", "ROC AUC")
    for version in found:
        meta = json.loads((version.path / "model.json").read_text(encoding="utf-8"))
        validation = meta.get("metrics", {}).get("validation", {})
        auc = validation.get("roc_auc")
        # versions kept before the family are the trees alone
        family = meta["training"].get("family", {"chosen": "trees"})
        table.add_row(
            version.name,
            f"v{version.version}",
            "yes" if version.active else "",
            str(family["chosen"]),
            str(meta.get("created_at", "")),
            f"{meta['training']['rows']:,}",
            f"{meta['training']['conversions']:,}",
            "" if auc is None else f"{auc:.3f}",
        )
    out.print(table)


@predictive_app.command("activate")
def activate_trained(
    name: Annotated[str, typer.Argument(help="The model's name.")],
    version: Annotated[int, typer.Argument(help="The version to serve.")],
) -> None:
    """Serve this version of a trained model from now on ('leadscore models activate NAME
    VERSION --kind trained' does the same)."""
    project = Project.find(Path.cwd())
    with project.store() as store:
        model_versions.put_in_use(project, store, name, version, now_us(), "trained")
    err.print(f"{name} v{version} is active.", markup=False)
