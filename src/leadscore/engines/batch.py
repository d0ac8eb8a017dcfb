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

import json
import logging
import time
from collections.abc import Callable, Iterable

import duckdb
import pyarrow as pa

from leadscore.engines import semantics as s
from leadscore.engines.plan import Plan, milli_bounds
from leadscore.spec import conditions as c
from leadscore.spec.accounts import account_of, fact_name
from leadscore.spec.bots import is_bot_user_agent
from leadscore.spec.domains import email_domain
from leadscore.spec.predicates import Bounds, EmailDomain, Predicate

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


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_field(column: str, field: str) -> str:
    """SQL reading a field from a JSON column exactly as ``predicates.field_value`` does."""

    def path(parts: Iterable[str]) -> str:
        return _quote("$" + "".join('."' + p.replace('"', '\\"') + '"' for p in parts))

    literal = f"CAST(json_extract({column}, {path([field])}) AS VARCHAR)"
    if "." not in field:
        return literal
    nested = f"CAST(json_extract({column}, {path(field.split('.'))}) AS VARCHAR)"
    return f"(CASE WHEN json_exists({column}, {path([field])}) THEN {literal} ELSE {nested} END)"


def _bounds_sql(expr: str, bounds: Bounds) -> str:
    parts = [f"{expr} {op} {value!r}" for op, value in bounds.given()]
    return "(" + " AND ".join(parts) + ")"


def _decode(text: str | None) -> object:
    """JSON text -> value; plain strings skip the parser (most values are plain strings)."""
    if text is None:
        return None
    if text[:1] == '"' and "\\" not in text:
        return text[1:-1]
    return json.loads(text)


def _judge(values: list[str | None], predicates: list[Predicate]) -> list[list[bool]]:
    """Each predicate's verdict on each distinct value, value by value (so per-value work such
    as parsing an email address is shared by the predicates on one field)."""
    columns: list[list[bool]] = [[] for _ in predicates]
    by_domain: list[dict[str | None, bool]] = [{} for _ in predicates]
    for text in values:
        value = _decode(text)
        domain: str | None = None
        parsed = False
        for column, predicate, seen in zip(columns, predicates, by_domain, strict=True):
            if not isinstance(predicate, EmailDomain):
                column.append(predicate.test(value))
                continue
            if not parsed:
                domain, parsed = email_domain(value), True
            verdict = seen.get(domain)
            if verdict is None:
                verdict = seen[domain] = predicate.test_domain(domain)
            column.append(verdict)
    return columns


def _register_verdicts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    distinct_sql: str,
    predicates: list[Predicate],
    names: list[str],
) -> None:
    """Register ``table(v, <names>...)``: each distinct JSON value and every verdict on it."""
    values = [row[0] for row in con.execute(distinct_sql).fetchall()]
    judged = _judge(values, predicates)
    columns = dict(zip(names, judged, strict=True))
    con.register(table, pa.table({"v": pa.array(values, pa.string()), **columns}))


