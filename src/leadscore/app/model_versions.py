"""Model versions, of point models and trained models alike: every version is kept, numbered
per model name, and one per name is in use. The CLI (``leadscore models``), the models API and
the dashboard list and activate both kinds here.

A **point model**'s version in use is the project's own model file (``models/<name>.yaml``),
so the CLI and the service always score with the same model; the versions are kept beside it
in ``models/versions/<name>/v<N>.yaml`` (plain files, to review and commit with the project).
Activating a version writes it over the model file, and every lead is to be rescored.

A **trained model**'s versions are the folders ``predict.registry`` keeps
(``models/predictive/<name>/v<N>/``); activating one changes which the predictions use (they
are computed when asked: nothing is to be rescored).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leadscore.app.project import MODELS_DIR, Project
from leadscore.errors import InputError, NotFoundError
from leadscore.predict import registry
from leadscore.spec.loader import load_model, parse_model
from leadscore.spec.model import ScoringModel
from leadscore.store.store import Store
from leadscore.store.unscored import mark_unscored

if TYPE_CHECKING:
    from leadscore.predict.trees import TreeModel

VERSIONS_DIR = "versions"
_VERSION_FILE = re.compile(r"v(\d+)\.yaml")


Kind = Literal["points", "trained"]


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: int
    digest: str  # SHA-256 of the file's text (a trained model's: of its model.json)
    active: bool
    path: Path  # the version's file (a trained model's: its folder)
    kind: Kind = "points"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _folder(project: Project, name: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
        raise NotFoundError(f"no model named {name!r}")
    return project.root / MODELS_DIR / VERSIONS_DIR / name


def _active_files(project: Project) -> dict[str, Path]:
    """The model file of each model name in use."""
    files = sorted((project.root / MODELS_DIR).glob("*.y*ml"))
    return {load_model(file).name: file for file in files}


def versions(project: Project, name: str | None = None) -> list[ModelVersion]:
    """The kept versions of one model (or all), oldest first. A model file in use that is no
    version yet (written by hand) is kept as the next version first, so it can be returned to."""
    active = _keep_active(project, name)
    names = [name] if name is not None else sorted(_all_names(project) | set(active))
    found = []
    for model_name in names:
        folder = _folder(project, model_name)
        current = (
            _digest(active[model_name].read_text(encoding="utf-8"))
            if model_name in active
            else None
        )
        for number, path in _numbered(folder):
            digest = _digest(path.read_text(encoding="utf-8"))
            found.append(ModelVersion(model_name, number, digest, digest == current, path))
    if name is not None and not found:
        raise NotFoundError(f"no model named {name!r}")
    return found


def upload(project: Project, text: str, source: str = "<upload>") -> ModelVersion:
    """Validate a model file (the CLI's messages, with lines) and keep it as its model's next
    version, not yet active; the same text uploaded again is the version it already is.
    Line ends are kept as ``\n`` (a browser's form sends ``\r\n``; files are read back with
    ``\n``, and the version is found again by the text's digest)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    scoring_model = parse_model(text, source)
    _keep_active(project, scoring_model.name)
    _keep(project, scoring_model.name, text)
    digest = _digest(text)
    return next(v for v in versions(project, scoring_model.name) if v.digest == digest)


def activate(project: Project, name: str, version: int) -> list[ScoringModel]:
    """Make a version the model in use (written over the model's file) and return the
    project's models; nothing changes if they would no longer load together."""
    chosen = next((v for v in versions(project, name) if v.version == version), None)
    if chosen is None:
        raise NotFoundError(f"model {name!r} has no version {version}")
    target = _active_files(project).get(name, project.root / MODELS_DIR / f"{name}.yaml")
    previous = target.read_text(encoding="utf-8") if target.exists() else None
    _write(target, chosen.path.read_text(encoding="utf-8"))
    try:
        return project.models()
    except Exception:
        if previous is None:
            target.unlink()
        else:
            _write(target, previous)
        raise


def switch_to(
    project: Project, store: Store, name: str, version: int, at: int
) -> tuple[list[ScoringModel], list[str]]:
    """Activate a version and mark every lead unscored as of ``at``: the project's models,
    and the leads to rescore with them. Quick whatever the number of leads: the rescoring
    itself is left to whoever rescores marked leads (the service's rounds, in the
    background), and a crash meanwhile leaves the marks for the restart."""
    models = activate(project, name, version)
    with store.engine.begin() as conn:
        lead_ids = store.all_lead_ids(conn)
        mark_unscored(conn, lead_ids, at)
    return models, lead_ids


def _keep_active(project: Project, name: str | None) -> dict[str, Path]:
    """Keep the model files in use (of ``name``, or all) as versions when they are none yet
    (written by hand); returns the model file of each name in use."""
    active = _active_files(project)
    for model_name, file in active.items():
        if name is None or model_name == name:
            _keep(project, model_name, file.read_text(encoding="utf-8"))
    return active


def _keep(project: Project, name: str, text: str) -> None:
    folder = _folder(project, name)
    numbered = _numbered(folder)
    digest = _digest(text)
    if any(_digest(path.read_text(encoding="utf-8")) == digest for _, path in numbered):
        return
    number = numbered[-1][0] + 1 if numbered else 1
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"v{number}.yaml", text)


def _numbered(folder: Path) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _VERSION_FILE.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def _all_names(project: Project) -> set[str]:
    root = project.root / MODELS_DIR / VERSIONS_DIR
    return {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()


def _write(path: Path, text: str) -> None:
    """Replace ``path`` at once (a reader sees the old file or the new, never half)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


@dataclass(frozen=True, slots=True)
class Reference:
    """A model as named on the command line: a label for output, the model, its file."""

    label: str
    model: ScoringModel
    path: Path


def model_by_reference(project: Project, reference: str) -> Reference:
    """A model named as people name it on the command line, with a label for output: a model
    file's path (``candidate.yaml``), a model in use by name (``brief``), or a kept version
    (``brief@3``, ``brief v3``, ``brief:v3``)."""
    path = Path(reference)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise NotFoundError(f"{reference}: no such model file")
        scoring_model = load_model(path)
        return Reference(f"{path.name} ({scoring_model.name})", scoring_model, path)
    found = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*(?:[@: ]\s*v?(\d+))?\s*", reference)
    if found is None:
        raise NotFoundError(
            f"{reference!r} is neither a model file nor a model name (NAME, NAME@VERSION)"
        )
    name, number = found.group(1), found.group(2)
    kept = versions(project, name)
    chosen = next(
        (v for v in kept if (v.active if number is None else v.version == int(number))), None
    )
    if chosen is None:
        what = "no version in use" if number is None else f"no version {number}"
        raise NotFoundError(
            f"model {name!r} has {what}; versions: "
            + ", ".join(f"v{v.version}{' (in use)' if v.active else ''}" for v in kept)
        )
    label = f"{name} v{chosen.version}" + (" (in use)" if chosen.active else "")
    # the model in use is its own file (models/NAME.yaml), which people edit and commit
    path = _active_files(project)[name] if chosen.active else chosen.path
    return Reference(label, load_model(path), path)


def trained_versions(project: Project, name: str | None = None) -> list[ModelVersion]:
    """The kept versions of the trained models (or of one), oldest first."""
    found = []
    for kept in registry.listing(project.root):
        if name is None or kept.name == name:
            digest = _digest((kept.path / "model.json").read_text(encoding="utf-8"))
            found.append(
                ModelVersion(kept.name, kept.version, digest, kept.active, kept.path, "trained")
            )
    return found


def every_version(project: Project, name: str | None = None) -> list[ModelVersion]:
    """The kept versions of every model of both kinds (or of the models named ``name``): by
    name, the point model's before the trained one's, oldest first."""
    known = name is None or name in _point_names(project)
    found = [*(versions(project, name) if known else []), *trained_versions(project, name)]
    if name is not None and not found:
        raise NotFoundError(f"no model named {name!r}")
    return sorted(found, key=lambda v: (v.name, v.kind, v.version))


def kind_of(project: Project, name: str, kind: Kind | None = None) -> Kind:
    """Which kind of model ``name`` is: the one given, or the only kind with that name."""
    kinds: list[Kind] = []
    if name in _point_names(project):
        kinds.append("points")
    if any(v.name == name for v in trained_versions(project, name)):
        kinds.append("trained")
    if kind is not None:
        if kind not in kinds:
            raise NotFoundError(f"no {_KIND_WORDS[kind]} named {name!r}")
        return kind
    if not kinds:
        raise NotFoundError(f"no model named {name!r}")
    if len(kinds) > 1:
        raise InputError(
            f"{name!r} is both a point model and a trained model: say which (kind points or "
            "trained)"
        )
    return kinds[0]


_KIND_WORDS: dict[Kind, str] = {"points": "point model", "trained": "trained model"}


def put_in_use(
    project: Project, store: Store, name: str, version: int, at: int, kind: Kind | None = None
) -> tuple[Kind, list[ScoringModel], list[str]]:
    """Put a version of either kind in use: its kind, the project's point models, and the
    leads to rescore (every lead for a point model, ``switch_to``; none for a trained one,
    whose predictions are computed when asked)."""
    chosen = kind_of(project, name, kind)
    if chosen == "points":
        models, lead_ids = switch_to(project, store, name, version, at)
        return chosen, models, lead_ids
    if version in (v.version for v in trained_versions(project, name)):
        registry.load(project.root, name, version)  # a version that cannot serve stays out
    registry.activate(project.root, name, version)
    return chosen, project.models(), []


def check_trained_name(name: str) -> str:
    """``name`` when a trained model may be called so (checked before the training starts)."""
    return registry.check_name(name)


def keep_trained(
    root: Path,
    name: str,
    model: TreeModel,
    *,
    kinds: list[str],
    from_history: bool,
    metrics: dict[str, Any],
    activate: bool,
) -> ModelVersion:
    """Keep a trained model as the next version of ``name`` under the project folder ``root``
    (put in use when ``activate``)."""
    saved = registry.save(
        root,
        name,
        model,
        kinds=kinds,
        from_history=from_history,
        metrics=metrics,
        activate=activate,
    )
    digest = _digest((saved.path / "model.json").read_text(encoding="utf-8"))
    return ModelVersion(name, saved.version, digest, saved.active, saved.path, "trained")


def trained_in_use(project: Project) -> list[registry.Loaded]:
    """Every trained model's version in use, loaded (once per version: the service asks on
    every request)."""
    return registry.active(project.root)


def trained_names(project: Project) -> list[str]:
    """The names of the trained models with a version in use, sorted (nothing loaded)."""
    return registry.names(project.root)


def trained_model(project: Project, name: str) -> registry.Loaded | None:
    """The version in use of the trained model ``name``, loaded; None when no trained model
    of that name is in use (the name is then a point model's, or no model's)."""
    if name not in registry.names(project.root):
        return None
    return registry.load(project.root, name)


def summary(version: ModelVersion) -> str:
    """What a version is, in a few words, for listings: a point model's rules and stages, a
    trained model's learner and its validation ROC AUC."""
    if version.kind == "points":
        scoring_model = load_model(version.path)
        return (
            f"{len(scoring_model.fit)} fit rules, {len(scoring_model.engagement)} engagement "
            f"rules, {len(scoring_model.stages)} stages"
        )
    meta = json.loads((version.path / "model.json").read_text(encoding="utf-8"))
    # versions kept before the family are the trees alone
    chosen = meta["training"].get("family", {"chosen": "trees"})["chosen"]
    auc = meta.get("metrics", {}).get("validation", {}).get("roc_auc")
    measured = "" if auc is None else f", validation ROC AUC {auc:.3f}"
    return f"{chosen} on {meta['training']['rows']:,} rows{measured}"


def _point_names(project: Project) -> set[str]:
    return _all_names(project) | set(_active_files(project))
