"""What a Segment ``group`` call says of a company, shared by every lead of the account.

The traits are kept as lead attributes (``spec.segment.GROUP_TRAITS``: ``company``,
``company_size``, ``industry``, ``website``; any other ``company.<trait>``), so a model reads
them like any attribute and their history is the leads' own (a score as of an earlier instant
sees the traits of that instant):

- a group call writes them, as of the call, to every lead of the account (the company's word
  replaces what a lead said of its company), and the account keeps them in ``accounts``;
- a lead that joins an account later (an identify, an import or a group call gives it the
  account) is given the account's traits it has no value of its own for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from leadscore._types import now_us
from leadscore.store import schema
from leadscore.store.sql import chunks, upsert

#: (account id, the traits as lead attributes, when the call was made: None = now)
GroupCall = tuple[str, dict[str, Any], int | None]


def account_traits(conn: sa.Connection, account_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The kept traits of those of ``account_ids`` that have some (one query per 500 ids;
    none when no group call was ever kept)."""
    accounts = schema.accounts
    wanted = sorted(set(account_ids))
    if not wanted or conn.execute(sa.select(accounts.c.account_id).limit(1)).first() is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(wanted):
        query = sa.select(accounts.c.account_id, accounts.c.traits)
        for row in conn.execute(query.where(accounts.c.account_id.in_(chunk))):
            found[row.account_id] = json.loads(row.traits)
    return found


def share_group_traits(
    calls: Sequence[GroupCall], conn: sa.Connection
) -> list[tuple[str, dict[str, Any], int | None]]:
    """Keep each account's traits (later calls win) and say which lead attribute changes
    give them to every lead of the account: (lead id, attributes, at) rows for
    ``LeadStore.upsert_leads``, only for leads a trait changes."""
    merged: dict[str, tuple[dict[str, Any], int | None]] = {}
    for account_id, traits, at in calls:
        before, when = merged.get(account_id, ({}, None))
        latest = at if when is None or (at is not None and at > when) else when
        merged[account_id] = ({**before, **traits}, latest)
    if not merged:
        return []
    kept = account_traits(conn, merged)
    now = now_us()
    upsert(
        conn,
        schema.accounts,
        [
            {
                "account_id": account_id,
                "traits": json.dumps({**kept.get(account_id, {}), **traits}),
                "updated_at": now,
            }
            for account_id, (traits, _) in merged.items()
        ],
        ["account_id"],
    )
    leads = schema.leads
    changes = []
    for account_id, (traits, at) in merged.items():
        members = conn.execute(
            sa.select(leads.c.lead_id, leads.c.attributes).where(leads.c.account_id == account_id)
        )
        for lead_id, text in members:
            attributes = json.loads(text)
            if any(attributes.get(name) != value for name, value in traits.items()):
                changes.append((lead_id, traits, at))
    return changes
