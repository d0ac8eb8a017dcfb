"""Scoring every lead, or the leads a write touched, and keeping the results.

The use case behind ``leadscore score``, ``leadscore rescore``, the service's rounds and its
schedule: results as of an instant from the chosen engine, then kept in one transaction with the
stage changes found and the webhook deliveries they owe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from leadscore.app.explain import explain_lead
from leadscore.app.notifications import Change, needs_previous, queue_deliveries
from leadscore.app.preparations import Preparations
from leadscore.app.prepared_batches import model_fingerprint
from leadscore.engines.batch import RESULT_SCHEMA
from leadscore.engines.plan import compile_plan
from leadscore.engines.registry import (
    DEFAULT_ENGINE,
    PreparingEngine,
    get_engine,
    get_preparing_engine,
)
from leadscore.engines.results import LeadScore
from leadscore.engines.semantics import stage_steps
from leadscore.errors import NotFoundError
from leadscore.spec.model import ScoringModel
from leadscore.store.scores import (
    forget_scores,
    kept_scores,
    newer_models,
    replace_scores,
    save_scores,
)
from leadscore.store.store import StageTransition, Store
from leadscore.store.unscored import clear_marks, marks_of, unscored
from leadscore.store.webhooks import Webhook, webhooks


def score_all(
    store: Store,
    models: list[ScoringModel],
    as_of: int,
    *,
    preparations: Preparations | None = None,
    engine: str = DEFAULT_ENGINE,
) -> pa.Table:
    """Every lead's result under every model as of ``as_of``, one row per (lead, model).

    Each model starts from the lifecycle recorded as of ``as_of`` (stage, last recycle), so a
    past instant is scored against the history as it was then. Nothing is written to the
    database. With ``preparations`` (the project's), each model's prepared batch is kept
    between runs and later runs prepare only the leads changed since, when the ``engine``
    can keep a preparation.
    """
    chosen = get_engine(engine)
    if isinstance(chosen, PreparingEngine):
        batches = (preparations or Preparations()).every_lead(store, chosen, as_of)

        def scored(m: ScoringModel, lifecycle: pa.Table) -> pa.Table:
            return chosen.score(batches.prepared(m), as_of, lifecycle=lifecycle)
    else:
        leads, events = store.leads_and_events_arrow(as_of)

        def scored(m: ScoringModel, lifecycle: pa.Table) -> pa.Table:
            return chosen.score_many(compile_plan(m), leads, events, as_of, lifecycle=lifecycle)

    tables = [scored(m, store.lifecycle_arrow(m.name, as_of)) for m in models]
    return pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()


def rescore_all(
    store: Store,
    models: list[ScoringModel],
    at: int,
    *,
    preparations: Preparations | None = None,
    engine: str = DEFAULT_ENGINE,
) -> tuple[pa.Table, int, list[str]]:
    """Score every lead as of ``at`` and keep it (``keep_results``). Returns the results, how
    many stage changes were recorded and the models left alone because their kept results or
    history already went past ``at``.

    What ``leadscore score``, ``leadscore rescore`` and the service's schedule run: time alone
    moves decayed scores and "inactive for N days" stages, with no new event."""
    with store.engine.connect() as conn:
        marks = marks_of(conn, None)
    results = score_all(store, models, at, preparations=preparations, engine=engine)
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
    their kept result). A model whose kept results of these leads (or history) go past ``at``
    is left alone (scoring the past never rewrites the present). Returns how many stage
    changes were recorded and the names of the models left alone."""
    names = [m.name for m in models]
    hooks = webhooks(store)
    transitions, skipped = transition_rows(store, models, results, at)
    with store.engine.begin() as conn:
        skipped = sorted(set(skipped) | set(newer_models(conn, names, at, lead_ids)))
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
            save_scores(conn, results, at)
            # a lead a model no longer applies to (its attributes or the model changed)
            # keeps no result under it
            kept_models = [name for name in names if name not in skipped]
            forget_scores(conn, kept_models, lead_ids, results)
        store.record_transitions(transitions, conn)
        queue_deliveries(conn, store, models, hooks, changes, at)
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
    stage_names = {m.name: [stage.name for stage in m.stages] for m in models}
    plans = {m.name: compile_plan(m) for m in models}
    if needs_previous(hooks):
        before = kept_scores(conn, names, lead_ids)
    else:
        before = {}
        results = results.filter(pc.is_valid(results["transition"]))
    changes = []
    columns = ["lead_id", "model", "score", "engagement", "tier", "stage", "grade", "transition"]
    for row in results.select([*columns, "previous_stage"]).to_pylist():
        kept = before.get((row["lead_id"], row["model"]))
        if (
            kept is not None
            and row["transition"] is None
            and (kept["tier"], kept["score"]) == (row["tier"], row["score"])
        ):
            continue
        steps: list[tuple[str, str]] = []
        if row["transition"] is not None:
            names = stage_names[row["model"]]
            if row["previous_stage"] is None:
                row["previous_stage"] = names[0]  # as the history records it
            steps = stage_steps(names, row["previous_stage"], row["stage"], row["transition"])
        plan = plans[row["model"]]
        priority = plan.priority_of(row["grade"], row.pop("engagement"), row["score"])
        changes.append(Change(**row, before=kept, steps=tuple(steps), priority=priority))
    return changes


def rescore_leads(
    store: Store,
    models: list[ScoringModel],
    lead_ids: Iterable[str],
    at: int,
    preparations: Preparations | None = None,
) -> tuple[int, list[str]]:
    """Score some leads under every model as of ``at`` (``score_leads``) and keep the results
    on the leads with their stage changes and webhook deliveries (``keep_results``), clearing
    the leads' "unscored" marks read before scoring. Returns what ``keep_results`` returns."""
    touched = sorted(set(lead_ids))
    marks, results = score_marked(store, models, touched, at, preparations)
    return keep_results(store, models, results, at, lead_ids=touched, marks=marks)


def score_marked(
    store: Store,
    models: list[ScoringModel],
    lead_ids: Sequence[str],
    at: int,
    preparations: Preparations | None = None,
) -> tuple[dict[str, int], pa.Table]:
    """The leads' "unscored" marks, then their results as of ``at`` (``score_leads``). The
    marks are read first: a mark seen then was committed before the scoring read, so
    ``keep_results`` may clear it."""
    with store.engine.connect() as conn:
        marks = marks_of(conn, lead_ids)
    return marks, score_leads(store, models, lead_ids, at, preparations)


def score_leads(
    store: Store,
    models: list[ScoringModel],
    lead_ids: Iterable[str],
    at: int,
    preparations: Preparations | None = None,
) -> pa.Table:
    """Some leads' results under every model as of ``at`` (``RESULT_SCHEMA``), with the
    stage change each would make; nothing is written.

    What the service runs after writes: only the leads they touched. The batch engine scores
    them together with their accounts' other leads, from parts made lead by lead and
    kept between calls in ``preparations`` (none: nothing is kept), as the leads are now. When
    some lead's attributes changed after ``at``, each lead is replayed instead (the
    incremental engine reads the attributes as of ``at``). The engines agree, so both ways
    give the same results. Models that do not apply to a lead are skipped for it."""
    touched = sorted(set(lead_ids))
    if store.latest_change() <= at:
        plans = {model_fingerprint(m): compile_plan(m) for m in models}
        prepared, members = (preparations or Preparations()).some_leads(store, plans, touched)
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


def with_priority(results: pa.Table, models: Sequence[ScoringModel]) -> pa.Table:
    """``results`` with a ``priority`` column (the grade x band matrix, derived from each
    row's grade, engagement and score: ``Plan.priority_of``) after ``grade``, when any of the
    models has one; unchanged otherwise."""
    plans = {m.name: compile_plan(m) for m in models if m.priority is not None}
    if not plans or results.num_rows == 0:
        return results
    values = [
        None
        if row["model"] not in plans
        else plans[row["model"]].priority_of(row["grade"], row["engagement"], row["score"])
        for row in results.select(["model", "grade", "engagement", "score"]).to_pylist()
    ]
    at = results.schema.get_field_index("grade") + 1
    return results.add_column(at, "priority", pa.array(values, pa.string()))


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
        names = [stage.name for stage in scoring_model.stages]
        for row in changed.select(["lead_id", "previous_stage", "stage", "transition"]).to_pylist():
            previous = row["previous_stage"] or names[0]
            target = row["stage"]
            for before, after in stage_steps(names, previous, target, row["transition"]):
                if row["transition"] != "advance":
                    reason = f"withdraw conditions of {before} hold"
                elif after == target:
                    reason = f"entry conditions of {target} hold"
                else:
                    reason = f"passed on the way to {target}, whose entry conditions hold"
                rows.append(
                    StageTransition(
                        row["lead_id"], name, as_of, before, after, row["transition"], reason
                    )
                )
    return rows, skipped


def marked_leads(store: Store) -> list[str]:
    """Every lead marked unscored, whoever wrote it (this service, another process, a file
    import): what the service's pick-up hands to its rescoring rounds."""
    return unscored(store)
