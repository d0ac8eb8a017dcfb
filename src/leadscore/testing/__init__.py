"""Test helpers for leadscore and for anyone who writes an engine (needs ``leadscore[test]``).

* ``score_naively``: a slow, obviously correct scorer written from docs/model-file.md alone,
  sharing no helper with the engines. Every engine is held to it.
* ``check_engine(engine)``: the agreement property any ``Engine`` runs to prove it keeps the
  contract; ``assert_agrees`` checks one case, ``assert_rows_agree`` rows already scored.
* ``strategies``: the hypothesis strategies for models, leads, event streams and lifecycles.
"""

from __future__ import annotations

from leadscore.testing import strategies
from leadscore.testing.check import (
    arrow_inputs,
    assert_agrees,
    assert_rows_agree,
    check_engine,
    lifecycle_table,
)
from leadscore.testing.oracle import NaiveResult, score_naively

__all__ = [
    "NaiveResult",
    "arrow_inputs",
    "assert_agrees",
    "assert_rows_agree",
    "check_engine",
    "lifecycle_table",
    "score_naively",
    "strategies",
]