class _Verdicts:
    """Judges predicates once per distinct field value and joins the verdicts back as columns."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, json_column: str) -> None:
        self.con = con
        self.source = source
        self.json_column = json_column
        self.columns: dict[int, str] = {}
        self._by_field: dict[str, list[Predicate]] = {}

    def column(self, predicate: Predicate) -> str:
        key = id(predicate)
        if key not in self.columns:
            self.columns[key] = f"p{len(self.columns)}"
            self._by_field.setdefault(predicate.field, []).append(predicate)
        return self.columns[key]

    def build(self, table: str, keep: str) -> None:
        """Create ``table`` with the ``keep`` columns of the source plus one bool per predicate."""
        selects = [keep]
        joins = []
        for index, (field, predicates) in enumerate(self._by_field.items()):
            extract = _json_field(self.json_column, field)
            name = f"verdict_{table}_{index}"
            _register_verdicts(
                self.con,
                name,
                f"SELECT DISTINCT {extract} FROM {self.source}",
                predicates,
                [self.columns[id(p)] for p in predicates],
            )
            joins.append(f"LEFT JOIN {name} ON {name}.v IS NOT DISTINCT FROM src.f{index}")
            selects[0] += f", {extract} AS f{index}"
            for p in predicates:
                selects.append(f"{name}.{self.columns[id(p)]} AS {self.columns[id(p)]}")
        inner = f"SELECT {selects[0]} FROM {self.source}"
        outer = ", ".join(["src.*", *selects[1:]])
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {outer} FROM ({inner}) src "
            + " ".join(joins)
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
            leads = _with_account_ids(leads, compute=plan.uses_accounts)
        con.register("leads_in", leads)
        if events is None:
            events = empty_events()
        con.register("events_in", events)
        if lifecycle is None:
            lifecycle = LIFECYCLE_SCHEMA.empty_table()
        con.register("lifecycle_in", lifecycle)
        as_of_day = s.day_of(as_of)
        lead_verdicts = _Verdicts(con, "leads_in", "attributes")
        account_verdicts = _AccountVerdicts(con, plan)

        def attribute(predicate: Predicate) -> str:
            if fact_name(predicate.field) is not None:
                return account_verdicts.column(predicate)
            return lead_verdicts.column(predicate)

        applies = [lead_verdicts.column(p) for p in plan.applies_to]
        fit_terms = []
        for rule in plan.fit:
            cond = " AND ".join(attribute(p) for p in rule.when)
            fit_terms.append(f"CASE WHEN {cond} THEN {rule.points} ELSE 0 END")
        stage_sql = _StageSql(plan, as_of_day, attribute)
        lead_verdicts.build("lf", "lead_id")
        source = _without_bots(con, plan) if plan.bot_filter is not None else "events_in"
        if plan.restart_engagement and lifecycle.num_rows:
            source = _after_recycle(con, source)
        facts = stage_sql.fact_columns() + account_verdicts.fact_columns()
        _aggregate_events(con, plan, as_of, source, facts)
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
            f"SELECT lead_id, account_id, {_quote(plan.model)} AS model, fit, engagement, score, "
            f"{_band_sql('score', plan.tiers)} AS tier, {_band_sql('fit', plan.grades)} AS grade, "
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


def _with_account_ids(leads: pa.Table, *, compute: bool) -> pa.Table:
    """``leads`` with its account_id column: ``account_of`` per lead when ``compute``, else
    empty (the store always provides the column; other callers rarely need it)."""
    if compute:
        ids = [account_of(json.loads(text or "{}")) for text in leads["attributes"].to_pylist()]
    else:
        ids = [None] * leads.num_rows
    return leads.append_column("account_id", pa.array(ids, pa.string()))


class _AccountVerdicts:
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
        """Per-lead event counts the account counts need (``_aggregate_events`` facts)."""
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
            values = [_account_value(fact, v) for v in raw]
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


def _account_value(fact: str, raw: object) -> object:
    """A fact's value as predicates see it (``AccountFacts.attributes``)."""
    if fact == "engagement" and isinstance(raw, int):
        return raw / s.MILLI
    return raw


def _without_bots(con: duckdb.DuckDBPyConnection, plan: Plan) -> str:
    """A view of the events without those the bot filter removes (engines/bots.py in SQL).

    Each test builds a small table of what it flags (bad user agents, burst seconds, clicks
    just after a delivery), and the view drops the checked events that one of them names.
    """
    bot_filter = plan.bot_filter
    assert bot_filter is not None
    checked = (
        f"COALESCE(e.type = 'track' AND e.event IN "
        f"({', '.join(_quote(name) for name in bot_filter.events)}), FALSE)"
    )
    flags, joins = [], []
    if bot_filter.user_agent:
        ua = _json_field("e.properties", "user_agent")
        agents = [
            row[0]
            for row in con.execute(
                f"SELECT DISTINCT {ua} FROM events_in e WHERE {checked}"
            ).fetchall()
        ]
        bad = [a for a in agents if is_bot_user_agent(_decode(a))]
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
        key = _json_field("e.properties", bot_filter.key)
        text_key = f"CASE WHEN starts_with({key}, '\"') THEN {key} END"
        delivery = f"e.type = 'track' AND e.event = {_quote(bot_filter.delivery_event)}"
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


def _after_recycle(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A view of ``source`` without each lead's events at or before its last recycle."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW events_live AS SELECT e.* FROM {source} e "
        "LEFT JOIN lifecycle_in lc ON lc.lead_id = e.lead_id "
        "WHERE lc.recycled_at IS NULL OR e.timestamp > lc.recycled_at"
    )
    return "events_live"


