"""Attribution: which sources, campaigns, first touches, last touches and content produce
hand-overs, the next stage and customers, with counts and rates.

A touch is an event carrying a campaign: Segment's ``context.campaign`` (kept with the event
as ``campaign``) or ``utm_source``/``utm_campaign`` properties. A lead's first touch is its
earliest; its last touch the latest before what it is credited for (its hand-over, else its
conversion, else the period's end). Content is what the lead downloaded (``Content
Downloaded``'s ``content``, ``title`` or ``name``) before that moment. A lead counts once per
value of each kind; leads with no touch count under "(none)".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from leadscore.engines.prepared import Ints
from leadscore.engines.replay import Replay

NONE = "(none)"
TOP_VALUES = 12
KINDS = ("source", "campaign", "first touch", "last touch", "content")

_TOUCHES = """
SELECT lead_id, timestamp,
  coalesce(json_extract_string(properties, '$.campaign.source'),
           json_extract_string(properties, '$.utm_source')) AS source,
  coalesce(json_extract_string(properties, '$.campaign.name'),
           json_extract_string(properties, '$.utm_campaign')) AS campaign,
  CASE WHEN type = 'track' AND event = 'Content Downloaded' THEN
    coalesce(json_extract_string(properties, '$.content'),
             json_extract_string(properties, '$.title'),
             json_extract_string(properties, '$.name')) END AS content
FROM events_in
WHERE timestamp <= $end AND (source IS NOT NULL OR campaign IS NOT NULL OR content IS NOT NULL)
ORDER BY lead_id, timestamp
"""


def attribution(
    events: pa.Table,
    result: Replay,
    converted_at: Ints,
    handover: int | None,
) -> dict[str, list[dict[str, Any]]]:
    """Per kind of touch, its most frequent values (``TOP_VALUES``, then the rest together):
    leads, hand-overs, next-stage entries and customers in the period, and their rates."""
    ids = result.lead_ids.to_pylist()
    end = int(result.instants[-1])
    credited = _moments(result, converted_at, handover)
    con = duckdb.connect()
    columns = ["lead_id", "type", "event", "timestamp", "properties"]
    con.register("events_in", events.select(columns))
    rows = con.execute(_TOUCHES, {"end": end}).fetchall()
    index = {lead_id: i for i, lead_id in enumerate(ids)}
    values: dict[str, list[set[str]]] = {kind: [set() for _ in ids] for kind in KINDS}
    for lead_id, at, source, campaign, content in rows:
        who = index.get(lead_id)
        if who is None:
            continue
        label = " / ".join(v for v in (source, campaign) if v)
        if label and not values["first touch"][who]:
            values["first touch"][who].add(label)
        if at > credited["moment"][who]:
            continue
        if label:
            values["last touch"][who] = {label}
        for kind, value in (("source", source), ("campaign", campaign), ("content", content)):
            if value:
                values[kind][who].add(value)
    return {kind: _table(values[kind], credited) for kind in KINDS}


def _moments(result: Replay, converted_at: Ints, handover: int | None) -> dict[str, Any]:
    """Per lead: the moment it is credited for (hand-over, else conversion, else the end),
    whether it was handed over, reached the next stage, converted, in the period, and whether
    it was there (scored at some step)."""
    size, end = len(result.lead_ids), int(result.instants[-1])
    lead, step, entered = result.entries
    moment = np.minimum(converted_at, end)
    handed = np.zeros(size, np.bool_)
    advanced = np.zeros(size, np.bool_)
    if handover is not None:
        mine = entered == handover
        handed[lead[mine]] = True
        firsts: dict[int, int] = {}
        for who, when in zip(lead[mine].tolist(), step[mine].tolist(), strict=True):
            firsts.setdefault(who, when)
        for who, when in firsts.items():
            moment[who] = min(int(moment[who]), int(result.instants[when]))
        advanced[lead[entered == handover + 1]] = True
    won = (converted_at > result.instants[0]) & (converted_at <= end)
    return {
        "moment": moment,
        "handed": handed,
        "advanced": advanced,
        "won": won,
        "seen": result.scored.any(axis=0),
    }


def _table(values: Sequence[set[str]], credited: dict[str, Any]) -> list[dict[str, Any]]:
    counts: dict[str, list[int]] = {}
    for who, found in enumerate(values):
        if not credited["seen"][who]:
            continue
        for value in found or {NONE}:
            row = counts.setdefault(value, [0, 0, 0, 0])
            row[0] += 1
            row[1] += int(credited["handed"][who])
            row[2] += int(credited["advanced"][who])
            row[3] += int(credited["won"][who])
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    shown, rest = ranked[:TOP_VALUES], ranked[TOP_VALUES:]
    if rest:
        summed = [sum(r[1][i] for r in rest) for i in range(4)]
        shown.append((f"{len(rest)} others", summed))
    return [
        {
            "value": value,
            "leads": leads,
            "handed_over": handed,
            "next_stage": advanced,
            "customers": won,
            "handover_rate": handed / leads if leads else None,
            "customer_rate": won / leads if leads else None,
        }
        for value, (leads, handed, advanced, won) in shown
    ]
