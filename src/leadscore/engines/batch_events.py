"""Events in the batch engine: the bot filter and recycle cut as views, event predicates as
verdict joins, and the per-lead aggregation of engagement and stage facts."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from leadscore.engines import semantics as s
from leadscore.engines.plan import Plan
from leadscore.engines.sql import decode, json_field, quote, register_verdicts
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


def after_recycle(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A view of ``source`` without each lead's events at or before its last recycle."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW events_live AS SELECT e.* FROM {source} e "
        "LEFT JOIN lifecycle_in lc ON lc.lead_id = e.lead_id "
        "WHERE lc.recycled_at IS NULL OR e.timestamp > lc.recycled_at"
    )
    return "events_live"


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


def decayed(points_sql: str, ppm_sql: str, *, sign: int | None = None) -> str:
    """``semantics.apply_factor`` in SQL (half away from zero); ``sign`` when known."""
    half, ppm = s.PPM // 2, s.PPM
    up = f"(({points_sql}) * {ppm_sql} + {half}) // {ppm}"
    down = f"-((-({points_sql}) * {ppm_sql} + {half}) // {ppm})"
    if sign is not None:
        return up if sign >= 0 else down
    return f"(CASE WHEN ({points_sql}) >= 0 THEN {up} ELSE {down} END)"


def clamp_sql(expr: str, cap: int | None) -> str:
    return expr if cap is None else f"LEAST(GREATEST({expr}, -{cap}), {cap})"


def aggregate_events(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    as_of: int,
    source: str,
    facts: list[tuple[str, str]],
) -> None:
    """Per lead: engagement (milli-points) and the stage facts, in one pass over the events.

    Rules without a daily cap add each event's decayed, rounded points; rules with one are
    summed per day first (a second, smaller pass over their events only); ``once`` rules take
    the decay of their latest event. Caps and groups are then plain arithmetic per lead.
    """
    as_of_day = s.day_of(as_of)
    window = f"timestamp <= {int(as_of)}"
    extracts, joins, matchers = event_verdicts(con, plan, source, window)
    oldest_ts = con.execute(f"SELECT min(timestamp) FROM {source} WHERE {window}").fetchall()[0][0]
    oldest = max(as_of_day - s.day_of(oldest_ts), 0) if oldest_ts is not None else 0
    decays = plan.decays
    ages = list(range(oldest + 1))
    con.register(
        "ages",
        pa.table(
            {"age": pa.array(ages, pa.int64())}
            | {
                f"ppm{d}": [s.decay_ppm(decay, age) for age in ages]
                for d, decay in enumerate(decays)
            }
        ),
    )
    ppm_columns = "".join(f", a.ppm{d}" for d in range(len(decays)))
    match_columns = "".join(f", ({m}) AS m{j}" for j, m in enumerate(matchers))
    con.execute(
        "CREATE OR REPLACE TEMP VIEW ev AS SELECT e.lead_id, e.day, a.age"
        + match_columns
        + ppm_columns
        + f" FROM (SELECT lead_id, CAST(timestamp // {s.DAY_US} AS BIGINT) AS day, type, event"
        + extracts
        + f" FROM {source} WHERE {window}) e"
        + joins
        + f" JOIN ages a ON a.age = {as_of_day} - e.day"
    )
    aggregates = ["max(day) AS last_day"]
    capped = []
    for rule in plan.rules:
        cond = f"m{rule.matcher}"
        if rule.within_days is not None:
            cond += f" AND age <= {rule.within_days}"
        ppm = f"ppm{plan.decay_id(rule)}"
        if rule.once:
            aggregates.append(f"arg_max({ppm}, day) FILTER (WHERE {cond}) AS o{rule.index}")
        elif rule.daily_cap is None:
            each = decayed(str(rule.points), ppm, sign=rule.points)
            aggregates.append(f"sum(CASE WHEN {cond} THEN {each} ELSE 0 END) AS r{rule.index}")
        else:
            capped.append((rule, cond, ppm))
    aggregates.extend(f"{expr} AS {name}" for name, expr in facts)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lead_agg AS SELECT lead_id, "
        + ", ".join(aggregates)
        + " FROM ev GROUP BY lead_id"
    )
    if capped:
        per_day = ", ".join(
            f"count(*) FILTER (WHERE {cond}) AS n{rule.index}, any_value({ppm}) AS k{rule.index}"
            for rule, cond, ppm in capped
        )
        sums = ", ".join(
            f"sum({decayed(clamp_sql(f'n{r.index} * {r.points}', r.daily_cap), f'k{r.index}')})"
            f" AS c{r.index}"
            for r, _, _ in capped
        )
        any_match = " OR ".join(f"({cond})" for _, cond, _ in capped)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE capped AS SELECT lead_id, {sums} FROM "
            f"(SELECT lead_id, day, {per_day} FROM ev WHERE {any_match} GROUP BY lead_id, day) "
            "GROUP BY lead_id"
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE capped AS SELECT NULL::VARCHAR AS lead_id")
    terms: dict[int | None, list[str]] = {}
    for rule in plan.rules:
        if rule.once:
            one = s.day_points(1, rule.points, rule.daily_cap)
            value = f"COALESCE({decayed(str(one), f'o{rule.index}', sign=one)}, 0)"
        elif rule.daily_cap is None:
            value = f"COALESCE(g.r{rule.index}, 0)"
        else:
            value = f"COALESCE(c.c{rule.index}, 0)"
        terms.setdefault(rule.group, []).append(clamp_sql(value, rule.cap))
    parts = []
    for group, values in terms.items():
        total = "(" + " + ".join(values) + ")"
        parts.append(total if group is None else clamp_sql(total, plan.groups[group].cap))
    engagement = clamp_sql("(" + " + ".join(parts) + ")", plan.engagement_cap) if parts else "0"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE eng AS SELECT g.lead_id, "
        f"CAST({engagement} AS BIGINT) AS engagement, g.* EXCLUDE (lead_id) "
        "FROM lead_agg g LEFT JOIN capped c USING (lead_id)"
    )
