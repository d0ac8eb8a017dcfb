"""The project's history taken point in time: each lead as it stood at a cut-off, labelled by
whether it converted within the horizon after it.

A feature reads only events before the cut-off and the attributes as they were then; the label
reads only outcomes from the cut-off on. A lead enters a snapshot once it has been seen (its first
event is before the cut-off) and leaves once it has converted. Several cut-offs, a step apart,
give more rows and a validation that is later in time than what it validates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from leadscore._types import format_as_of
from leadscore.engines.semantics import DAY_US
from leadscore.errors import InputError
from leadscore.predict.behaviour import (
    KIND,
    behaviour_names,
    behaviour_sql,
    event_kinds,
    frame,
)
from leadscore.predict.dataset import Dataset
from leadscore.predict.feedback import FEATURE, feedback_arrow, verdicts_sql
from leadscore.store import schema
from leadscore.store.store import Store

POSITIVE_OUTCOMES = ("converted", "won")


@dataclass(frozen=True, slots=True)
class Window:
    """Where the snapshots lie: the latest cut-off, how many, how far apart, and the horizon."""

    last_cutoff: int
    snapshots: int
    step_days: int
    horizon_days: int

    @property
    def cutoffs(self) -> list[int]:
        return [self.last_cutoff - i * self.step_days * DAY_US for i in range(self.snapshots)][::-1]

    def describe(self) -> dict[str, object]:
        return {
            "cutoffs": [format_as_of(c) for c in self.cutoffs],
            "horizon_days": self.horizon_days,
            "step_days": self.step_days,
        }


def data_end(store: Store) -> int | None:
    """The latest instant the project knows anything about (an event or an outcome)."""
    with store.engine.connect() as conn:
        last_event = conn.execute(sa.select(sa.func.max(schema.events.c.timestamp))).scalar()
        last_outcome = conn.execute(sa.select(sa.func.max(schema.outcomes.c.at))).scalar()
    known = [int(t) for t in (last_event, last_outcome) if t is not None]
    return max(known) if known else None


def conversions_arrow(store: Store) -> pa.Table:
    """Each lead's first positive outcome (converted or won): lead_id and ``first_at``."""
    query = (
        "SELECT lead_id, min(at) AS first_at FROM outcomes WHERE outcome IN "
        f"({', '.join(repr(o) for o in POSITIVE_OUTCOMES)}) GROUP BY lead_id"
    )
    return store.arrow(query, pa.schema([("lead_id", pa.string()), ("first_at", pa.int64())]))


def snapshots(store: Store, window: Window, *, kinds: Sequence[str] | None = None) -> Dataset:
    """Every lead seen before each cut-off and not yet converted, labelled by the horizon."""
    events = store.events_arrow()
    conversions = conversions_arrow(store)
    if kinds is None:
        kinds = event_kinds(events, window.last_cutoff)
    rows = snapshot_rows(
        events, conversions, feedback_arrow(store), store.leads_arrow, window, kinds
    )
    ever = set(conversions["lead_id"].to_pylist())
    return snapshot_dataset(rows, kinds, window, ever, source="project history")


def snapshot_rows(
    events: pa.Table,
    conversions: pa.Table,
    verdicts: pa.Table,
    leads_at: Callable[[int], pa.Table],
    window: Window,
    kinds: Sequence[str],
) -> pd.DataFrame:
    """``snapshots``' rows from its inputs as Arrow (``leads_at(cutoff)``: the leads as of a
    cut-off), ordered by cut-off then lead: what a Spark partition computes for its
    accounts (``app.lake_history``)."""
    frames = []
    horizon = window.horizon_days * DAY_US
    for cutoff in window.cutoffs:
        population = _population(events, conversions, cutoff, horizon)
        frames.append(_rows(events, population, cutoff, kinds, verdicts, horizon, leads_at(cutoff)))
    return pd.concat(frames, ignore_index=True)


def snapshot_dataset(
    rows: pd.DataFrame, kinds: Sequence[str], window: Window, ever: set[str], *, source: str
) -> Dataset:
    """``snapshot_rows`` as a dataset; ``ever``: the leads that converted at any time."""
    found = _dataset(rows, kinds, source=source, window=window.describe())
    return replace(found, eventual=np.array([i in ever for i in found.ids], np.int8))


#: The leads as of an instant, from every version (the store's own rule: the latest version
#: from at or before it; a lead's first attributes count from the start of time).
_AS_OF = (
    "SELECT lead_id, attributes, account_id FROM versions WHERE valid_from <= {cutoff} "
    "QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY valid_from DESC, id DESC) = 1 "
    "ORDER BY lead_id"
)


