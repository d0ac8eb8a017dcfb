"""Predicate verdicts for the batch engine: each distinct value of a field judged once, over a
whole column at once (Arrow compute) where the spec's ``test`` has a vectorised form that
gives the same answer, and joined back to the rows as columns.

The batch engine judges each distinct value of a field once. A model's high-cardinality
fields (every lead's email, phone, name) make that a million calls of ``test`` in Python on a
first run. Most of those values are plain JSON strings: printable ASCII, no escapes. For
them ``canonical_text`` is the text between the quotes with spaces trimmed (the only
white space printable ASCII has), and ``casefold`` is ``lower``, so equals, in, prefix,
present, missing and the email domain lists are a few Arrow kernels over the column. Any
other value (numbers, booleans, nesting, escapes, other scripts, null), and the predicates
with no such form here (regex, with its time guard; range; gibberish), go through ``test``
as before, once per distinct value. ``tests/properties/test_bulk_verdicts.py`` holds the two
ways to each other on random values and predicates.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engines.sql import json_field, judge
from leadscore.spec import domains
from leadscore.spec.predicates import (
    EmailDomain,
    Equals,
    In,
    Missing,
    Predicate,
    Prefix,
    Present,
    canonical_text,
)

Bools = npt.NDArray[np.bool_]

#: A JSON string of printable ASCII with no escape in it (no backslash, no inner quote).
PLAIN = r'^"[ !#-\[\]-~]*"$'


def judged_column(texts: pa.Array, predicates: Sequence[Predicate]) -> list[Bools]:
    """Each predicate's verdict on each value of ``texts`` (JSON texts, null for absent):
    what ``sql.judge`` gives for ``texts.to_pylist()``."""
    texts = texts.cast(pa.string())
    plain = np.asarray(pc.fill_null(pc.match_substring_regex(texts, PLAIN), False), bool)
    verdicts = [np.zeros(len(texts), np.bool_) for _ in predicates]
    rest = np.flatnonzero(~plain)
    if len(rest):
        judged = judge(texts.take(pa.array(rest)).to_pylist(), predicates)
        for column, found in zip(verdicts, judged, strict=True):
            column[rest] = found
    some = np.flatnonzero(plain)
    if len(some):
        column_of = _Plain(pc.utf8_slice_codeunits(texts.take(pa.array(some)), 1, -1))
        for column, predicate in zip(verdicts, predicates, strict=True):
            column[some] = _plain_verdicts(predicate, column_of)
    return verdicts


class _Plain:
    """Plain strings (``inner``: the text between the quotes), and what the predicates on
    them read, each computed once for all of them."""

    def __init__(self, inner: pa.Array) -> None:
        self.inner = inner
        self.text = pc.utf8_trim(inner, " ")  # canonical_text of a plain string
        self._domains: pa.Array | None = None

    @property
    def domains(self) -> pa.Array:
        if self._domains is None:
            self._domains = _domains(self.text)
        return self._domains


def _plain_verdicts(predicate: Predicate, plain: _Plain) -> Bools:
    """``predicate.test`` on each plain string."""
    text = plain.text
    present = pc.not_equal(text, "")
    found: pa.Array
    if isinstance(predicate, Present):
        found = present
    elif isinstance(predicate, Missing):
        found = pc.invert(present)
    elif isinstance(predicate, Equals | In | Prefix):
        cased = pc.ascii_lower(text) if predicate.ignore_case else text
        found = pc.and_(present, _matches(predicate, cased))
    elif isinstance(predicate, EmailDomain):
        found = _listed(predicate, plain.domains)
    else:  # no vectorised form: the spec's own test, once per value
        return np.array([predicate.test(value) for value in plain.inner.to_pylist()], np.bool_)
    verdict = np.asarray(pc.fill_null(found, False), np.bool_)
    return np.logical_xor(verdict, predicate.negate)


def _matches(predicate: Equals | In | Prefix, cased: pa.Array) -> pa.Array:
    if isinstance(predicate, Equals):
        return pc.equal(cased, canonical_text(predicate.value, ignore_case=predicate.ignore_case))
    if isinstance(predicate, In):
        return pc.is_in(cased, value_set=pa.array(sorted(predicate.texts), pa.string()))
    prefixes = predicate.prefixes
    found = pc.starts_with(cased, prefixes[0])
    for prefix in prefixes[1:]:
        found = pc.or_(found, pc.starts_with(cased, prefix))
    return found


def _domains(text: pa.Array) -> pa.Array:
    """``domains.email_domain`` of each plain string (null where it is not an address)."""
    parts = pc.split_pattern(text, "@", max_splits=1, reverse=True)  # rpartition("@")
    split = pc.equal(pc.list_value_length(parts), 2)
    halves = pc.if_else(split, parts, pa.scalar(["", ""], parts.type))
    local, domain = pc.list_element(halves, 0), pc.list_element(halves, 1)
    domain = pc.ascii_lower(pc.utf8_rtrim(pc.utf8_trim(domain, " "), "."))
    valid = pc.and_(pc.greater(pc.utf8_length(local), 0), pc.match_substring(domain, "."))
    return pc.if_else(valid, domain, pa.scalar(None, pa.string()))


def _listed(predicate: EmailDomain, found: pa.Array) -> pa.Array:
    listed = set(predicate.own)
    for name in predicate.lists:
        listed |= domains.listed(name)
    return pc.is_in(found, value_set=pa.array(sorted(listed), pa.string()))


def register_verdicts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    distinct_sql: str,
    predicates: Sequence[Predicate],
    names: Sequence[str],
) -> None:
    """Register ``table(v, <names>...)``: each distinct JSON value and every verdict on it."""
    values = con.sql(distinct_sql).to_arrow_table().column(0).combine_chunks()
    judged = judged_column(values, predicates)
    columns = {name: pa.array(found) for name, found in zip(names, judged, strict=True)}
    con.register(table, pa.table({"v": values.cast(pa.string()), **columns}))


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

    def table(self, keep: Sequence[str], order: str) -> pa.Table:
        """The ``keep`` columns of the source and one bool column per predicate (named by
        ``column``), sorted by ``order``. Each field is read from the JSON once."""
        fields = list(self._by_field.items())
        extracts = "".join(
            f", {json_field(self.json_column, field)} AS f{index}"
            for index, (field, _) in enumerate(fields)
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE verdict_fields AS "
            f"SELECT {', '.join(keep)}{extracts} FROM {self.source}"
        )
        selects, joins = [f"src.{name}" for name in keep], []
        for index, (_, predicates) in enumerate(fields):
            name = f"verdicts_{index}"
            register_verdicts(
                self.con,
                name,
                f"SELECT DISTINCT f{index} FROM verdict_fields",
                predicates,
                [self.columns[id(p)] for p in predicates],
            )
            joins.append(f" LEFT JOIN {name} ON {name}.v IS NOT DISTINCT FROM src.f{index}")
            selects += [f"{name}.{self.columns[id(p)]}" for p in predicates]
        query = f"SELECT {', '.join(selects)} FROM verdict_fields src{''.join(joins)}"
        found = self.con.sql(f"{query} ORDER BY {order}").to_arrow_table()
        self.con.execute("DROP TABLE verdict_fields")
        return found
