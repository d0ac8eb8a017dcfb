"""Accounts ranked by the engagement of their leads: from a scoring run's results (the CLI),
or from the results kept on the leads (the service's account API)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pyarrow as pa

from leadscore.app.people import person
from leadscore.engines.plan import compile_plan
from leadscore.engines.semantics import band, to_milli
from leadscore.errors import NotFoundError
from leadscore.spec.model import ScoringModel
from leadscore.store.scores import account_leads, account_scores
from leadscore.store.store import Store


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


def kept_accounts(
    store: Store,
    scoring_model: ScoringModel,
    *,
    after: tuple[int, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Accounts by the kept results of their leads, most engaged first: leads, engaged leads,
    fit, engagement and score (milli-points), the account's tier (the model's tier of its
    best score) and its company name (the one its leads give most often)."""
    engaged = to_milli(scoring_model.accounts.engaged_min)
    rows = account_scores(store, scoring_model.name, engaged, after=after, limit=limit)
    leads = account_leads(store, scoring_model.name, [row["account_id"] for row in rows])
    return _described(scoring_model, rows, leads)


def kept_account(store: Store, scoring_model: ScoringModel, account_id: str) -> dict[str, Any]:
    """One account as ``kept_accounts`` gives it, with its leads (who each is, and their
    kept score, tier and stage), best first. NotFoundError when no scored lead has it."""
    engaged = to_milli(scoring_model.accounts.engaged_min)
    rows = account_scores(store, scoring_model.name, engaged, account_id=account_id, limit=1)
    if not rows:
        raise NotFoundError(
            f"no account {account_id!r} with scored leads under model {scoring_model.name!r}"
        )
    leads = account_leads(store, scoring_model.name, [account_id])[account_id]
    (account,) = _described(scoring_model, rows, {account_id: leads})
    account["leads_of_account"] = [
        {**row, "person": person(json.loads(row.pop("attributes")))} for row in leads
    ]
    return account


def _described(
    scoring_model: ScoringModel,
    rows: list[dict[str, Any]],
    leads: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Each account row with its ``company`` (the name its ``leads`` give most often) and
    its ``tier`` (the model's tier of its best score)."""
    plan = compile_plan(scoring_model)
    return [
        {
            **row,
            "company": _company(leads.get(row["account_id"], [])),
            "tier": band(row["score"], plan.tiers),
        }
        for row in rows
    ]


def _company(leads: list[dict[str, Any]]) -> str | None:
    """The most common non-empty ``company`` attribute among an account's leads."""
    named = Counter(
        str(company).strip()
        for row in leads
        if (company := json.loads(row["attributes"]).get("company")) not in (None, "")
    )
    return named.most_common(1)[0][0] if named else None
