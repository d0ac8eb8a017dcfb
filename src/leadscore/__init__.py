"""leadscore: open-source lead scoring with explainable point models.

A scoring model is a YAML file (``load_model``), compiled once (``compile_plan``) and run by
two engines that agree to the milli-point: ``BatchEngine`` scores every lead at once in DuckDB,
``IncrementalScorer`` updates one lead per event. ``Project`` ties a folder, its model files and
its database together, as the ``leadscore`` command does.
"""

from __future__ import annotations

from leadscore._types import Event
from leadscore.app.explain import explain_lead
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
