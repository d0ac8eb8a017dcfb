"""The public surface is one sorted __all__, and imports point down the layers only."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import leadscore

PACKAGE = Path(leadscore.__file__).parent

# Lowest first; a module may import its own layer and those below, never one above
# (STYLE.md Part B: spec -> store -> engines -> project -> service -> cli; errors/_types/settings
# shared).
ORDER = ["spec", "store", "engines", "project", "service", "cli"]


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "leadscore" or len(parts) < 2:
        return None
    top = parts[1]
    if top in {"errors", "_types", "settings", "demo"}:
        return -1  # shared by every layer
    if top in {"project", "model_versions"}:
        return ORDER.index("project")
    return ORDER.index(top) if top in ORDER else None


def test_all_is_sorted_and_complete() -> None:
    public = sorted(
        name
        for name, value in vars(leadscore).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    )
    assert leadscore.__all__ == sorted(leadscore.__all__)
    assert leadscore.__all__ == public


def test_imports_point_down_the_layers() -> None:
    violations = []
    for file in PACKAGE.rglob("*.py"):
        relative = file.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        own = layer_of(module)
        if own is None or own < 0:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                target = layer_of(node.module)
                if target is not None and target > own:
                    violations.append(f"{module} imports {node.module}")
    assert violations == []
