"""Project: the folder the CLI works on (``leadscore.toml``, ``models/*.yaml``, the database).

Like git or dbt, commands find the project from the current folder upwards. Everything that
combines the store, the model files and the engines lives here, so the CLI stays thin.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engines.batch import RESULT_SCHEMA, BatchEngine
from leadscore.engines.incremental import IncrementalScorer, LeadState, applies
from leadscore.engines.plan import compile_plan
from leadscore.engines.results import LeadScore
from leadscore.engines.semantics import to_milli
from leadscore.errors import ConfigError, ConflictError, Issue, ModelFileError, NotFoundError
from leadscore.settings import Settings
from leadscore.spec.accounts import account_of
from leadscore.spec.loader import default_model_text, load_model
from leadscore.spec.model import ScoringModel
from leadscore.store.store import StageTransition, Store

CONFIG_FILE = "leadscore.toml"
MODELS_DIR = "models"
DEFAULT_DATABASE = "leadscore.db"

_CONFIG_TEMPLATE = """\
# leadscore project settings. Environment variables LEADSCORE_<NAME> override these.
# database_url = "postgresql+psycopg://localhost/leadscore"   # default: leadscore.db here
"""


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    settings: Settings

    @classmethod
    def init(cls, root: Path) -> Project:
        """Create a project folder with the default (brief) model; refuses to overwrite one."""
        if (root / CONFIG_FILE).exists():
            raise ConfigError(f"{root / CONFIG_FILE} already exists; this is already a project")
        (root / MODELS_DIR).mkdir(parents=True, exist_ok=True)
        (root / CONFIG_FILE).write_text(_CONFIG_TEMPLATE, encoding="utf-8")
        model_file = root / MODELS_DIR / "brief.yaml"
        if not model_file.exists():
            model_file.write_text(default_model_text(), encoding="utf-8")
        project = cls.open(root)
        project.store().close()
        return project

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> Project:
        config = root / CONFIG_FILE
        try:
            values = tomllib.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{config} not found; run 'leadscore init' first") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config}: {exc}") from None
        base = settings if settings is not None else Settings()
        merged = Settings(**{**values, **base.model_dump(exclude_unset=True)})
        return cls(root, merged)

    @classmethod
    def find(cls, start: Path, settings: Settings | None = None) -> Project:
        """The project containing ``start`` (searching parent folders, as git does)."""
        for folder in [start, *start.parents]:
            if (folder / CONFIG_FILE).exists():
                return cls.open(folder, settings)
        raise ConfigError(
            f"no {CONFIG_FILE} in {start} or any parent folder; run 'leadscore init' to create "
            "a project here, or cd into one"
        )

    @property
    def database_url(self) -> str:
        return self.settings.database_url or f"sqlite:///{self.root / DEFAULT_DATABASE}"

    def store(self) -> Store:
        return Store.open(self.database_url)

    def models(self, only: str | None = None) -> list[ScoringModel]:
        """Every model file, validated together (all problems of all files reported at once)."""
        files = sorted((self.root / MODELS_DIR).glob("*.y*ml"))
        models: list[ScoringModel] = []
        issues: list[Issue] = []
        for file in files:
            try:
                models.append(load_model(file))
            except ModelFileError as exc:
                issues.extend(exc.issues)
        if issues:
            raise ModelFileError(issues)
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"two model files use the name {duplicates[0]!r}; names must differ")
        if only is not None:
            models = [m for m in models if m.name == only]
            if not models:
                raise NotFoundError(f"no model named {only!r}; models here: {names}")
        if not models:
            raise ConfigError(f"no model files in {self.root / MODELS_DIR}; add one (*.yaml)")
        return models


def score_all(store: Store, models: list[ScoringModel], as_of: int) -> pa.Table:
    """Every lead's result under every model as of ``as_of``, one row per (lead, model).

    Each model starts from the lifecycle recorded as of ``as_of`` (stage, last recycle), so a
    past instant is scored against the history as it was then. Nothing is written.
    """
    leads = store.leads_arrow(as_of)
    events = store.events_arrow()
    engine = BatchEngine()
    tables = [
        engine.score_many(
            compile_plan(m), leads, events, as_of, lifecycle=store.lifecycle_arrow(m.name, as_of)
        )
        for m in models
    ]
    return pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()


def record_transitions(
    store: Store, models: list[ScoringModel], results: pa.Table, as_of: int
) -> tuple[int, list[str]]:
    """Append the stage changes in ``results`` (from ``score_all`` at ``as_of``) to the history.

    History only grows forward in time: a model whose history already has a transition after
    ``as_of`` is left alone (scoring the past never rewrites it). Returns how many transitions
    were recorded and the names of the models left alone.
    """
    first = {m.name: m.stages[0].name for m in models if m.stages}
    skipped = []
    rows: list[StageTransition] = []
    for scoring_model in models:
        name = scoring_model.name
        latest = store.last_transition_at(name)
        if latest is not None and latest > as_of:
            skipped.append(name)
            continue
        changed = results.filter(
            pc.and_(
                pc.equal(results["model"], name),
                pc.is_valid(results["transition"]),
            )
        )
        for row in changed.select(["lead_id", "previous_stage", "stage", "transition"]).to_pylist():
            previous = row["previous_stage"] or first[name]
            reason = (
                f"entry conditions of {row['stage']} hold"
                if row["transition"] == "advance"
                else f"withdraw conditions of {previous} hold"
            )
            rows.append(
                StageTransition(
                    row["lead_id"], name, as_of, previous, row["stage"], row["transition"], reason
                )
            )
    return store.record_transitions(rows), skipped


def recycle_lead(
    store: Store, scoring_model: ScoringModel, lead_id: str, at: int, reason: str
) -> StageTransition:
    """Record that sales sent a lead back (a recycle): it returns to the model's recycle stage
    and, with ``restart_engagement``, its engagement restarts from zero at ``at``."""
    store.lead(lead_id)  # NotFoundError names an unknown lead
    plan = compile_plan(scoring_model)
    if not plan.stages:
        raise ConfigError(f"model {plan.model!r} has no stages; there is nothing to recycle")
    history = store.transitions(lead_id, plan.model)
    if history and history[-1].at > at:
        raise ConflictError(
            f"lead {lead_id!r} has a stage change recorded under model {plan.model!r} after the "
            "recycle's time; a recycle cannot be earlier than the lead's last recorded change"
        )
    stage, _ = store.lifecycle(lead_id, plan.model, at)
    transition = StageTransition(
        lead_id,
        plan.model,
        at,
        plan.stages[plan.stage_index(stage)].name,
        plan.stages[plan.recycle_to].name,
        "recycle",
        reason,
    )
    store.record_transitions([transition])
    return transition


def roll_up_accounts(results: pa.Table, models: list[ScoringModel]) -> pa.Table:
    """One row per (model, account) from ``score_all``'s results: how many leads, how many
    engaged (``accounts.engaged_min``), the account's fit (its best-fitting lead's: who the
    company is shows in its best contact), engagement (summed over its leads) and score (its
    best lead's), and that lead. Leads without an account are left out."""
    import duckdb

    minimums = pa.table(
        {
            "model": [m.name for m in models],
            "engaged_min": [to_milli(m.accounts.engaged_min) for m in models],
        }
    )
    con = duckdb.connect()
    con.register("results", results)
    con.register("minimums", minimums)
    return con.sql(
        "SELECT model, account_id, count(*) AS leads, "
        "count(*) FILTER (WHERE engagement >= engaged_min) AS engaged_leads, "
        "max(fit) AS fit, CAST(sum(engagement) AS BIGINT) AS engagement, max(score) AS score, "
        "arg_max(lead_id, score) AS best_lead FROM results JOIN minimums USING (model) "
        "WHERE account_id IS NOT NULL GROUP BY model, account_id "
        "ORDER BY model, engagement DESC, account_id"
    ).to_arrow_table()


def explain_lead(store: Store, scoring_model: ScoringModel, lead_id: str, as_of: int) -> LeadScore:
    """One lead's result with its explanation, replayed from its stored events and starting
    from its lifecycle recorded as of ``as_of``."""
    plan = compile_plan(scoring_model)
    attributes = store.lead(lead_id, as_of)
    if not applies(plan.applies_to, attributes):
        raise NotFoundError(f"model {scoring_model.name!r} does not apply to lead {lead_id!r}")
    scorer = IncrementalScorer(plan)
    state = _replay(store, scorer, lead_id, attributes, as_of)
    account = None
    if plan.uses_accounts:  # replay the colleagues too: the account facts need them
        members = store.account_members(lead_id, as_of)
        states = [
            state if member == lead_id else _replay(store, scorer, member, attrs, as_of)
            for member, attrs in members.items()
        ]
        account = scorer.account_facts(account_of(attributes), states, as_of)
    return scorer.score_one(state, as_of, account)


def _replay(
    store: Store, scorer: IncrementalScorer, lead_id: str, attributes: dict[str, Any], as_of: int
) -> LeadState:
    """A lead's incremental state from its stored events and lifecycle as of ``as_of``."""
    state = scorer.new_state(lead_id, attributes)
    scorer.set_lifecycle(state, *store.lifecycle(lead_id, scorer.plan.model, as_of))
    for event in store.lead_events(lead_id):
        scorer.add_one(state, event)
    return state
