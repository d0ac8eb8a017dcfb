"""Score every lead at once, columnar, in DuckDB: the batch engine.

Predicates are judged in Python by the spec's own ``test``, but only once per *distinct* value
of each field (a few hundred page paths, not ten million events); DuckDB then joins those
verdicts back and does all counting, decay, caps, bands and stage conditions as integer SQL
written from ``semantics``. The result equals the incremental engine's for every lead.

Input tables (Arrow):
    leads:  lead_id (string), attributes (JSON object text)
    events: lead_id (string), type ('track' | 'page'), event (string), timestamp (int64 UTC
            microseconds), properties (JSON object text); message ids already unique.
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
from leadscore.spec.bots import is_bot_user_agent
from leadscore.spec.predicates import Bounds, Predicate

logger = logging.getLogger(__name__)

RESULT_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("model", pa.string()),
        ("fit", pa.int64()),
        ("engagement", pa.int64()),
        ("score", pa.int64()),
        ("tier", pa.string()),
        ("grade", pa.string()),
        ("stage", pa.string()),
    ]
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
    parts = [
        f"{expr} {op} {value!r}"
        for op, value in (
            (">", bounds.gt),
            (">=", bounds.gte),
            ("<", bounds.lt),
            ("<=", bounds.lte),
        )
        if value is not None
    ]
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
    for text in values:
        value = _decode(text)
        for column, predicate in zip(columns, predicates, strict=True):
            column.append(predicate.test(value))
    return columns


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
            values = [
                row[0]
                for row in self.con.execute(
                    f"SELECT DISTINCT {extract} FROM {self.source}"
                ).fetchall()
            ]
            judged = _judge(values, predicates)
            verdicts = {self.columns[id(p)]: judged[i] for i, p in enumerate(predicates)}
            name = f"verdict_{table}_{index}"
            self.con.register(name, pa.table({"v": pa.array(values, pa.string()), **verdicts}))
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
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> pa.Table:
        """Every lead's fit, engagement, score (milli-points), tier, grade and stage as of
        ``as_of`` (UTC microseconds); leads the model does not apply to are left out."""
        started = time.perf_counter()
        con = connection if connection is not None else duckdb.connect()
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        con.register("leads_in", leads)
        if events is None:
            events = empty_events()
        con.register("events_in", events)
        as_of_day = s.day_of(as_of)
        lead_verdicts = _Verdicts(con, "leads_in", "attributes")
        applies = [lead_verdicts.column(p) for p in plan.applies_to]
        fit_terms = []
        for rule in plan.fit:
            cond = " AND ".join(lead_verdicts.column(p) for p in rule.when)
            fit_terms.append(f"CASE WHEN {cond} THEN {rule.points} ELSE 0 END")
        stage_sql = _StageSql(plan, as_of_day, lead_verdicts.column)
        lead_verdicts.build("lf", "lead_id")
        source = _without_bots(con, plan) if plan.bot_filter is not None else "events_in"
        _build_daily(con, plan, as_of, source)
        self._engagement(con, plan, as_of_day)
        facts = stage_sql.fact_columns()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE facts AS SELECT lead_id, max(day) AS last_day"
            + "".join(f", {expr} AS {name}" for name, expr in facts)
            + " FROM daily GROUP BY lead_id"
        )
        fit_expr = " + ".join(fit_terms) if fit_terms else "0"
        low_high = plan.clip
        score_expr = "(base.fit + base.engagement)"
        if low_high is not None:
            score_expr = f"GREATEST({low_high[0]}, LEAST({low_high[1]}, {score_expr}))"
        where = " AND ".join(applies) if applies else "TRUE"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE base AS SELECT lf.*, "
            f"CAST({fit_expr} AS BIGINT) AS fit, CAST(COALESCE(eng.engagement, 0) AS BIGINT) "
            "AS engagement, facts.* EXCLUDE (lead_id) FROM lf "
            "LEFT JOIN eng USING (lead_id) LEFT JOIN facts USING (lead_id) "
            f"WHERE {where}"
        )
        result = con.sql(
            f"SELECT lead_id, {_quote(plan.model)} AS model, fit, engagement, score, "
            f"{_band_sql('score', plan.tiers)} AS tier, {_band_sql('fit', plan.grades)} AS grade, "
            f"{stage_sql.stage_expr()} AS stage FROM "
            f"(SELECT base.*, CAST({score_expr} AS BIGINT) AS score FROM base) base "
            "ORDER BY lead_id"
        ).to_arrow_table()
        logger.info(
            "Scored %d leads with %s in %.2fs",
            result.num_rows,
            plan.model,
            time.perf_counter() - started,
        )
        return result.cast(RESULT_SCHEMA)

    def _engagement(self, con: duckdb.DuckDBPyConnection, plan: Plan, as_of_day: int) -> None:
        if not plan.rules:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE eng AS SELECT NULL::VARCHAR AS lead_id, "
                "0::BIGINT AS engagement WHERE FALSE"
            )
            return
        min_day = con.execute("SELECT min(day) FROM daily").fetchall()[0]
        oldest = as_of_day - (min_day[0] if min_day and min_day[0] is not None else as_of_day)
        decays = plan.decays
        ages = list(range(max(oldest, 0) + 1))
        con.register(
            "decay_table",
            pa.table(
                {
                    "decay_id": [d for d in range(len(decays)) for _ in ages],
                    "age": ages * len(decays),
                    "ppm": [s.decay_ppm(decay, age) for decay in decays for age in ages],
                }
            ),
        )
        con.register(
            "rule_table",
            pa.table(
                {
                    "rule": [r.index for r in plan.rules],
                    "points": pa.array([r.points for r in plan.rules], pa.int64()),
                    "daily_cap": pa.array([r.daily_cap for r in plan.rules], pa.int64()),
                    "cap": pa.array([r.cap for r in plan.rules], pa.int64()),
                    "grp": pa.array([r.group for r in plan.rules], pa.int64()),
                    "decay_id": [plan.decay_id(r) for r in plan.rules],
                }
            ),
        )
        con.register(
            "group_table",
            pa.table(
                {
                    "grp": pa.array(range(len(plan.groups)), pa.int64()),
                    "gcap": pa.array([g.cap for g in plan.groups], pa.int64()),
                }
            ),
        )
        half = s.PPM // 2
        raw = (
            "CASE WHEN r.daily_cap IS NULL THEN d.n * r.points "
            "ELSE LEAST(GREATEST(d.n * r.points, -r.daily_cap), r.daily_cap) END"
        )
        decayed = (
            f"CASE WHEN x.raw >= 0 THEN (x.raw * k.ppm + {half}) // {s.PPM} "
            f"ELSE -((-x.raw * k.ppm + {half}) // {s.PPM}) END"
        )
        parts = []
        for rule in plan.rules:
            where = f"n{rule.matcher} > 0"
            if rule.within_days is not None:
                where += f" AND {as_of_day} - day <= {rule.within_days}"
            if rule.once:
                parts.append(
                    f"SELECT lead_id, {rule.index} AS rule, max(day) AS day, 1::BIGINT AS n "
                    f"FROM daily WHERE {where} GROUP BY lead_id"
                )
            else:
                parts.append(
                    f"SELECT lead_id, {rule.index} AS rule, day, n{rule.matcher} AS n "
                    f"FROM daily WHERE {where}"
                )
        con.execute("CREATE OR REPLACE TEMP TABLE hits AS " + " UNION ALL ".join(parts))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rule_days AS SELECT x.lead_id, x.rule, x.grp, x.cap, "
            f"CAST({decayed} AS BIGINT) AS pts FROM (SELECT d.lead_id, d.rule, d.day, r.grp, "
            f"r.cap, r.decay_id, CAST({raw} AS BIGINT) AS raw FROM hits d "
            "JOIN rule_table r USING (rule)) x "
            f"JOIN decay_table k ON k.decay_id = x.decay_id AND k.age = {as_of_day} - x.day"
        )
        cap = plan.engagement_cap
        total = "sum(gpts)"
        if cap is not None:
            total = f"LEAST(GREATEST({total}, -{cap}), {cap})"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE eng AS "
            "WITH rules AS (SELECT lead_id, rule, grp, CASE WHEN cap IS NULL THEN sum(pts) "
            "ELSE LEAST(GREATEST(sum(pts), -cap), cap) END AS rpts "
            "FROM rule_days GROUP BY lead_id, rule, grp, cap), "
            "groups AS (SELECT lead_id, grp, CASE WHEN g.gcap IS NULL THEN sum(rpts) "
            "ELSE LEAST(GREATEST(sum(rpts), -g.gcap), g.gcap) END AS gpts "
            "FROM rules LEFT JOIN group_table g USING (grp) GROUP BY lead_id, grp, g.gcap) "
            f"SELECT lead_id, CAST({total} AS BIGINT) AS engagement FROM groups GROUP BY lead_id"
        )


def _without_bots(con: duckdb.DuckDBPyConnection, plan: Plan) -> str:
    """A view of the events without those the bot filter removes (engines/bots.py in SQL)."""
    bot_filter = plan.bot_filter
    assert bot_filter is not None
    checked = f"event IN ({', '.join(_quote(e) for e in bot_filter.events)})"
    delivery = f"event = {_quote(bot_filter.delivery_event)}"
    relevant = f"COALESCE(type = 'track' AND ({checked} OR {delivery}), FALSE)"
    ua = _json_field("properties", "user_agent")
    key = _json_field("properties", bot_filter.key)
    agents = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT {ua} FROM events_in WHERE {relevant} AND {checked}"
        ).fetchall()
    ]
    con.register(
        "bot_agents",
        pa.table(
            {
                "v": pa.array(agents, pa.string()),
                "bot": [bot_filter.user_agent and is_bot_user_agent(_decode(a)) for a in agents],
            }
        ),
    )
    tests = ["COALESCE(bot_agents.bot, FALSE)"]
    if bot_filter.same_second is not None:
        tests.append(f"w.same_second >= {bot_filter.same_second}")
    if bot_filter.after_delivery_seconds is not None:
        limit = bot_filter.after_delivery_seconds * 1_000_000
        tests.append(f"(w.k IS NOT NULL AND w.timestamp - w.last_delivery <= {limit})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bot_rows AS WITH r AS ("
        f"SELECT lead_id, type, event, timestamp, properties, {checked} AS checked, "
        f"{delivery} AS delivery, {ua} AS ua, "
        f"CASE WHEN starts_with({key}, '\"') THEN {key} END AS k "
        f"FROM events_in WHERE {relevant}), "
        "w AS (SELECT r.*, count(*) FILTER (WHERE checked) OVER "
        "(PARTITION BY lead_id, timestamp // 1000000) AS same_second, "
        "max(CASE WHEN delivery THEN timestamp END) OVER "
        "(PARTITION BY lead_id, k ORDER BY timestamp) AS last_delivery FROM r) "
        f"SELECT w.*, COALESCE(w.checked AND ({' OR '.join(tests)}), FALSE) AS bot "
        "FROM w LEFT JOIN bot_agents ON bot_agents.v = w.ua"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW events_scored AS "
        "SELECT lead_id, type, event, timestamp, properties FROM events_in "
        f"WHERE NOT {relevant} UNION ALL "
        "SELECT lead_id, type, event, timestamp, properties FROM bot_rows WHERE NOT bot"
    )
    return "events_scored"


def _build_daily(con: duckdb.DuckDBPyConnection, plan: Plan, as_of: int, source: str) -> None:
    """Per (lead, UTC day): how many events in all and how many match each event filter.

    Everything downstream (rules, decay, stage facts) reads this table, never the raw events.
    A property is read from the JSON only on rows whose call type and event name could use it,
    and each predicate is judged once per distinct value.
    """
    by_field: dict[str, list[tuple[str, Predicate]]] = {}
    for matcher in plan.matchers:
        relevant = f"type = {_quote(matcher.type)}"
        if matcher.event is not None:
            relevant += f" AND event = {_quote(matcher.event)}"
        for predicate in matcher.where:
            by_field.setdefault(predicate.field, []).append((f"({relevant})", predicate))
    window = f"timestamp <= {int(as_of)}"
    extracts, joins, columns = [], [], {}
    for index, (field, uses) in enumerate(by_field.items()):
        relevance = " OR ".join(sorted({relevant for relevant, _ in uses}))
        extract = f"CASE WHEN {relevance} THEN {_json_field('properties', field)} END"
        values = [
            row[0]
            for row in con.execute(
                f"SELECT DISTINCT {extract} FROM {source} WHERE {window} AND ({relevance})"
            ).fetchall()
        ]
        table = f"event_verdict_{index}"
        predicates = list({id(p): p for _, p in uses}.values())
        judged = _judge(values, predicates)
        verdicts: dict[str, list[bool]] = {}
        for number, predicate in enumerate(predicates):
            name = f"p{index}_{number}"
            verdicts[name] = judged[number]
            null = "TRUE" if predicate.test(None) else "FALSE"
            columns[id(predicate)] = f"COALESCE({table}.{name}, {null})"
        con.register(table, pa.table({"v": pa.array(values, pa.string()), **verdicts}))
        extracts.append(f", {extract} AS f{index}")
        joins.append(f" LEFT JOIN {table} ON {table}.v = e.f{index}")
    counts = []
    for j, matcher in enumerate(plan.matchers):
        parts = [f"e.type = {_quote(matcher.type)}"]
        if matcher.event is not None:
            parts.append(f"e.event = {_quote(matcher.event)}")
        parts.extend(columns[id(p)] for p in matcher.where)
        counts.append(f", count(*) FILTER (WHERE {' AND '.join(parts)}) AS n{j}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE daily AS SELECT e.lead_id, e.day, count(*) AS n_all"
        + "".join(counts)
        + f" FROM (SELECT lead_id, CAST(timestamp // {s.DAY_US} AS BIGINT) AS day, type, event"
        + "".join(extracts)
        + f" FROM {source} WHERE {window}) e"
        + "".join(joins)
        + " GROUP BY e.lead_id, e.day"
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
    """Writes stage condition trees as SQL over the per-lead ``base`` columns."""

    def __init__(self, plan: Plan, as_of_day: int, attribute: Callable[[Predicate], str]) -> None:
        self.plan = plan
        self.as_of_day = as_of_day
        self.facts: list[tuple[str, str]] = []
        self._fact_names: dict[tuple[str, int, int | None], str] = {}
        self.reached: dict[str, str] = {}
        for index, stage in enumerate(plan.stages):
            if index == 0 or stage.when is None:
                self.reached[stage.name] = "TRUE"
            else:
                self.reached[stage.name] = self._sql(stage.when, attribute)

    def _fact(self, kind: str, matcher: int, within: int | None) -> str:
        key = (kind, matcher, within)
        if key not in self._fact_names:
            name = f"{kind}{len(self._fact_names)}"
            self._fact_names[key] = name
            window = f" AND {self.as_of_day} - day <= {within}" if within is not None else ""
            agg = f"sum(n{matcher})" if kind == "c" else "max(day)"
            self.facts.append((name, f"{agg} FILTER (WHERE n{matcher} > 0{window})"))
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

    def stage_expr(self) -> str:
        if not self.plan.stages:
            return "NULL"
        whens = [
            f"WHEN {self.reached[stage.name]} THEN {_quote(stage.name)}"
            for stage in reversed(self.plan.stages[1:])
        ]
        return "CASE " + " ".join(whens) + f" ELSE {_quote(self.plan.stages[0].name)} END"


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
