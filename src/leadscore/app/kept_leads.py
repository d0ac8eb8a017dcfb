"""Each lead's prepared part, kept between the service's rescoring rounds.

A round rescores the leads written since the last one; when a model reads account facts it
needs their colleagues too, and those are most of what a round would read and prepare (ten
colleagues to a lead is common). ``KeptLeads`` keeps every lead it has read (its attributes,
its events and its ``LeadPart`` per model) from one round to the next, so a round reads from
the database only what changed and the colleagues it has not seen.

A kept lead must not outlive the data it was read from. On SQLite and PostgreSQL the change
mark (``store.changes``) tells every change since the last round, whoever wrote it (this service,
another one, ``leadscore import``): the events stored since are added to the leads they
belong to (a message id is kept once), a lead given new attributes or an anonymous id's
events is read again, and an erasure forgets everything. Who is at each account is kept too,
until any lead is edited, linked or merged away: until then a round reads no colleagues.
Other databases give no such mark: the leads a round is handed are read again in full, and
any other kept lead once it is ``KEEP_SECONDS`` old, so a colleague written by another
process counts in account facts within that time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadscore.engines.lead_parts import EventRow, LeadPart, PartMaker, assemble
from leadscore.engines.plan import Plan
from leadscore.engines.prepared import Prepared
from leadscore.store.changes import ChangeMark, change_mark, new_events, relinked_or_edited
from leadscore.store.store import Store

#: Without a change mark (a database other than SQLite and PostgreSQL), how long a kept
#: lead is trusted.
KEEP_SECONDS = 30.0

#: Past this many kept events the memory starts again (it is a cache, not a copy).
KEPT_EVENTS_MAX = 2_000_000


@dataclass(slots=True)
class _Lead:
    """What is kept of one lead: as read, its events by message id, and its parts by model
    key (none yet after a read; out of date while events were ``added`` since they were
    made, and then extended or made again, an old part lending its verdicts)."""

    attributes: str
    account_id: str | None
    events: dict[str, EventRow]
    read_at: float
    parts: dict[str, LeadPart] = field(default_factory=dict)
    added: list[EventRow] = field(default_factory=list)


class KeptLeads:
    """Leads read for earlier rounds (see the module's docstring). Models are told apart by a
    key the caller gives (a fingerprint of the model): a changed model starts afresh."""

    def __init__(self) -> None:
        self._makers: dict[str, PartMaker] = {}
        self._leads: dict[str, _Lead] = {}
        self._events = 0
        self._mark: ChangeMark | None = None
        #: the leads at each account, and every lead, a round read with its colleagues,
        #: while no lead has been edited, linked or removed since (with a change mark only):
        #: a later round of those leads then reads no colleagues
        self._accounts: dict[str, list[str]] = {}
        self._confirmed: set[str] = set()

    def prepared(
        self, store: Store, plans: Mapping[str, Plan], lead_ids: Sequence[str]
    ) -> tuple[dict[str, Prepared], list[str]]:
        """Each plan's ``Prepared`` of the leads that exist among ``lead_ids`` and, when a
        plan reads account facts, everyone at their accounts; and those leads, in id order.
        Each is as ``store`` holds it now (see the module's docstring)."""
        if set(plans) != set(self._makers):
            self._makers = {key: PartMaker(plan) for key, plan in plans.items()}
            self._forget_all()
        given = sorted(set(lead_ids))
        exact = self._catch_up(store)
        uses_accounts = any(plan.uses_accounts for plan in plans.values())
        members = self._colleagues(given) if exact and uses_accounts else None
        read_colleagues = members is None and uses_accounts
        if members is None:
            members = store.with_colleagues(given) if uses_accounts else given
        unread = {m for m in members if m not in self._leads}
        self._read(store, sorted(unread if exact else unread.union(given)))
        found = [m for m in members if m in self._leads]
        if exact and read_colleagues:
            self._remember_accounts(found)
        prepared = {
            key: assemble(plans[key], {m: self._part(m, key) for m in found}) for key in plans
        }
        if self._events > KEPT_EVENTS_MAX:
            self._forget_all()
        return prepared, found

    def _colleagues(self, given: list[str]) -> list[str] | None:
        """``Store.with_colleagues(given)`` from what is kept, or None when a lead of
        ``given`` was not read with its colleagues since the last change of leads."""
        if not self._confirmed.issuperset(given):
            return None
        found = set(given)
        for lead_id in given:
            lead = self._leads.get(lead_id)
            if lead is None:
                return None
            if lead.account_id is not None:
                found.update(self._accounts[lead.account_id])
        return sorted(found)

    def _remember_accounts(self, members: list[str]) -> None:
        """Keep who is at each account of ``members``: read with their colleagues, they
        are everyone at those accounts."""
        accounts: dict[str, list[str]] = {}
        for lead_id in members:
            account = self._leads[lead_id].account_id
            if account is not None:
                accounts.setdefault(account, []).append(lead_id)
        self._accounts.update(accounts)
        self._confirmed.update(members)

    def _part(self, lead_id: str, key: str) -> LeadPart:
        lead = self._leads[lead_id]
        if not lead.parts or lead.added:
            for name, maker in self._makers.items():
                before = lead.parts.get(name)
                extended = (
                    None
                    if before is None
                    else maker.extended(before, lead.added, lead.events.values())
                )
                lead.parts[name] = extended or maker.part(
                    lead.attributes, lead.account_id, list(lead.events.values()), before
                )
            lead.added = []
        return lead.parts[key]

    def _read(self, store: Store, lead_ids: list[str]) -> None:
        """Read these leads in full; those that no longer exist are forgotten."""
        if not lead_ids:
            return
        events: dict[str, dict[str, EventRow]] = {lead_id: {} for lead_id in lead_ids}
        for row in store.event_rows(lead_ids):
            events[row[0]][row[5]] = _event_row(row)
        now = time.monotonic()
        for lead_id in lead_ids:
            self._forget(lead_id)
        for lead_id, attributes, account_id in store.lead_rows(lead_ids):
            self._leads[lead_id] = _Lead(attributes, account_id, events[lead_id], now)
            self._events += len(events[lead_id])

    def _catch_up(self, store: Store) -> bool:
        """Bring what is kept up to date; True when that is exact (a change mark),
        False when the leads handed in must be read again (see the module's docstring)."""
        mark = change_mark(store)
        if mark is None:
            expired = time.monotonic() - KEEP_SECONDS
            for lead_id in [k for k, lead in self._leads.items() if lead.read_at < expired]:
                self._forget(lead_id)
            return False
        before, self._mark = self._mark, mark
        if before is None or (before.store_id, before.erasures) != (mark.store_id, mark.erasures):
            self._forget_all()
        elif before != mark:
            changed = relinked_or_edited(store, before)
            if changed:  # a lead may have joined or left an account, or be merged away
                self._forget_colleagues()
            for lead_id in changed:
                self._forget(lead_id)
            for row in new_events(store, before, mark):
                lead = self._leads.get(row[0])
                if lead is not None and row[5] not in lead.events:
                    lead.events[row[5]] = _event_row(row)
                    lead.added.append(lead.events[row[5]])
                    self._events += 1
        return True

    def _forget(self, lead_id: str) -> None:
        lead = self._leads.pop(lead_id, None)
        if lead is not None:
            self._events -= len(lead.events)

    def _forget_all(self) -> None:
        self._leads.clear()
        self._forget_colleagues()
        self._events = 0

    def _forget_colleagues(self) -> None:
        self._accounts.clear()
        self._confirmed.clear()


def _event_row(row: Any) -> EventRow:
    """A stored event as the store reads it (lead_id first: ``Store.event_rows``) as a part's
    ``EventRow``."""
    return (row[1], row[2], row[3], row[4], row[5])
