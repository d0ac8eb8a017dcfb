"""The batch engine's first phase: everything about leads and events that does not depend on
the scoring instant, judged once and kept as plain integer arrays.

Reading JSON, judging predicates (in Python, once per distinct value, by the spec's own
``test``) and the bot filter are the expensive part of scoring; none of them depends on
``as_of`` or on the recorded lifecycle. ``prepare`` does them once in DuckDB and keeps, per
event filter, the (lead, timestamp) pairs of the events it matches, sorted. ``vectorized``
then scores any instant from those arrays with a few numpy passes, so a ``Prepared`` kept
between runs makes re-scoring cost integers only.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engines.batch_bots import kind_bots, removed_by_bots
from leadscore.engines.batch_events import event_verdicts
from leadscore.engines.plan import Plan
from leadscore.engines.verdicts import Verdicts
from leadscore.spec.accounts import fact_name
from leadscore.spec.predicates import Predicate

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Series:
    """The events one filter matches (or all events): parallel arrays sorted by (lead, ts)."""

    lead: npt.NDArray[np.int32]
    ts: Ints


@dataclass(frozen=True, slots=True)
class Prepared:
    """One model's view of a set of leads and events, independent of the scoring instant.

    Leads are numbered in ``lead_id`` order. ``verdicts`` holds, per lead predicate (keyed by
    ``id(predicate)``), whether each lead's attribute passes it. ``matched[m]`` holds the
    events of matcher ``m`` and ``activity`` every event, both after the bot filter.
    """

    plan: Plan
    lead_ids: pa.StringArray
    account_ids: pa.StringArray
    verdicts: dict[int, Bools]
    matched: tuple[Series, ...]
    activity: Series

    @property
    def size(self) -> int:
        return len(self.lead_ids)


def lead_predicates(plan: Plan) -> list[Predicate]:
    """Every predicate on the lead's own attributes (account facts are judged when scoring)."""
    found = [*plan.applies_to, *plan.attribute_predicates]
    unique = {id(p): p for p in found if fact_name(p.field) is None}
    return list(unique.values())


def prepare(
    con: duckdb.DuckDBPyConnection, plan: Plan, leads: pa.Table, events: pa.Table
) -> Prepared:
    """Judge every lead predicate and event filter once. ``leads`` must carry ``account_id``."""
    con.register("leads_in", leads)
    con.register("events_in", events)
    lead_verdicts = Verdicts(con, "leads_in", "attributes")
    predicates = lead_predicates(plan)
    names = [lead_verdicts.column(p) for p in predicates]
    lead_table = lead_verdicts.table(["lead_id", "account_id"], "lead_id")
    verdicts = {
        id(p): lead_table[name].to_numpy(zero_copy_only=False).astype(np.bool_)
        for p, name in zip(predicates, names, strict=True)
    }
    con.register(
        "lead_order",
        lead_table.select(["lead_id"]).append_column(
            "idx", pa.array(np.arange(lead_table.num_rows, dtype=np.int32))
        ),
    )
    # filters are judged once per distinct (type, event, properties), then joined back
    con.execute(
        "CREATE OR REPLACE TEMP TABLE event_kinds AS "
        "SELECT DISTINCT type, event, properties FROM events_in"
    )
    extracts, joins, matchers = event_verdicts(con, plan, "event_kinds", "TRUE")
    # each kind's verdicts on every filter, numbered: a row carries its kind's number only
    verdicts_sql = "".join(
        f", COALESCE({matcher}, FALSE) AS m{j}" for j, matcher in enumerate(matchers)
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE kind_flags AS SELECT (row_number() OVER () - 1)::INTEGER "
        f"AS kind, e.type, e.event, e.properties{verdicts_sql} FROM (SELECT type, event, "
        f"properties{extracts} FROM event_kinds) e{joins}"
    )
    rows = con.sql(
        "SELECT o.idx, e.timestamp, k.kind FROM events_in e JOIN kind_flags k "
        "ON k.type = e.type AND k.event IS NOT DISTINCT FROM e.event "
        "AND k.properties IS NOT DISTINCT FROM e.properties "
        "JOIN lead_order o ON o.lead_id = e.lead_id ORDER BY o.idx, e.timestamp"
    ).to_arrow_table()
    lead = rows["idx"].to_numpy().astype(np.int32)
    ts = rows["timestamp"].to_numpy().astype(np.int64)
    kind = rows["kind"].to_numpy()
    if plan.bot_filter is not None:
        bots = kind_bots(con, plan.bot_filter, "kind_flags")
        kept = ~removed_by_bots(bots, plan.bot_filter, lead, ts, kind)
        lead, ts, kind = lead[kept], ts[kept], kind[kept]
    filters = ", ".join(f"m{j}" for j in range(len(matchers)))
    by_kind = (
        con.sql(f"SELECT {filters} FROM kind_flags ORDER BY kind").to_arrow_table()
        if filters
        else None
    )
    matched = []
    for j in range(len(matchers)):
        assert by_kind is not None
        found = np.flatnonzero(by_kind[f"m{j}"].to_numpy(zero_copy_only=False)[kind])
        matched.append(Series(lead[found], ts[found]))  # one pass to find them, not two
    return Prepared(
        plan=plan,
        lead_ids=pc.cast(lead_table["lead_id"], pa.string()).combine_chunks(),
        account_ids=pc.cast(lead_table["account_id"], pa.string()).combine_chunks(),
        verdicts=verdicts,
        matched=tuple(matched),
        activity=Series(lead, ts),
    )