@dataclass(frozen=True)
class FirstTouch:
    """Each lead taken once, at the end of the ``days``-th day after its first event (0: the
    day of its first event): "will a trial that looks like this on day N convert?"."""

    days: int
    horizon_days: int
    data: Dataset
    #: Leads that converted by their own cut-off: scored by no one, counted apart.
    converted_before: int
    #: Leads whose horizon runs past the data: their label is not known yet.
    too_recent: int
    kinds: list[str]


def after_first_touch(
    store: Store, days: int, horizon_days: int, *, kinds: Sequence[str] | None = None
) -> FirstTouch:
    """Every lead at its own cut-off, ``days`` whole days after its first touch."""
    events = store.events_arrow()
    conversions = conversions_arrow(store)
    end = data_end(store) or 0
    horizon = horizon_days * DAY_US
    leads = frame(
        f"""
        WITH first AS (
            SELECT lead_id, (min(timestamp) // {DAY_US} + {days + 1}) * {DAY_US} AS cutoff
            FROM events WHERE lead_id IS NOT NULL GROUP BY 1
        )
        SELECT f.lead_id, f.cutoff, c.first_at FROM first f
        LEFT JOIN conversions c USING (lead_id)
        ORDER BY f.cutoff, f.lead_id
        """,
        events=events,
        conversions=conversions,
    )
    first_at = leads["first_at"].to_numpy(float)
    cutoffs = leads["cutoff"].to_numpy(np.int64)
    before = ~np.isnan(first_at) & (first_at < cutoffs)
    recent = (cutoffs + horizon > end) & ~before
    chosen = leads[~before & ~recent]
    if kinds is None:
        kinds = event_kinds(events, int(chosen["cutoff"].max()) if len(chosen) else end)
    verdicts = feedback_arrow(store)
    versions = duckdb.connect()
    versions.register("versions", store.lead_versions_arrow())
    frames = []
    for cutoff, group in chosen.groupby("cutoff", sort=True):
        at = group["first_at"].to_numpy(float)
        label = (~np.isnan(at) & (at < int(cutoff) + horizon)).astype(np.int8)
        population = pd.DataFrame({"lead_id": group["lead_id"].to_numpy(), "label": label})
        leads_then = versions.sql(_AS_OF.format(cutoff=int(cutoff))).to_arrow_table()
        frames.append(_rows(events, population, int(cutoff), kinds, verdicts, horizon, leads_then))
    versions.close()
    rows = pd.concat(frames, ignore_index=True) if frames else None
    if rows is None:
        raise InputError("no lead has a first touch with a known outcome horizon after it")
    window: dict[str, object] = {"after_first_touch_days": days, "horizon_days": horizon_days}
    data = _dataset(rows, kinds, source="project history", window=window)
    return FirstTouch(days, horizon_days, data, int(before.sum()), int(recent.sum()), list(kinds))


def leads_as_of(
    store: Store, cutoff: int, kinds: Sequence[str], lead_ids: Sequence[str] | None = None
) -> Dataset:
    """Every lead (or those given) as of ``cutoff``, for scoring; the label is unknown (0)."""
    if lead_ids is None:
        leads, events = store.leads_and_events_arrow(cutoff)
        ids = leads.column("lead_id").to_pylist()
    else:
        # only the leads asked for and their colleagues: one lead is read in milliseconds
        leads, events = store.accounts_arrow(lead_ids)
        if cutoff < store.latest_change():  # attributes changed since: read them as they were
            members = pa.array(leads.column("lead_id").to_pylist())
            everyone = store.leads_arrow(cutoff)
            leads = everyone.filter(pc.is_in(everyone["lead_id"], members))
        wanted = set(lead_ids)
        ids = [i for i in leads.column("lead_id").to_pylist() if i in wanted]
    return rows_as_of(leads, events, ids, cutoff, kinds, feedback_arrow(store, lead_ids))


def rows_as_of(
    leads: pa.Table,
    events: pa.Table,
    ids: Sequence[str],
    cutoff: int,
    kinds: Sequence[str],
    verdicts: pa.Table,
    *,
    source: str = "project",
) -> Dataset:
    """The leads ``ids`` as of ``cutoff``, from tables holding them and everyone at their
    accounts (``leads``, ``events``): one feature builder for the database's leads and, one
    account partition at a time, a lake's (``app.lake_predictions``)."""
    population = pd.DataFrame({"lead_id": list(ids), "label": np.zeros(len(ids), np.int8)})
    rows = _rows(events, population, cutoff, kinds, verdicts, None, leads)
    return _dataset(rows, kinds, source=source, window={"as_of": format_as_of(cutoff)})


