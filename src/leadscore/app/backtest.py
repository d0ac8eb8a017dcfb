"""Backtest: models replayed over the stored history, point in time, before one goes live.

Reads what a replay needs from the store (the events, every attribute version, the stage
recorded under each model's name at the start, the CRM stages and recycles since) and runs
``engines.replay`` for each model. ``app/backtest_metrics.py`` turns the replays into the
numbers people compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.app.backtest_metrics import (
    Difference,
    ModelResult,
    differences,
    first_conversions,
    measure,
)
from leadscore.app.people import people
from leadscore.app.preparations import Preparations
from leadscore.engines.plan import Plan, compile_plan
from leadscore.engines.prepared import Prepared
from leadscore.engines.registry import DEFAULT_ENGINE, get_preparing_engine
from leadscore.engines.replay import Recorded, Replay, Replayer, Versions
from leadscore.engines.semantics import day_of
from leadscore.engines.timeline import end_of_day
from leadscore.errors import InputError
from leadscore.spec.model import ScoringModel
from leadscore.store.outcomes import outcomes_arrow
from leadscore.store.store import Store

#: A backtest scores at the end of each step day; this many steps at most (ten years of days).
MAX_STEPS = 3_660
#: Leads x steps a replay holds at once: about 80 bytes a cell (engagement, fit, score, tiers,
#: stages, event counts), so some 6 GB; a year of 100,000 leads is 36.5 million (3.5 GB).
MAX_CELLS = 80_000_000


def backtest_days(start: int, end: int, every_days: int) -> list[int]:
    """The UTC days a backtest from ``start`` to ``end`` (instants) scores at the end of."""
    if every_days < 1:
        raise InputError("the step must be at least one day (1d, 7d, 1w)")
    first, last = day_of(start), day_of(end)
    if last < first:
        raise InputError("the backtest's end comes before its start: give --from before --to")
    days = list(range(first, last + 1, every_days))
    if len(days) > MAX_STEPS:
        raise InputError(
            f"{len(days)} steps is more than a backtest takes ({MAX_STEPS}): "
            "shorten the period or take a longer --step"
        )
    return days


def backtest_steps(start: int, end: int, every_days: int, horizon_days: int) -> list[int]:
    """``backtest_days`` of a backtest measured over ``horizon_days`` (at least one)."""
    if horizon_days < 1:
        raise InputError("the horizon must be at least one day (30d, 90d)")
    return backtest_days(start, end, every_days)


def replay_models(
    store: Store,
    models: Sequence[ScoringModel],
    days: Sequence[int],
    *,
    preparations: Preparations | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[Replay]:
    """Each model replayed at the end of each of ``days``, in order.

    ``progress(model, done, total)`` hears of each step. Each model reads the history
    recorded under its own name: a candidate that keeps the live model's name starts from
    the live stages and sees its CRM stages and recycles."""
    for replayer in replayers(store, models, days, preparations=preparations):
        plan = replayer.prepared.plan

        def heard(done: int, total: int, name: str = plan.model) -> None:
            if progress is not None:
                progress(name, done, total)

        yield replayer.run(progress=heard)


def replayers(
    store: Store,
    models: Sequence[ScoringModel],
    days: Sequence[int],
    *,
    preparations: Preparations | None,
) -> Iterator[Replayer]:
    """Each model's ``Replayer`` over ``days``: its event-driven part made, ready to run."""
    engine = get_preparing_engine(DEFAULT_ENGINE)
    first, last = end_of_day(days[0]), end_of_day(days[-1])
    batches = (preparations or Preparations()).every_lead(store, engine, last)
    version_rows = store.lead_versions_arrow()
    for scoring_model in models:
        plan = compile_plan(scoring_model)
        prepared = batches.prepared(scoring_model)
        if prepared.size * len(days) > MAX_CELLS:
            raise InputError(
                f"{prepared.size:,} leads x {len(days):,} steps is more than a replay holds in "
                f"memory ({MAX_CELLS:,} lead-steps, about 6 GB): take a longer --step or a "
                "shorter period"
            )
        versions = judged_versions(plan, version_rows, prepared)
        recorded = recorded_history(store, plan, prepared.lead_ids, first, last)
        yield Replayer(prepared, versions, recorded, list(days))