def _event_verdicts(
    con: duckdb.DuckDBPyConnection, plan: Plan, source: str, window: str
) -> tuple[str, str, list[str]]:
    """The property columns to read, the verdict joins, and each event filter as SQL.

    A property is read from the JSON only on rows whose call type and event name could use it,
    and each predicate is judged (in Python, by the spec) once per distinct value.
    """
    by_field: dict[str, list[tuple[str, Predicate]]] = {}
    for matcher in plan.matchers:
        relevant = f"type = {_quote(matcher.type)}"
        if matcher.event is not None:
            relevant += f" AND event = {_quote(matcher.event)}"
        for predicate in matcher.where:
            by_field.setdefault(predicate.field, []).append((f"({relevant})", predicate))
    extracts, joins, columns = "", "", {}
    for index, (field, uses) in enumerate(by_field.items()):
        relevance = " OR ".join(sorted({relevant for relevant, _ in uses}))
        extract = f"CASE WHEN {relevance} THEN {_json_field('properties', field)} END"
        table = f"event_verdict_{index}"
        predicates = list({id(p): p for _, p in uses}.values())
        names = [f"p{index}_{number}" for number in range(len(predicates))]
        _register_verdicts(
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
        parts = [f"e.type = {_quote(matcher.type)}"]
        if matcher.event is not None:
            parts.append(f"e.event = {_quote(matcher.event)}")
        parts.extend(columns[id(p)] for p in matcher.where)
        matchers.append(" AND ".join(parts))
    return extracts, joins, matchers


def _decayed(points_sql: str, ppm_sql: str, *, sign: int | None = None) -> str:
    """``semantics.apply_factor`` in SQL (half away from zero); ``sign`` when known."""
    half, ppm = s.PPM // 2, s.PPM
    up = f"(({points_sql}) * {ppm_sql} + {half}) // {ppm}"
    down = f"-((-({points_sql}) * {ppm_sql} + {half}) // {ppm})"
    if sign is not None:
        return up if sign >= 0 else down
    return f"(CASE WHEN ({points_sql}) >= 0 THEN {up} ELSE {down} END)"


def _clamp_sql(expr: str, cap: int | None) -> str:
    return expr if cap is None else f"LEAST(GREATEST({expr}, -{cap}), {cap})"


def _aggregate_events(
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
    extracts, joins, matchers = _event_verdicts(con, plan, source, window)
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
            each = _decayed(str(rule.points), ppm, sign=rule.points)
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
            f"sum({_decayed(_clamp_sql(f'n{r.index} * {r.points}', r.daily_cap), f'k{r.index}')})"
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
            value = f"COALESCE({_decayed(str(one), f'o{rule.index}', sign=one)}, 0)"
        elif rule.daily_cap is None:
            value = f"COALESCE(g.r{rule.index}, 0)"
        else:
            value = f"COALESCE(c.c{rule.index}, 0)"
        terms.setdefault(rule.group, []).append(_clamp_sql(value, rule.cap))
    parts = []
    for group, values in terms.items():
        total = "(" + " + ".join(values) + ")"
        parts.append(total if group is None else _clamp_sql(total, plan.groups[group].cap))
    engagement = _clamp_sql("(" + " + ".join(parts) + ")", plan.engagement_cap) if parts else "0"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE eng AS SELECT g.lead_id, "
        f"CAST({engagement} AS BIGINT) AS engagement, g.* EXCLUDE (lead_id) "
        "FROM lead_agg g LEFT JOIN capped c USING (lead_id)"
    )


def _band_sql(column: str, bands: tuple[tuple[str, float | None], ...]) -> str:
    if not bands:
        return "NULL"
    whens = []
    for name, minimum in bands:
        if minimum is None:
            whens.append(f"ELSE {_quote(name)}")
            break
        whens.append(f"WHEN {column} >= {minimum!r} THEN {_quote(name)}")
    if not whens[-1].startswith("ELSE"):
        whens.append("ELSE NULL")
    return "CASE " + " ".join(whens) + " END"


class _StageSql:
    """Writes stage condition trees as SQL over the per-lead ``base`` columns.

    ``base.cur`` is the recorded stage's index; ``semantics.next_stage`` is written as SQL in
    ``withdrawn_expr`` and ``stage_index_expr``.
    """

    def __init__(self, plan: Plan, as_of_day: int, attribute: Callable[[Predicate], str]) -> None:
        self.plan = plan
        self.as_of_day = as_of_day
        self.facts: list[tuple[str, str]] = []
        self._fact_names: dict[tuple[str, int, int | None], str] = {}
        self.entered: dict[str, str] = {}  # entry conditions hold
        self.reached: dict[str, str] = {}  # recorded at or past it, or entered now
        self.withdraw: dict[int, str] = {}  # stage index -> its withdraw conditions hold
        for index, stage in enumerate(plan.stages):
            if index == 0 or stage.when is None:
                self.entered[stage.name] = "TRUE"
            else:
                self.entered[stage.name] = self._sql(stage.when, attribute)
            self.reached[stage.name] = f"(base.cur >= {index} OR {self.entered[stage.name]})"
        for index, stage in enumerate(plan.stages):
            if stage.withdraw is not None:
                self.withdraw[index] = self._sql(stage.withdraw, attribute)

    def _fact(self, kind: str, matcher: int, within: int | None) -> str:
        key = (kind, matcher, within)
        if key not in self._fact_names:
            name = f"{kind}{len(self._fact_names)}"
            self._fact_names[key] = name
            window = f" AND age <= {within}" if within is not None else ""
            agg = "count(*)" if kind == "c" else "max(day)"
            self.facts.append((name, f"{agg} FILTER (WHERE m{matcher}{window})"))
        return self._fact_names[key]

    def _sql(self, node: c.Condition, attribute: Callable[[Predicate], str]) -> str:
        if isinstance(node, c.All):
            return "(" + " AND ".join(self._sql(n, attribute) for n in node.all) + ")"
        if isinstance(node, c.AnyOf):
            return "(" + " OR ".join(self._sql(n, attribute) for n in node.any) + ")"
        if isinstance(node, c.Not):
            return f"(NOT {self._sql(node.not_, attribute)})"
        if isinstance(node, c.ScoreAtLeast):
            return _bounds_sql(f"base.{node.of}", milli_bounds(node))
        if isinstance(node, c.AttributeCondition):
            return f"base.{attribute(node.where)}"
        if isinstance(node, c.EventCount):
            name = self._fact("c", self.plan.condition_matchers[id(node)], node.within_days)
            return _bounds_sql(f"COALESCE(base.{name}, 0)", node)
        if isinstance(node, c.DaysSinceActivity):
            return _bounds_sql(f"COALESCE({self.as_of_day} - base.last_day, {s.NEVER_DAYS})", node)
        if isinstance(node, c.DaysSinceEvent):
            name = self._fact("d", self.plan.condition_matchers[id(node)], None)
            return _bounds_sql(f"COALESCE({self.as_of_day} - base.{name}, {s.NEVER_DAYS})", node)
        if isinstance(node, c.StageReached):
            return self.reached[node.stage]
        raise TypeError(f"not a condition: {node!r}")  # pragma: no cover

    def fact_columns(self) -> list[tuple[str, str]]:
        return self.facts

    def current_expr(self, recorded: str) -> str:
        """The index of the recorded stage; none, or one the model lacks, is the first."""
        whens = " ".join(
            f"WHEN {_quote(stage.name)} THEN {index}"
            for index, stage in enumerate(self.plan.stages)
            if index > 0
        )
        return f"(CASE {recorded} {whens} ELSE 0 END)" if whens else "0"

    def withdrawn_expr(self) -> str:
        if not self.withdraw:
            return "FALSE"
        whens = " OR ".join(f"(base.cur = {i} AND {sql})" for i, sql in self.withdraw.items())
        return f"COALESCE({whens}, FALSE)"

    def stage_index_expr(self) -> str:
        stages = self.plan.stages
        highest = " ".join(
            f"WHEN {self.entered[stage.name]} THEN {index}"
            for index, stage in reversed(list(enumerate(stages)))
            if index > 0
        )
        advanced = f"GREATEST(base.cur, CASE {highest} ELSE 0 END)" if highest else "base.cur"
        back = " ".join(
            f"WHEN base.cur = {index} THEN {stages[index].withdraw_to}" for index in self.withdraw
        )
        if not back:
            return advanced
        return f"(CASE WHEN {self.withdrawn_expr()} THEN (CASE {back} END) ELSE {advanced} END)"

    def name_expr(self, index: str) -> str:
        if not self.plan.stages:
            return "NULL"
        whens = " ".join(
            f"WHEN {i} THEN {_quote(stage.name)}" for i, stage in enumerate(self.plan.stages)
        )
        return f"(CASE {index} {whens} END)"

    def transition_expr(self) -> str:
        if not self.plan.stages:
            return "NULL"
        return "(CASE WHEN withdrawn THEN 'withdraw' WHEN stage_index > cur THEN 'advance' END)"


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
