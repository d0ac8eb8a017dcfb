"""The kinds of behaviour the trained models count, and the feature columns they make: what
kind an event is, which kinds are frequent enough to become features, and the per-lead
counts over windows before a cut-off (the SQL ``history`` runs for every feature row).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd
import pyarrow as pa

from leadscore.engines.semantics import DAY_US

#: The windows (days before the cut-off) each kind of behaviour is counted over.
WINDOWS_DAYS = (7, 30, 90)
#: Only the most frequent kinds of behaviour become features, to keep the model readable.
TOP_EVENT_KINDS = 25
DECAY_HALF_LIFE_DAYS = 14

#: What kind of behaviour an event is: a track call's name, a page call's first path segment.
KIND = (
    "CASE WHEN type = 'track' THEN event "
    "WHEN type = 'page' THEN 'page ' || coalesce(nullif(regexp_extract("
    "json_extract_string(properties, '$.path'), '^(/[^/?#]*)', 1), ''), event, '(any)') END"
)


def frame(query: str, **tables: object) -> pd.DataFrame:
    """The rows of ``query`` over the tables given by name, in a DuckDB of its own."""
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    found: pd.DataFrame = con.execute(query).df()
    con.close()
    return found


def event_kinds(events: pa.Table, before: int, top: int = TOP_EVENT_KINDS) -> list[str]:
    """The most frequent kinds of behaviour before ``before``, most frequent first."""
    found = kind_counts(events, before).sort_values(["n", "kind"], ascending=[False, True])
    return [str(kind) for kind in found["kind"][:top]]


def kind_counts(events: pa.Table, before: int) -> pd.DataFrame:
    """How many events of each kind of behaviour came before ``before`` (kind, n)."""
    return frame(
        f"SELECT {KIND} AS kind, count(*) AS n FROM events WHERE timestamp < {int(before)} "
        "GROUP BY ALL HAVING kind IS NOT NULL",
        events=events,
    )


def behaviour_sql(kinds: Sequence[str], cutoff: int) -> str:
    """The SELECT list of each lead's behaviour columns (``behaviour_names``) as of ``cutoff``,
    over rows of (lead_id, timestamp, kind) before it."""
    columns = []
    for index, kind in enumerate(kinds):
        literal = "'" + kind.replace("'", "''") + "'"
        for days in WINDOWS_DAYS:
            since = cutoff - days * DAY_US
            columns.append(
                f"count(*) FILTER (WHERE kind = {literal} AND timestamp >= {since}) "
                f'AS "k{index}_{days}"'
            )
        columns.append(f'count(*) FILTER (WHERE kind = {literal}) AS "k{index}_all"')
    half_life = DECAY_HALF_LIFE_DAYS * DAY_US
    columns += [
        f"count(*) FILTER (WHERE timestamp >= {cutoff - 30 * DAY_US}) AS events_30",
        "count(*) AS events_all",
        f"count(DISTINCT timestamp // {DAY_US}) FILTER (WHERE timestamp >= "
        f"{cutoff - 30 * DAY_US}) AS active_days_30",
        f"({cutoff} - max(timestamp)) / {DAY_US} AS days_since_last",
        f"({cutoff} - min(timestamp)) / {DAY_US} AS days_since_first",
        # summed as integers (pico-units): a float sum depends on the rows' order, and the
        # same events must give the same value whatever else the store holds
        f"sum(CAST(round(pow(0.5, ({cutoff} - timestamp) / {half_life}) * 1e12) AS HUGEINT))"
        " / 1e12 AS decayed",
    ]
    return ",\n".join(columns)


def behaviour_names(kinds: Sequence[str]) -> dict[str, str]:
    """Column -> the feature's name in plain words (what explanations print)."""
    names = {}
    for index, kind in enumerate(kinds):
        for days in WINDOWS_DAYS:
            names[f"k{index}_{days}"] = f"{kind} in the last {days} days"
        names[f"k{index}_all"] = f"{kind} ever"
    names.update(
        events_30="events in the last 30 days",
        events_all="events ever",
        active_days_30="active days in the last 30 days",
        days_since_last="days since last activity",
        days_since_first="days since first touch",
        decayed=f"recent activity (events halved every {DECAY_HALF_LIFE_DAYS} days)",
        account_leads="people at the same company",
        account_engaged="people at the same company active in the last 30 days",
        account_events_30="events of the same company in the last 30 days",
    )
    return names
