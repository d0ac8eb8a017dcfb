"""SQL text shared by the batch engine's parts: quoting, JSON fields, and predicate verdicts
judged value by value (in Python, by the spec's own ``test``; ``verdicts`` judges a column
of distinct values, with vectorised forms where they exist)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

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


def judge(values: list[str | None], predicates: Sequence[Predicate]) -> list[list[bool]]:
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