def merge(base: Prepared, update: Prepared) -> Prepared:
    """``base`` with every lead of ``update`` replaced by (or added as) its ``update`` version.

    ``update`` must hold the whole of each of its leads (attributes and every event), as the
    bot filter judges a lead's events together; the result then equals preparing everything
    anew. Both are in ``lead_id`` order, so the merge is a few linear passes.
    """
    replaced = pc.is_in(base.lead_ids, value_set=update.lead_ids).to_numpy(zero_copy_only=False)
    kept = np.flatnonzero(~replaced)
    ids = pa.concat_arrays([base.lead_ids.take(kept), update.lead_ids])
    order = pc.sort_indices(ids).to_numpy()
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    old_to_new = np.full(base.size, -1, np.int32)
    old_to_new[kept] = position[: len(kept)]
    update_to_new = position[len(kept) :].astype(np.int32)

    def leads_column(old: pa.Array, new: pa.Array) -> pa.Array:
        return pa.concat_arrays([old.take(kept), new]).take(pa.array(order))

    def series(pair: tuple[Series, Series]) -> Series:
        old, new = pair
        keep = ~replaced[old.lead]
        lead_old, ts_old = old_to_new[old.lead[keep]], old.ts[keep]
        lead_new = update_to_new[new.lead]
        # leads are disjoint and both sides sorted: each new row goes before the first old
        # row of a later lead, after the new rows before it
        slots = np.searchsorted(lead_old, lead_new) + np.arange(len(lead_new))
        from_old = np.ones(len(lead_old) + len(lead_new), np.bool_)
        from_old[slots] = False
        lead = np.empty(len(from_old), np.int32)
        ts = np.empty(len(from_old), np.int64)
        lead[slots], ts[slots] = lead_new, new.ts
        lead[from_old], ts[from_old] = lead_old, ts_old
        return Series(lead, ts)

    pairs = [*zip(base.matched, update.matched, strict=True), (base.activity, update.activity)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        merged = list(pool.map(series, pairs))
    verdicts = {
        key: np.concatenate([values[kept], update.verdicts[key]])[order]
        for key, values in base.verdicts.items()
    }
    return Prepared(
        plan=base.plan,
        lead_ids=leads_column(base.lead_ids, update.lead_ids),
        account_ids=leads_column(base.account_ids, update.account_ids),
        verdicts=verdicts,
        matched=tuple(merged[:-1]),
        activity=merged[-1],
    )
