"""The public surface is one sorted __all__ (the layers are import-linter's contracts in
pyproject.toml, run by .ci/run as ``lint-imports``)."""

from __future__ import annotations

from types import ModuleType

import leadscore


def test_all_is_sorted_and_complete() -> None:
    public = sorted(
        name
        for name, value in vars(leadscore).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    )
    assert leadscore.__all__ == sorted(leadscore.__all__)
    assert leadscore.__all__ == public
