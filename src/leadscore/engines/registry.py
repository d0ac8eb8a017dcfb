"""Engines chosen by name: the ``Engine`` contract and the one place an engine is made.

``get_engine("duckdb")`` imports its class only when asked, so an engine with heavy optional
dependencies (PySpark) costs nothing until a project chooses it with ``engine = "..."`` in
``leadscore.toml`` (or ``LEADSCORE_ENGINE``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from leadscore.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from leadscore.engines.plan import Plan
    from leadscore.engines.prepared import Prepared


@runtime_checkable
class Engine(Protocol):
    """Scores every lead of a table under one compiled model, as of one instant.

    The contract every engine keeps (``leadscore.testing.check_engine`` proves it):

    * **Every lead the model applies to gets one row** (``batch.RESULT_SCHEMA``): lead_id,
      account_id, model, fit, engagement and score in integer milli-points, tier, grade, stage,
      previous_stage and transition. Leads the model does not apply to get none.
    * **Point in time**: only events with a timestamp at or before ``as_of`` count; ages are
      whole UTC days; a recycle in ``lifecycle`` cuts the lead's earlier events (when the model
      restarts engagement); the stage starts from the recorded one and moves as
      ``semantics.next_stage`` says.
    * **Equal to the others to the milli-point**: the same inputs give the same row in every
      engine, and the same as the naive oracle (``leadscore.testing.score_naively``), whatever
      the order of the input rows.

    Inputs are Arrow tables: ``leads`` (lead_id, attributes as JSON text, optional
    account_id), ``events`` (lead_id, type, event, timestamp in UTC microseconds, properties as
    JSON text; message ids already unique) and ``lifecycle`` (lead_id, stage, recycled_at).
    """

    def score_many(
        self,
        plan: Plan,
        leads: pa.Table,
        events: pa.Table | None,
        as_of: int,
        *,
        lifecycle: pa.Table | None = None,
    ) -> pa.Table: ...


@runtime_checkable
class PreparingEngine(Engine, Protocol):
    """An engine whose work splits into an instant-independent ``prepare`` and a cheap
    ``score`` of what was prepared, so a preparation can be kept and scored again at other
    instants (``leadscore score``'s cache, the service's rounds)."""

    def prepare(self, plan: Plan, leads: pa.Table, events: pa.Table | None) -> Prepared: ...

    def score(
        self, prepared: Prepared, as_of: int, *, lifecycle: pa.Table | None = None
    ) -> pa.Table: ...


#: Engine names and where their class lives ("module:Class"), imported on first use.
ENGINES: dict[str, str] = {
    "duckdb": "leadscore.engines.batch:BatchEngine",
    "spark": "leadscore.engines.spark:SparkEngine",
}
DEFAULT_ENGINE = "duckdb"


def get_engine(name: str = DEFAULT_ENGINE) -> Engine:
    """A new engine of the named kind.

    Examples:
        >>> type(get_engine("duckdb")).__name__
        'BatchEngine'
        >>> get_engine("oracle")
        Traceback (most recent call last):
        ...
        leadscore.errors.ConfigError: engine 'oracle' is not known; known engines: duckdb, spark
    """
    path = ENGINES.get(name)
    if path is None:
        raise ConfigError(f"engine {name!r} is not known; known engines: {', '.join(ENGINES)}")
    module_name, _, class_name = path.partition(":")
    engine: Engine = getattr(importlib.import_module(module_name), class_name)()
    return engine


def get_preparing_engine(name: str = DEFAULT_ENGINE) -> PreparingEngine:
    """A new engine of the named kind that can keep preparations (``PreparingEngine``)."""
    engine = get_engine(name)
    if not isinstance(engine, PreparingEngine):
        raise ConfigError(f"engine {name!r} cannot keep a preparation between runs")
    return engine
