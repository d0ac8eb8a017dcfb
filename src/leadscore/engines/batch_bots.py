"""The bot filter in the batch engine's prepare phase: ``engines/bots.py`` over the sorted
event arrays.

``prepare`` numbers each distinct (type, event, properties) of the events as a kind, and
gives every event its lead's number, its time and its kind, sorted by lead and time.
Everything the bot filter reads of an event is in its kind (checked or a delivery, its user
agent, its key) or in those arrays, so the three tests are a few passes over integers, once
per run, where SQL joins would read the events' text again for each:

- a bad user agent: judged once per distinct user agent of the checked kinds, by
  ``spec.bots.is_bot_user_agent``;
- this many checked events of a lead in one second: runs of equal (lead, second) among the
  checked events, counted;
- a checked event at most ``after_delivery_seconds`` after a delivery with the same key:
  a lead's deliveries and checked events of one key in time order (deliveries first at the
  same instant), each checked event against the latest delivery at or before it.

The property tests hold the batch engine to the incremental one and to the naive oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engines.arrays import runs
from leadscore.engines.bots import SECOND_US
from leadscore.engines.sql import decode, json_field, quote
from leadscore.spec.bots import BotFilter, is_bot_user_agent

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class KindBots:
    """What the bot filter reads of each kind (indexed by the kind's number)."""

    checked: Bools
    delivery: Bools  # a delivery that is not checked itself (``BotIndex.add``)
    bad_agent: Bools
    key: Ints  # the key's number among the kinds' keys, -1 where there is none


def kind_bots(con: duckdb.DuckDBPyConnection, bot_filter: BotFilter, kinds: str) -> KindBots:
    """``KindBots`` of the kinds in the table ``kinds`` (kind, type, event, properties)."""
    names = ", ".join(quote(name) for name in bot_filter.events)
    checked = f"COALESCE(type = 'track' AND event IN ({names}), FALSE)"
    delivery = f"COALESCE(type = 'track' AND event = {quote(bot_filter.delivery_event)}, FALSE)"
    agent = json_field("properties", "user_agent")
    key = json_field("properties", bot_filter.key)
    table = con.sql(
        f"SELECT {checked} AS checked, {delivery} AS delivery, "
        f"CASE WHEN {checked} THEN {agent} END AS agent, "
        f"CASE WHEN starts_with({key}, '\"') THEN {key} END AS key "
        f"FROM {kinds} ORDER BY kind"
    ).to_arrow_table()
    checked_kinds = _bools(table["checked"])
    agents = pc.dictionary_encode(table["agent"].combine_chunks())
    bad = np.array([is_bot_user_agent(decode(a)) for a in agents.dictionary.to_pylist()], bool)
    agent_of = agents.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    keys = pc.dictionary_encode(table["key"].combine_chunks())
    return KindBots(
        checked=checked_kinds,
        delivery=_bools(table["delivery"]) & ~checked_kinds,
        bad_agent=np.append(bad, False)[agent_of],  # -1, no agent: the False appended
        key=keys.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64),
    )


def removed_by_bots(
    bots: KindBots,
    bot_filter: BotFilter,
    lead: npt.NDArray[np.int32],
    ts: Ints,
    kind: npt.NDArray[np.integer],
) -> Bools:
    """Which events (sorted by lead and time) the bot filter removes."""
    checked = bots.checked[kind]
    removed = np.zeros(len(kind), np.bool_)
    if bot_filter.user_agent:
        removed |= checked & bots.bad_agent[kind]
    if bot_filter.same_second is not None:
        removed[_bursts(lead, ts, np.flatnonzero(checked), bot_filter.same_second)] = True
    if bot_filter.after_delivery_seconds is not None:
        window = bot_filter.after_delivery_seconds * SECOND_US
        removed[_after_delivery(bots, lead, ts, kind, checked, window)] = True
    return removed


def _bursts(lead: npt.NDArray[np.int32], ts: Ints, at: Ints, limit: int) -> Ints:
    """Those of the checked events ``at`` (in lead and time order) that share their lead and
    second with at least ``limit`` - 1 others."""
    starts = runs([lead[at], ts[at] // SECOND_US])
    sizes = np.diff(np.r_[starts, len(at)])
    found: Ints = at[np.repeat(sizes >= limit, sizes)]
    return found


def _after_delivery(
    bots: KindBots,
    lead: npt.NDArray[np.int32],
    ts: Ints,
    kind: npt.NDArray[np.integer],
    checked: Bools,
    window: int,
) -> Ints:
    """The checked events at most ``window`` after a delivery of the same lead and key."""
    key = bots.key[kind]
    sent = bots.delivery[kind] & (key >= 0)
    at = np.flatnonzero((checked & (key >= 0)) | sent)
    if not sent[at].any():
        return np.zeros(0, np.int64)
    # by lead, key and time; at one instant the delivery first (it counts: 0 <= t - d)
    at = at[np.lexsort((~sent[at], ts[at], key[at], lead[at]))]
    when, is_sent = ts[at], sent[at]
    starts = runs([lead[at], key[at]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(at)]))  # of each one's group
    latest = np.maximum.accumulate(np.where(is_sent, np.arange(len(at)), -1))
    found = latest >= group_start  # a delivery of this lead and key at or before
    late = when - when[np.maximum(latest, 0)]
    bots_found: Ints = at[~is_sent & found & (late <= window)]
    return bots_found


def _bools(column: pa.ChunkedArray) -> Bools:
    return np.asarray(column.to_numpy(zero_copy_only=False), np.bool_)
