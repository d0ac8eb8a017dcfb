"""``check_engine``: the agreement suite any engine runs to prove it keeps the ``Engine`` contract.

An engine passes when, on every generated model, set of leads, event stream, instant and
recorded lifecycle, its ``score_many`` gives each lead the row the naive oracle computes
(``score_naively``), field by field, and no row for a lead the model does not apply to.

Examples:
    >>> from leadscore.engines.registry import get_engine
    >>> check_engine(get_engine("duckdb"), max_examples=3)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields

import pyarrow as pa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from leadscore._types import Event
from leadscore.engines.plan import compile_plan
from leadscore.engines.registry import Engine
from leadscore.spec.accounts import account_of
from leadscore.spec.model import ScoringModel
from leadscore.testing.oracle import NaiveResult, score_naively
from leadscore.testing.strategies import Case, Leads, Lifecycle, cases, lifecycles, models

#: The result columns every engine must fill as the oracle does.
COMPARED = tuple(f.name for f in fields(NaiveResult))


def arrow_inputs(leads: Leads, events: Sequence[Event]) -> tuple[pa.Table, pa.Table]:
    """Leads and events as the ``Engine`` contract takes them (the account id computed as
    the store computes it at import)."""
    lead_table = pa.table(
        {
            "lead_id": pa.array(list(leads), pa.string()),
            "attributes": pa.array([json.dumps(a) for a in leads.values()], pa.string()),
            "account_id": pa.array([account_of(a) for a in leads.values()], pa.string()),
        }
    )
    event_table = pa.table(
        {
            "lead_id": pa.array([e.lead_id for e in events], pa.string()),
            "type": pa.array([e.type for e in events], pa.string()),
            "event": pa.array([e.event for e in events], pa.string()),
            "timestamp": pa.array([e.timestamp for e in events], pa.int64()),
            "properties": pa.array([json.dumps(e.properties) for e in events], pa.string()),
        }
    )
    return lead_table, event_table


def lifecycle_table(lifecycle: Mapping[str, tuple[str | None, int | None]]) -> pa.Table:
    """Recorded (stage, last recycle) per lead, as ``Store.lifecycle_arrow`` returns them."""
    return pa.table(
        {
            "lead_id": pa.array(list(lifecycle), pa.string()),
            "stage": pa.array([stage for stage, _ in lifecycle.values()], pa.string()),
            "recycled_at": pa.array([at for _, at in lifecycle.values()], pa.int64()),
        }
    )


def assert_agrees(
    engine: Engine,
    model: ScoringModel,
    leads: Leads,
    events: Sequence[Event],
    as_of: int,
    lifecycle: Lifecycle | None = None,
) -> None:
    """Fail, naming the lead and the fields, where ``engine`` and the oracle differ."""
    lifecycle = lifecycle or {}
    table = engine.score_many(
        compile_plan(model),
        *arrow_inputs(leads, events),
        as_of,
        lifecycle=lifecycle_table(lifecycle),
    )
    assert_rows_agree(table.to_pylist(), model, leads, events, as_of, lifecycle)


def assert_rows_agree(
    rows: Sequence[Mapping[str, object]],
    model: ScoringModel,
    leads: Leads,
    events: Sequence[Event],
    as_of: int,
    lifecycle: Lifecycle | None = None,
) -> None:
    """Fail, naming the lead and the fields, where an engine's result rows (as
    ``score_many`` returns them, as Python dicts) and the oracle differ."""
    got = {row["lead_id"]: {name: row[name] for name in COMPARED} for row in rows}
    expected = {
        lead_id: asdict(result)
        for lead_id, result in score_naively(model, leads, events, as_of, lifecycle).items()
    }
    if got.keys() != expected.keys():
        raise AssertionError(
            f"the engine scored leads {sorted(map(str, got))}; the model applies to "
            f"{sorted(expected)}"
        )
    for lead_id, row in expected.items():
        differ = {k: (got[lead_id][k], v) for k, v in row.items() if got[lead_id][k] != v}
        if differ:
            text = ", ".join(f"{k}: engine {a!r}, oracle {b!r}" for k, (a, b) in differ.items())
            raise AssertionError(f"lead {lead_id!r} as of {as_of}: {text}")


def check_engine(engine: Engine, *, max_examples: int = 200, shrink: bool = True) -> None:
    """Run the agreement property on ``engine``; raise ``AssertionError`` when it disagrees
    with the oracle, with hypothesis' smallest failing case (``shrink=False``: the first
    found, much sooner)."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])

    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
        phases=phases,
    )
    @given(scoring_model=models(), case=cases(), data=st.data())
    def agrees(scoring_model: ScoringModel, case: Case, data: st.DataObject) -> None:
        leads, events, as_of = case
        lifecycle = data.draw(lifecycles(sorted(leads), events))
        assert_agrees(engine, scoring_model, leads, events, as_of, lifecycle)

    agrees()
