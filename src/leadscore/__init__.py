"""leadscore: open-source lead scoring with explainable point models.

A scoring model is a YAML file (``load_model``), compiled once (``compile_plan``) and run by
two engines that agree to the milli-point: ``BatchEngine`` scores every lead at once in DuckDB,
``IncrementalScorer`` updates one lead per event. ``Project`` ties a folder, its model files and
its database together, as the ``leadscore`` command does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Each public name and the module it lives in: imported on first use (``__getattr__``), so
#: ``import leadscore`` (and every command's start-up) does not load the scoring stack.
_EXPORTS = {
    "AccountFacts": "leadscore.engines.results",
    "BatchEngine": "leadscore.engines.batch",
    "ConditionCheck": "leadscore.engines.results",
    "ConfigError": "leadscore.errors",
    "Event": "leadscore._types",
    "IncrementalScorer": "leadscore.engines.incremental",
    "InputError": "leadscore.errors",
    "Issue": "leadscore.errors",
    "LeadScore": "leadscore.engines.results",
    "LeadState": "leadscore.engines.incremental",
    "LeadscoreError": "leadscore.errors",
    "ModelFileError": "leadscore.errors",
    "NotFoundError": "leadscore.errors",
    "Plan": "leadscore.engines.plan",
    "Preparations": "leadscore.app.preparations",
    "Project": "leadscore.app.project",
    "RuleContribution": "leadscore.engines.results",
    "ScoringModel": "leadscore.spec.model",
    "Settings": "leadscore.settings",
    "StageCheck": "leadscore.engines.results",
    "Store": "leadscore.store.store",
    "compile_plan": "leadscore.engines.plan",
    "default_model": "leadscore.spec.loader",
    "explain_lead": "leadscore.app.explain",
    "load_model": "leadscore.spec.loader",
    "parse_model": "leadscore.spec.loader",
    "score_all": "leadscore.app.scoring",
}

if TYPE_CHECKING:  # the names as type checkers and editors see them
    from leadscore._types import Event
    from leadscore.app.explain import explain_lead
    from leadscore.app.preparations import Preparations
    from leadscore.app.project import Project
    from leadscore.app.scoring import score_all
    from leadscore.engines.batch import BatchEngine
    from leadscore.engines.incremental import IncrementalScorer, LeadState
    from leadscore.engines.plan import Plan, compile_plan
    from leadscore.engines.results import (
        AccountFacts,
        ConditionCheck,
        LeadScore,
        RuleContribution,
        StageCheck,
    )
    from leadscore.errors import (
        ConfigError,
        InputError,
        Issue,
        LeadscoreError,
        ModelFileError,
        NotFoundError,
    )
    from leadscore.settings import Settings
    from leadscore.spec.loader import default_model, load_model, parse_model
    from leadscore.spec.model import ScoringModel
    from leadscore.store.store import Store

__all__ = [
    "AccountFacts",
    "BatchEngine",
    "ConditionCheck",
    "ConfigError",
    "Event",
    "IncrementalScorer",
    "InputError",
    "Issue",
    "LeadScore",
    "LeadState",
    "LeadscoreError",
    "ModelFileError",
    "NotFoundError",
    "Plan",
    "Preparations",
    "Project",
    "RuleContribution",
    "ScoringModel",
    "Settings",
    "StageCheck",
    "Store",
    "compile_plan",
    "default_model",
    "explain_lead",
    "load_model",
    "parse_model",
    "score_all",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'leadscore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