def _population(events: pa.Table, conversions: pa.Table, cutoff: int, horizon: int) -> pd.DataFrame:
    """Leads first seen before ``cutoff`` and not converted before it, with their label."""
    return frame(
        f"""
        WITH seen AS (
            SELECT lead_id FROM events WHERE lead_id IS NOT NULL AND timestamp < {cutoff}
            GROUP BY lead_id
        )
        SELECT s.lead_id,
            CAST(coalesce(c.first_at >= {cutoff} AND c.first_at < {cutoff + horizon}, false)
                 AS TINYINT) AS label
        FROM seen s LEFT JOIN conversions c USING (lead_id)
        WHERE c.first_at IS NULL OR c.first_at >= {cutoff}
        ORDER BY s.lead_id
        """,
        events=events,
        conversions=conversions,
    )


def _rows(
    events: pa.Table,
    population: pd.DataFrame,
    cutoff: int,
    kinds: Sequence[str],
    feedback: pa.Table,
    horizon: int | None,
    leads: pa.Table,
) -> pd.DataFrame:
    """Each lead of ``population`` as of ``cutoff``: attributes, behaviour, account facts,
    the latest sales verdict before it and (with a ``horizon``) the first one after it."""
    return frame(
        f"""
        WITH {verdicts_sql(cutoff, horizon)}, kinded AS (
            SELECT e.lead_id, e.timestamp, {KIND} AS kind FROM events e
            JOIN population p USING (lead_id) WHERE e.timestamp < {cutoff}
        ), behaviour AS (SELECT lead_id, {behaviour_sql(kinds, cutoff)} FROM kinded GROUP BY 1),
        seen AS (
            SELECT lead_id, count(*) FILTER (WHERE timestamp >= {cutoff - 30 * DAY_US}) AS recent
            FROM events WHERE timestamp < {cutoff} AND lead_id IS NOT NULL GROUP BY 1
        ), accounts AS (
            -- everyone at the company seen before the cut-off, converted or not
            SELECT l.account_id, count(*) AS account_leads,
                   count(*) FILTER (WHERE s.recent > 0) AS account_engaged,
                   sum(s.recent) AS account_events_30
            FROM leads l JOIN seen s USING (lead_id)
            WHERE l.account_id IS NOT NULL GROUP BY 1
        ), people AS (
            SELECT p.lead_id, l.account_id, l.attributes
            FROM population p LEFT JOIN leads l USING (lead_id)
        )
        SELECT p.lead_id, p.label, {cutoff}::BIGINT AS cutoff, pe.attributes, b.* EXCLUDE (lead_id),
               a.account_leads, a.account_engaged, a.account_events_30,
               sd.verdict AS said_before, hd.verdict AS heard_after
        FROM population p
        LEFT JOIN people pe USING (lead_id)
        LEFT JOIN behaviour b USING (lead_id)
        LEFT JOIN accounts a ON a.account_id = pe.account_id
        LEFT JOIN said sd USING (lead_id)
        LEFT JOIN heard hd USING (lead_id)
        ORDER BY p.lead_id
        """,
        events=events,
        population=population,
        feedback=feedback,
        leads=leads,
    )


def _dataset(
    rows: pd.DataFrame, kinds: Sequence[str], source: str, window: dict[str, object]
) -> Dataset:
    names = behaviour_names(kinds)
    counts = [c for c in names if c.startswith("k") or c in ("events_30", "events_all")]
    behaviour = rows[[c for c in names if c in rows.columns]].astype(float)
    behaviour[[c for c in counts if c in behaviour.columns]] = behaviour[
        [c for c in counts if c in behaviour.columns]
    ].fillna(0.0)
    behaviour = behaviour.rename(columns=names)
    attributes = [_flat(text) for text in rows["attributes"]]
    raw = pd.DataFrame.from_records(attributes, index=range(len(rows))).astype(object)
    said = np.array([v if isinstance(v, str) else None for v in rows["said_before"]], object)
    heard = np.array([v if isinstance(v, str) else None for v in rows["heard_after"]], object)
    if any(v is not None for v in said):  # the verdicts before the cut-off: an attribute
        raw[FEATURE] = said
    return Dataset(
        ids=rows["lead_id"].astype(str).tolist(),
        raw=raw,
        behaviour=behaviour.reset_index(drop=True),
        label=rows["label"].to_numpy(np.int8),
        order=rows["cutoff"].to_numpy(np.int64),
        timed=True,
        source=source,
        window=window,
        heard=heard if any(v is not None for v in heard) else None,
    )


def _flat(text: object) -> dict[str, object]:
    """A lead's attributes, leaving out nested values (no single reading as a feature)."""
    if not isinstance(text, str):
        return {}
    values = json.loads(text)
    return {k: v for k, v in values.items() if not isinstance(v, dict | list)}
