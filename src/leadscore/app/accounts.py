"""Accounts ranked by the engagement of their leads, from a scoring run's results."""

from __future__ import annotations

import pyarrow as pa

from leadscore.engines.semantics import to_milli
from leadscore.spec.model import ScoringModel


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
