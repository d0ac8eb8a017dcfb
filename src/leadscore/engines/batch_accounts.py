"""Account facts in the batch engine: per-account aggregates of the applicable leads, and
predicates on ``account.*`` fields judged once per distinct fact value."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from leadscore.engines import semantics as s
from leadscore.engines.plan import Plan
from leadscore.spec.accounts import account_of, fact_name
from leadscore.spec.predicates import Predicate


def with_account_ids(leads: pa.Table, *, compute: bool) -> pa.Table:
    """``leads`` with its account_id column: ``account_of`` per lead when ``compute``, else
    empty (the store always provides the column; other callers rarely need it)."""
    if compute:
        ids = [account_of(json.loads(text or "{}")) for text in leads["attributes"].to_pylist()]
    else:
        ids = [None] * leads.num_rows
    return leads.append_column("account_id", pa.array(ids, pa.string()))


class AccountVerdicts:
    """Account facts per applicable lead, and predicates on them judged once per distinct
    fact value, in Python, on the same values ``AccountFacts.attributes`` gives."""

    def __init__(self, con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
        self.con = con
        self.plan = plan
        self.columns: dict[int, str] = {}
        self._by_fact: dict[str, list[Predicate]] = {}

    def column(self, predicate: Predicate) -> str:
        key = id(predicate)
        if key not in self.columns:
            self.columns[key] = f"q{len(self.columns)}"
            fact = fact_name(predicate.field)
            assert fact is not None
            self._by_fact.setdefault(fact, []).append(predicate)
        return self.columns[key]

    def fact_columns(self) -> list[tuple[str, str]]:
        """Per-lead event counts the account counts need (``aggregate_events`` facts)."""
        if not self.plan.uses_accounts:
            return []
        return [
            (f"ac{i}", f"count(*) FILTER (WHERE m{matcher})")
            for i, (_, matcher) in enumerate(self.plan.account_counts)
        ]

    def build(self, applies: str) -> None:
        """Create ``account_verdicts(lead_id, q...)`` for the leads the model applies to."""
        if not self._by_fact:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE account_verdicts AS "
                "SELECT NULL::VARCHAR AS lead_id, NULL::BOOLEAN AS q_none"
            )
            return
        counts = self.plan.account_counts
        has = "".join(f", COALESCE(eng.ac{i}, 0) > 0 AS h{i}" for i in range(len(counts)))
        sums = "".join(
            f", count(*) FILTER (WHERE h{i}) AS {name}" for i, (name, _) in enumerate(counts)
        )
        # members: applicable leads; one without an account id is an account of its own
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE account_members AS SELECT lf.lead_id, li.account_id, "
            "CASE WHEN li.account_id IS NULL THEN lf.lead_id END AS solo, "
            f"COALESCE(eng.engagement, 0) AS engagement{has} FROM lf "
            f"JOIN leads_in li USING (lead_id) LEFT JOIN eng USING (lead_id) WHERE {applies}"
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE account_facts AS SELECT m.lead_id, a.* EXCLUDE (solo) "
            "FROM account_members m JOIN (SELECT account_id AS id, solo, count(*) AS leads, "
            f"count(*) FILTER (WHERE engagement >= {self.plan.engaged_min}) AS engaged_leads, "
            f"CAST(sum(engagement) AS BIGINT) AS engagement{sums} FROM account_members "
            "GROUP BY account_id, solo) a ON a.id IS NOT DISTINCT FROM m.account_id "
            "AND a.solo IS NOT DISTINCT FROM m.solo"
        )
        selects, joins = ["f.lead_id"], []
        for index, (fact, predicates) in enumerate(self._by_fact.items()):
            raw = [
                row[0]
                for row in self.con.execute(
                    f'SELECT DISTINCT "{fact}" FROM account_facts'
                ).fetchall()
            ]
            values = [account_value(fact, v) for v in raw]
            table = f"account_verdict_{index}"
            names = [self.columns[id(p)] for p in predicates]
            verdicts = {
                name: [p.test(value) for value in values]
                for name, p in zip(names, predicates, strict=True)
            }
            arrow_type = pa.string() if fact == "id" else pa.int64()
            self.con.register(table, pa.table({"v": pa.array(raw, arrow_type), **verdicts}))
            joins.append(f' JOIN {table} ON {table}.v IS NOT DISTINCT FROM f."{fact}"')
            selects.extend(f"{table}.{name}" for name in names)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE account_verdicts AS SELECT {', '.join(selects)} "
            "FROM account_facts f" + "".join(joins)
        )


def account_value(fact: str, raw: object) -> object:
    """A fact's value as predicates see it (``AccountFacts.attributes``)."""
    if fact == "engagement" and isinstance(raw, int):
        return raw / s.MILLI
    return raw
