"""The public surface is one sorted __all__, loaded on first use (the layers are
import-linter's contracts in pyproject.toml, run by .ci/run as ``lint-imports``)."""

from __future__ import annotations

import subprocess
import sys

import leadscore


def test_all_is_sorted_and_complete() -> None:
    assert leadscore.__all__ == sorted(leadscore.__all__)
    assert set(leadscore.__all__) == set(leadscore._EXPORTS)
    for name in leadscore.__all__:
        assert getattr(leadscore, name).__name__ == name, name
    assert set(leadscore.__all__) <= set(dir(leadscore))


def test_importing_the_package_loads_no_scoring_stack() -> None:
    """``import leadscore`` (every command's start) stays light: the names load on use."""
    code = (
        "import sys, leadscore; heavy = ('duckdb', 'sqlalchemy', 'pyarrow', 'lightgbm', "
        "'sklearn', 'scipy'); print([m for m in heavy if m in sys.modules])"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "[]", found.stderr
