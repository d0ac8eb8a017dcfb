"""Events in the batch engine's prepare phase: the bot filter as a view, and event filters
as verdict joins."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from leadscore.engines.plan import Plan
from leadscore.engines.sql import decode, json_field, quote
from leadscore.engines.verdicts import register_verdicts
from leadscore.spec.bots import is_bot_user_agent
from leadscore.spec.predicates import Predicate


def without_bots(con: duckdb.DuckDBPyConnection, plan: Plan) -> str:
    """A view of the events without those the bot filter removes (engines/bots.py in SQL).

    Each test builds a small table of what it flags (bad user agents, burst seconds, clicks
    just after a delivery), and the view drops the checked events that one of them names.
    """
    bot_filter = plan.bot_filter
    assert bot_filter is not None
    checked = (
        f"COALESCE(e.type = 'track' AND e.event IN "
        f"({', '.join(quote(name) for name in bot_filter.events)}), FALSE)"
    )
    flags, joins = [], []
    if bot_filter.user_agent:
        ua = json_field("e.properties", "user_agent")
        agents = [
            row[0]
            for row in con.execute(
                f"SELECT DISTINCT {ua} FROM events_in e WHERE {checked}"
            ).fetchall()
        ]
        bad = [a for a in agents if is_bot_user_agent(decode(a))]
        if bad:
            con.register("bot_agents", pa.table({"v": pa.array(bad, pa.string())}))
            joins.append(
                f" LEFT JOIN bot_agents ON bot_agents.v = (CASE WHEN {checked} THEN {ua} END)"
            )
            flags.append("bot_agents.v IS NOT NULL")
    if bot_filter.same_second is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bot_seconds AS SELECT lead_id, "
            f"timestamp // 1000000 AS sec FROM events_in e WHERE {checked} GROUP BY ALL "
            f"HAVING count(*) >= {bot_filter.same_second}"
        )
        joins.append(
            " LEFT JOIN bot_seconds ON bot_seconds.lead_id = e.lead_id "
            "AND bot_seconds.sec = e.timestamp // 1000000"
        )
        flags.append("bot_seconds.lead_id IS NOT NULL")
    if bot_filter.after_delivery_seconds is not None:
        key = json_field("e.properties", bot_filter.key)
        text_key = f"CASE WHEN starts_with({key}, '\"') THEN {key} END"
        delivery = f"e.type = 'track' AND e.event = {quote(bot_filter.delivery_event)}"
        limit = bot_filter.after_delivery_seconds * 1_000_000
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bot_deliveries AS SELECT e.lead_id, "
            f"{text_key} AS k, e.timestamp FROM events_in e WHERE {delivery} AND {text_key} "
            "IS NOT NULL"
        )
        if con.execute("SELECT count(*) FROM bot_deliveries").fetchall()[0][0]:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE bot_clicks AS SELECT DISTINCT c.lead_id, c.k, "
                "c.timestamp FROM (SELECT e.lead_id, e.timestamp, "
                f"{text_key} AS k FROM events_in e WHERE {checked}) c ASOF JOIN bot_deliveries d "
                "ON c.lead_id = d.lead_id AND c.k = d.k AND c.timestamp >= d.timestamp "
                f"WHERE c.timestamp - d.timestamp <= {limit}"
            )
            joins.append(
                " LEFT JOIN bot_clicks ON bot_clicks.lead_id = e.lead_id AND "
                f"bot_clicks.timestamp = e.timestamp AND bot_clicks.k = (CASE WHEN {checked} "
                f"THEN {text_key} END)"
            )
            flags.append("bot_clicks.lead_id IS NOT NULL")
    if not flags:
        return "events_in"
    con.execute(
        "CREATE OR REPLACE TEMP VIEW events_scored AS SELECT e.lead_id, e.type, e.event, "
        "e.timestamp, e.properties FROM events_in e"
        + "".join(joins)
        + f" WHERE NOT ({checked} AND ({' OR '.join(flags)}))"
    )
    return "events_scored"


def event_verdicts(
    con: duckdb.DuckDBPyConnection, plan: Plan, source: str, window: str
) -> tuple[str, str, list[str]]:
    """The property columns to read, the verdict joins, and each event filter as SQL.

    A property is read from the JSON only on rows whose call type and event name could use it,
    and each predicate is judged (in Python, by the spec) once per distinct value.
    """
    by_field: dict[str, list[tuple[str, Predicate]]] = {}
    for matcher in plan.matchers:
        relevant = f"type = {quote(matcher.type)}"
        if matcher.event is not None:
            relevant += f" AND event = {quote(matcher.event)}"
        for predicate in matcher.where:
            by_field.setdefault(predicate.field, []).append((f"({relevant})", predicate))
    extracts, joins, columns = "", "", {}
    for index, (field, uses) in enumerate(by_field.items()):
        relevance = " OR ".join(sorted({relevant for relevant, _ in uses}))
        extract = f"CASE WHEN {relevance} THEN {json_field('properties', field)} END"
        table = f"event_verdict_{index}"
        predicates = list({id(p): p for _, p in uses}.values())
        names = [f"p{index}_{number}" for number in range(len(predicates))]
        register_verdicts(
            con,
            table,
            f"SELECT DISTINCT {extract} FROM {source} WHERE {window} AND ({relevance})",
            predicates,
            names,
        )
        for name, predicate in zip(names, predicates, strict=True):
            null = "TRUE" if predicate.test(None) else "FALSE"
            columns[id(predicate)] = f"COALESCE({table}.{name}, {null})"
        extracts += f", {extract} AS f{index}"
        joins += f" LEFT JOIN {table} ON {table}.v = e.f{index}"
    matchers = []
    for matcher in plan.matchers:
        parts = [f"e.type = {quote(matcher.type)}"]
        if matcher.event is not None:
            parts.append(f"e.event = {quote(matcher.event)}")
        parts.extend(columns[id(p)] for p in matcher.where)
        matchers.append(" AND ".join(parts))
    return extracts, joins, matchers