def judged_versions(plan: Plan, rows: pa.Table, prepared: Prepared) -> Versions:
    """Every attribute version of ``prepared``'s leads, with the plan's lead predicates judged
    on each (the batch engine's preparation, run over versions instead of leads)."""
    where = pc.index_in(rows["lead_id"], value_set=prepared.lead_ids)
    rows = rows.filter(where.is_valid()).append_column("lead", where.drop_null())
    rows = rows.sort_by([("lead", "ascending"), ("valid_from", "ascending"), ("id", "ascending")])
    keys = pa.array([f"{i:012d}" for i in range(rows.num_rows)], pa.string())
    as_leads = pa.table(
        {"lead_id": keys, "attributes": rows["attributes"], "account_id": rows["account_id"]}
    )
    judged = get_preparing_engine(DEFAULT_ENGINE).prepare(plan, as_leads, None)
    return Versions(
        lead=rows["lead"].to_numpy().astype(np.int64),
        valid_from=rows["valid_from"].to_numpy().astype(np.int64),
        account_ids=judged.account_ids,
        verdicts=judged.verdicts,
    )


def recorded_history(
    store: Store, plan: Plan, lead_ids: pa.StringArray, first: int, last: int
) -> Recorded:
    """The stage recorded under the plan's model as of ``first``, and the CRM stages and
    recycles up to ``last``, over ``lead_ids``' indexes."""
    return recorded(
        plan,
        store.lifecycle_arrow(plan.model, first),
        store.recorded_moves(plan.model, last),
        lead_ids,
        first,
    )


def recorded(
    plan: Plan, lifecycle: pa.Table, moves: pa.Table, lead_ids: pa.StringArray, first: int
) -> Recorded:
    """``Recorded`` from the stages as of ``first`` (lead_id, stage) and the CRM stages and
    recycles (``Store.recorded_moves``: lead_id, at, to_stage, kind), over ``lead_ids``'
    indexes."""
    start = np.zeros(len(lead_ids), np.int64)
    where = pc.index_in(lifecycle["lead_id"], value_set=lead_ids)
    known = where.is_valid().to_numpy(zero_copy_only=False)
    stages = np.array([plan.stage_index(n) for n in lifecycle["stage"].to_pylist()], np.int64)
    start[where.fill_null(0).to_numpy()[known]] = stages[known] if len(stages) else stages
    where = pc.index_in(moves["lead_id"], value_set=lead_ids)
    moves = moves.filter(where.is_valid()).append_column("lead", where.drop_null())
    lead = moves["lead"].to_numpy().astype(np.int64)
    at = moves["at"].to_numpy().astype(np.int64)
    later = at > first
    recycle = (moves["kind"].to_numpy(zero_copy_only=False) == "recycle") if len(at) else later
    targets = np.array([plan.stage_index(n) for n in moves["to_stage"].to_pylist()], np.int64)
    return Recorded(
        start=start,
        lead=lead[later],
        at=at[later],
        stage=targets[later] if len(targets) else lead[later],
        recycle_lead=lead[recycle],
        recycle_at=at[recycle],
    )


@dataclass(frozen=True, slots=True)
class Backtest:
    """A backtest's numbers: each model's, and the leads the first model treats differently
    from each of the others at the last step (``differences[label]``), with who they are."""

    start: int
    end: int
    step_days: int
    horizon_days: int
    labels: list[str]
    results: list[ModelResult]
    differences: dict[str, list[Difference]]
    people: dict[str, dict[str, Any]]


def run_backtest(
    store: Store,
    models: Sequence[tuple[str, ScoringModel]],
    start: int,
    end: int,
    *,
    every_days: int = 1,
    horizon_days: int = 90,
    stage: str | None = None,
    differences_limit: int | None = 50,
    preparations: Preparations | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Backtest:
    """Replay ``models`` (label, model; the candidate first) from ``start`` to ``end`` and
    measure each (``backtest_metrics.measure``); conversions are read from the outcomes."""
    days = backtest_steps(start, end, every_days, horizon_days)
    outcomes = outcomes_arrow(store)
    results: list[ModelResult] = []
    found: dict[str, list[Difference]] = {}
    first: Replay | None = None
    runs = replay_models(
        store, [m for _, m in models], days, preparations=preparations, progress=progress
    )
    for (label, _), replayed in zip(models, runs, strict=True):
        converted_at = first_conversions(outcomes, replayed.lead_ids)
        results.append(measure(replayed, converted_at, horizon_days, stage))
        if first is None:
            first = replayed
        else:
            found[label] = differences(first, replayed, differences_limit)
    ids = sorted({d.lead_id for listed in found.values() for d in listed})
    return Backtest(
        start=int(first.instants[0]) if first else start,
        end=int(first.instants[-1]) if first else end,
        step_days=every_days,
        horizon_days=horizon_days,
        labels=[label for label, _ in models],
        results=results,
        differences=found,
        people=people(store, ids),
    )
