"""Accounts ranked by the engagement of their leads, from a scoring run's results."""

from __future__ import annotations

import pyarrow as pa

from leadscore.engines.semantics import to_milli
from leadscore.spec.model import ScoringModel


def roll_up_accounts(
    results: pa.Table, models: list[ScoringModel], leads: pa.Table | None = None
) -> pa.Table:
    """One row per (model, account) from ``score_all``'s results: how many leads, how many
    engaged (``accounts.engaged_min``), the account's fit (its best-fitting lead's: who the
    company is shows in its best contact), engagement (summed over its leads) and score (its
    best lead's), and that lead. Leads without an account are left out.

    With ``leads`` (``Store.leads_arrow``), each account is also named by the company its
    leads give most often (their ``company`` attribute: the CRM's Company Name), so a person
    reads "Nordwind Logistik" rather than only ``nordwind.example``."""
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
    company = "CAST(NULL AS VARCHAR)"
    join = ""
    if leads is not None:
        con.register("leads", leads.select(["lead_id", "attributes"]))
        named = "nullif(trim(json_extract_string(l.attributes, '$.company')), '')"
        company = f"mode({named}) FILTER (WHERE {named} IS NOT NULL)"
        join = "LEFT JOIN leads l USING (lead_id)"
    return con.sql(
        f"SELECT model, account_id, {company} AS company, count(*) AS leads, "
        "count(*) FILTER (WHERE engagement >= engaged_min) AS engaged_leads, "
        "max(fit) AS fit, CAST(sum(engagement) AS BIGINT) AS engagement, max(score) AS score, "
        "arg_max(lead_id, score) AS best_lead "
        f"FROM results JOIN minimums USING (model) {join} "
        "WHERE account_id IS NOT NULL GROUP BY model, account_id "
        "ORDER BY model, engagement DESC, account_id"
    ).to_arrow_table()
