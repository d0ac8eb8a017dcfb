"""Score every lead at once, columnar, in DuckDB: the batch engine.

Predicates are judged in Python by the spec's own ``test``, but only once per *distinct* value
of each field (a few hundred page paths, not ten million events); DuckDB then joins those
verdicts back and does all counting, decay, caps, bands and stage conditions as integer SQL
written from ``semantics``. The result equals the incremental engine's for every lead.

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

from leadscore.engines import semantics as s
from leadscore.engines.batch_accounts import AccountVerdicts, with_account_ids
from leadscore.engines.batch_events import after_recycle, aggregate_events, without_bots
from leadscore.engines.batch_stages import StageSql
from leadscore.engines.plan import Plan
from leadscore.engines.sql import Verdicts, band_sql, quote
from leadscore.spec.accounts import fact_name
from leadscore.spec.predicates import Predicate

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

LIFECYCLE_SCHEMA = pa.schema(
    [("lead_id", pa.string()), ("stage", pa.string()), ("recycled_at", pa.int64())]
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
        >>> out = BatchEngine().score_many(plan, leads, None, as_of=0)
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
        con = connection if connection is not None else duckdb.connect()
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        if "account_id" not in leads.column_names:
            leads = with_account_ids(leads, compute=plan.uses_accounts)
        con.register("leads_in", leads)
        if events is None:
            events = empty_events()
        con.register("events_in", events)
        if lifecycle is None:
            lifecycle = LIFECYCLE_SCHEMA.empty_table()
        con.register("lifecycle_in", lifecycle)
        as_of_day = s.day_of(as_of)
        lead_verdicts = Verdicts(con, "leads_in", "attributes")
        account_verdicts = AccountVerdicts(con, plan)

        def attribute(predicate: Predicate) -> str:
            if fact_name(predicate.field) is not None:
                return account_verdicts.column(predicate)
            return lead_verdicts.column(predicate)

        applies = [lead_verdicts.column(p) for p in plan.applies_to]
        fit_terms = []
        for rule in plan.fit:
            cond = " AND ".join(attribute(p) for p in rule.when)
            fit_terms.append(f"CASE WHEN {cond} THEN {rule.points} ELSE 0 END")
        stage_sql = StageSql(plan, as_of_day, attribute)
        lead_verdicts.build("lf", "lead_id")
        source = without_bots(con, plan) if plan.bot_filter is not None else "events_in"
        if plan.restart_engagement and lifecycle.num_rows:
            source = after_recycle(con, source)
        facts = stage_sql.fact_columns() + account_verdicts.fact_columns()
        aggregate_events(con, plan, as_of, source, facts)
        where = " AND ".join(applies) if applies else "TRUE"
        account_verdicts.build(where)
        fit_expr = " + ".join(fit_terms) if fit_terms else "0"
        low_high = plan.clip
        score_expr = "(base.fit + base.engagement)"
        if low_high is not None:
            score_expr = f"GREATEST({low_high[0]}, LEAST({low_high[1]}, {score_expr}))"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE base AS SELECT lf.*, li.account_id, "
            "account_verdicts.* EXCLUDE (lead_id), "
            f"CAST({fit_expr} AS BIGINT) AS fit, CAST(COALESCE(eng.engagement, 0) AS BIGINT) "
            "AS engagement, eng.* EXCLUDE (lead_id, engagement), "
            f"lc.stage AS previous_stage, {stage_sql.current_expr('lc.stage')} AS cur FROM lf "
            "LEFT JOIN eng USING (lead_id) LEFT JOIN lifecycle_in lc USING (lead_id) "
            "JOIN leads_in li USING (lead_id) LEFT JOIN account_verdicts USING (lead_id) "
            f"WHERE {where}"
        )
        scored = f"(SELECT base.*, CAST({score_expr} AS BIGINT) AS score FROM base) base"
        staged = (
            f"(SELECT base.*, {stage_sql.withdrawn_expr()} AS withdrawn, "
            f"{stage_sql.stage_index_expr()} AS stage_index FROM {scored}) base"
        )
        result = con.sql(
            f"SELECT lead_id, account_id, {quote(plan.model)} AS model, fit, engagement, score, "
            f"{band_sql('score', plan.tiers)} AS tier, {band_sql('fit', plan.grades)} AS grade, "
            f"{stage_sql.name_expr('stage_index')} AS stage, previous_stage, "
            f"{stage_sql.transition_expr()} AS transition FROM {staged} ORDER BY lead_id"
        ).to_arrow_table()
        logger.info(
            "Scored %d leads with %s in %.2fs",
            result.num_rows,
            plan.model,
            time.perf_counter() - started,
        )
        return result.cast(RESULT_SCHEMA)


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
