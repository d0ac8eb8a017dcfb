"""Events in the batch engine's prepare phase: event filters as verdict joins (the bot filter
is ``batch_bots``)."""

from __future__ import annotations

import duckdb

from leadscore.engines.plan import Plan
from leadscore.engines.sql import json_field, quote
from leadscore.engines.verdicts import register_verdicts
from leadscore.spec.predicates import Predicate


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
