"""Trained models kept as versioned artifacts in the project: ``models/predictive/<name>/v<N>/``
holds the trees (LightGBM's own text format) and ``model.json`` (features, calibration, the
logistic regression and its share when the family chose a blend, metrics, training window,
data fingerprint). One version per name is active (``ACTIVE`` holds its number).

Plain files, like the point models' versions, so they can be reviewed, copied and committed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore._types import format_as_of, now_us
from leadscore.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from leadscore.predict.trees import TreeModel

PREDICTIVE_DIR = Path("models") / "predictive"
FORMAT = 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


@dataclass(frozen=True)
class Registered:
    name: str
    version: int
    active: bool
    path: Path
    meta: dict[str, Any]


@dataclass(frozen=True)
class Loaded:
    """A registered model ready to score: its trees and what it reads (``kinds``: the kinds
    of behaviour its features count, for models learned from the project's history)."""

    name: str
    version: int
    model: TreeModel
    kinds: list[str]
    from_history: bool


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"model name {name!r}: use 1-80 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return name


def _folder(root: Path, name: str) -> Path:
    return root / PREDICTIVE_DIR / check_name(name)


def _versions(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    found = (re.fullmatch(r"v(\d+)", p.name) for p in folder.iterdir() if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def _active(folder: Path) -> int | None:
    try:
        return int((folder / "ACTIVE").read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def save(
    root: Path,
    name: str,
    model: TreeModel,
    *,
    kinds: list[str],
    from_history: bool,
    metrics: dict[str, Any],
    activate: bool = True,
) -> Registered:
    """Keep ``model`` as the next version of ``name`` (and make it active)."""
    folder = _folder(root, name)
    version = (_versions(folder) or [0])[-1] + 1
    target = folder / f"v{version}"
    target.mkdir(parents=True)
    model.booster.save_model(str(target / "trees.txt"), num_iteration=model.booster.best_iteration)
    meta = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "created_at": format_as_of(now_us()),
        "features": [f.as_dict() for f in model.encoding.features],
        "behaviour": list(model.behaviour),
        "kinds": kinds,
        "from_history": from_history,
        "calibration": {"x": model.calibration.x.tolist(), "y": model.calibration.y.tolist()},
        "trees_share": model.trees_share,
        "linear": None if model.linear is None else model.linear.as_dict(),
        "training": model.info,
        "metrics": metrics,
    }
    (target / "model.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    if activate:
        _write_active(folder, version)
    return Registered(name, version, activate, target, meta)


def _write_active(folder: Path, version: int) -> None:
    temporary = folder / "ACTIVE.tmp"
    temporary.write_text(f"{version}\n", encoding="utf-8")
    os.replace(temporary, folder / "ACTIVE")


def listing(root: Path) -> list[Registered]:
    found = []
    base = root / PREDICTIVE_DIR
    for folder in sorted(p for p in base.glob("*") if p.is_dir()) if base.is_dir() else []:
        active = _active(folder)
        for version in _versions(folder):
            path = folder / f"v{version}"
            meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
            found.append(Registered(folder.name, version, version == active, path, meta))
    return found


def names(root: Path) -> list[str]:
    """The names with an active version."""
    base = root / PREDICTIVE_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and _active(p) is not None)


def activate(root: Path, name: str, version: int) -> Registered:
    folder = _folder(root, name)
    if version not in _versions(folder):
        known = ", ".join(f"v{v}" for v in _versions(folder)) or "none"
        raise NotFoundError(
            f"predictive model {name!r} has no version {version}; versions: {known}"
        )
    _write_active(folder, version)
    path = folder / f"v{version}"
    meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    return Registered(name, version, True, path, meta)


def load(root: Path, name: str, version: int | None = None) -> Loaded:
    folder = _folder(root, name)
    chosen = version if version is not None else _active(folder)
    if chosen is None or chosen not in _versions(folder):
        raise NotFoundError(
            f"no predictive model {name!r}"
            + ("" if version is None else f" version {version}")
            + "; train one with 'leadscore train'"
        )
    path = folder / f"v{chosen}"
    meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ConfigError(f"{path}: model format {meta.get('format')!r} is not {FORMAT}")
    import lightgbm as lgb
    import numpy as np

    from leadscore.predict.calibration import Calibration
    from leadscore.predict.columns import AttributeEncoding, Feature
    from leadscore.predict.linear import LinearModel
    from leadscore.predict.trees import TreeModel

    booster = lgb.Booster(model_file=str(path / "trees.txt"))
    encoding = AttributeEncoding(tuple(Feature.from_dict(f) for f in meta["features"]))
    calibration = Calibration(
        np.asarray(meta["calibration"]["x"], float), np.asarray(meta["calibration"]["y"], float)
    )
    linear = meta.get("linear")  # absent from models kept before the family (trees alone)
    model = TreeModel(
        encoding,
        tuple(meta["behaviour"]),
        booster,
        calibration,
        meta["training"],
        None if linear is None else LinearModel.from_dict(linear),
        float(meta.get("trees_share", 1.0)),
    )
    return Loaded(name, chosen, model, list(meta["kinds"]), bool(meta["from_history"]))


_LOADED: dict[tuple[Path, str, int], Loaded] = {}


def active(root: Path) -> list[Loaded]:
    """Every name's active version, loaded once per version (the service asks per request)."""
    found = []
    for name in names(root):
        version = _active(_folder(root, name))
        if version is None:
            continue
        key = (root, name, version)
        if key not in _LOADED:
            if len(_LOADED) >= 32:
                _LOADED.clear()
            _LOADED[key] = load(root, name, version)
        found.append(_LOADED[key])
    return found
