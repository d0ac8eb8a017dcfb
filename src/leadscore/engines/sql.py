"""SQL text shared by the batch engine's parts: quoting, JSON fields, bounds, and predicate
verdicts judged once per distinct value (in Python, by the spec's own ``test``)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb
import pyarrow as pa

from leadscore.spec.domains import email_domain
from leadscore.spec.predicates import EmailDomain, Predicate


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_field(column: str, field: str) -> str:
    """SQL reading a field from a JSON column exactly as ``predicates.field_value`` does."""

    def path(parts: Iterable[str]) -> str:
        return quote("$" + "".join('."' + p.replace('"', '\\"') + '"' for p in parts))

    literal = f"CAST(json_extract({column}, {path([field])}) AS VARCHAR)"
    if "." not in field:
        return literal
    nested = f"CAST(json_extract({column}, {path(field.split('.'))}) AS VARCHAR)"
    return f"(CASE WHEN json_exists({column}, {path([field])}) THEN {literal} ELSE {nested} END)"


def decode(text: str | None) -> object:
    """JSON text -> value; plain strings skip the parser (most values are plain strings)."""
    if text is None:
        return None
    if text[:1] == '"' and "\\" not in text:
        return text[1:-1]
    return json.loads(text)


def judge(values: list[str | None], predicates: list[Predicate]) -> list[list[bool]]:
    """Each predicate's verdict on each distinct value, value by value (so per-value work such
    as parsing an email address is shared by the predicates on one field)."""
    columns: list[list[bool]] = [[] for _ in predicates]
    by_domain: list[dict[str | None, bool]] = [{} for _ in predicates]
    for text in values:
        value = decode(text)
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


def register_verdicts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    distinct_sql: str,
    predicates: list[Predicate],
    names: list[str],
) -> None:
    """Register ``table(v, <names>...)``: each distinct JSON value and every verdict on it."""
    values = [row[0] for row in con.execute(distinct_sql).fetchall()]
    judged = judge(values, predicates)
    columns = dict(zip(names, judged, strict=True))
    con.register(table, pa.table({"v": pa.array(values, pa.string()), **columns}))


class Verdicts:
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
            extract = json_field(self.json_column, field)
            name = f"verdict_{table}_{index}"
            register_verdicts(
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
