"""Score every lead at once, columnar: the batch engine.

Two phases. ``prepare`` (DuckDB) reads the JSON, judges each predicate once per *distinct*
value (in Python, by the spec's own ``test``), applies the bot filter and keeps, per event
filter, the matching (lead, timestamp) pairs as integer arrays. ``score_prepared`` (numpy)
then does all counting, decay, caps, accounts, bands and stage conditions as of an instant,
written from ``semantics``. A ``Prepared`` can be kept and re-scored at other instants or
with another lifecycle without reading any JSON again. The result equals the incremental
engine's for every lead.

Input tables (Arrow):
    leads:  lead_id (string), attributes (JSON object text), account_id (string, optional:
            ``spec.accounts.account_of``; computed when absent and the model reads accounts)
    events: lead_id (string), type ('track' | 'page'), event (string), timestamp (int64 UTC
            microseconds), properties (JSON object text); message ids already unique.
    lifecycle (optional): lead_id (string), stage (string, the recorded stage),
            recycled_at (int64, the last recycle's instant) for this model, as of ``as_of``.
"""

from __future__ import annotations

import logging
import time

import duckdb
import pyarrow as pa

from leadscore.engines.batch_accounts import with_account_ids
from leadscore.engines.plan import Plan
from leadscore.engines.prepared import Prepared, prepare
from leadscore.engines.vectorized import score_prepared

logger = logging.getLogger(__name__)

RESULT_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("account_id", pa.string()),
        ("model", pa.string()),
        ("fit", pa.int64()),
        ("engagement", pa.int64()),
        ("score", pa.int64()),
        ("tier", pa.string()),
        ("grade", pa.string()),
        ("stage", pa.string()),
        ("previous_stage", pa.string()),
        ("transition", pa.string()),
    ]
)


class BatchEngine:
    """Columnar scoring of many leads with DuckDB.

    Examples:
        >>> import pyarrow as pa
        >>> from leadscore.spec.loader import parse_model
        >>> from leadscore.engines.plan import compile_plan
        >>> plan = compile_plan(parse_model('''
        ... name: m
        ... fit: [{name: phone, points: 5, when: [{type: present, field: phone}]}]'''))
        >>> leads = pa.table({"lead_id": ["a", "b"], "attributes": ['{"phone": "1"}', '{}']})
        >>> from leadscore.engines.registry import get_engine
        >>> out = get_engine("duckdb").score_many(plan, leads, None, as_of=0)
        >>> sorted(zip(out["lead_id"].to_pylist(), out["fit"].to_pylist()))
        [('a', 5000), ('b', 0)]
    """

    def __init__(self, *, threads: int | None = None) -> None:
        self.threads = threads

    def score_many(
        self,
        plan: Plan,
        leads: pa.Table,
        events: pa.Table | None,
        as_of: int,
        *,
        lifecycle: pa.Table | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> pa.Table:
        """Every lead's fit, engagement, score (milli-points), tier, grade and stage as of
        ``as_of`` (UTC microseconds); leads the model does not apply to are left out.

        ``lifecycle`` holds the recorded stage and last recycle of leads that have any; the new
        stage and the transition follow ``semantics.next_stage``."""
        started = time.perf_counter()
        prepared = self.prepare(plan, leads, events, connection=connection)
        result = self.score(prepared, as_of, lifecycle=lifecycle)
        logger.info(
            "Scored %d leads with %s in %.2fs",
            result.num_rows,
            plan.model,
            time.perf_counter() - started,
        )
        return result

    def prepare(
        self,
        plan: Plan,
        leads: pa.Table,
        events: pa.Table | None,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> Prepared:
        """The instant-independent part of scoring ``leads`` and ``events`` with ``plan``."""
        con = connection if connection is not None else duckdb.connect()
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        if "account_id" not in leads.column_names:
            leads = with_account_ids(leads, compute=plan.uses_accounts)
        return prepare(con, plan, leads, events if events is not None else empty_events())

    def score(
        self, prepared: Prepared, as_of: int, *, lifecycle: pa.Table | None = None
    ) -> pa.Table:
        """``score_many``'s result from a ``Prepared``, as of ``as_of`` with ``lifecycle``."""
        return score_prepared(prepared, as_of, lifecycle).cast(RESULT_SCHEMA)


def empty_events() -> pa.Table:
    """An events table with no rows, for leads-only scoring."""
    return pa.table(
        {
            "lead_id": pa.array([], pa.string()),
            "type": pa.array([], pa.string()),
            "event": pa.array([], pa.string()),
            "timestamp": pa.array([], pa.int64()),
            "properties": pa.array([], pa.string()),
        }
    )
