"""Two ids that are one person become one lead: Segment ``alias`` calls, and user ids
matched by email to a lead a CRM export keyed by its email.

An anonymous visitor's id is linked to the lead (its events count for the lead, as an
``identify`` with an ``anonymousId`` does). A previous id that is a lead of its own is merged
into the new one: its events, anonymous ids, outcomes, feedback and stage history move over,
its attributes fill in those the new lead lacks (the new lead's values win), and the previous
lead's own rows (attribute history, kept results, unscored mark) go, so one person is ranked
once. The two stage histories become one, in time order: the stage recorded last stands, so
an MQL merged into a new id stays an MQL (and is not handed over a second time); its recycles
restart the engagement of the events merged with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.store import Store


def routes(
    store: Store,
    user_ids: set[str],
    emails: dict[str, str],
    conn: sa.Connection,
    leads: set[str],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Where messages naming ``user_ids`` belong, and the new (user id, lead id) pairs to
    merge and link (``merge_aliases``).

    A user id linked before (by an alias call or an earlier match) goes to its lead; only
    ids that are not leads themselves (``leads``: those of ``user_ids`` that are) are looked
    up, as a linked id's own lead was merged away. One whose email key (``emails``: user id
    -> ``mappings.email_key``) is a stored lead's id is matched to that lead: a CRM export
    without record ids keys its leads by email, and the site's events name the person by a
    user id of its own."""
    linked = store.linked_leads(user_ids - leads, conn) if user_ids - leads else {}
    route = {u: lead for u, lead in linked.items() if u != lead}
    candidates = {u: key for u, key in emails.items() if u not in route and u != key}
    if not candidates:
        return route, []
    stored = store.existing_leads(sorted(set(candidates.values())), conn)
    matched = {u: key for u, key in candidates.items() if key in stored}
    route.update(matched)
    return route, list(matched.items())


def merge_aliases(store: Store, pairs: Iterable[tuple[str, str]], conn: sa.Connection) -> None:
    """Apply (previous id, user id) pairs in order, in ``conn``'s transaction; the user
    leads exist already (``Pending`` creates them)."""
    for previous, into in pairs:
        if previous == into:
            continue
        if store.has_lead(previous, conn):
            _merge_lead(store, conn, previous, into)
        store.link_identities([(previous, into)], conn)


def _merge_lead(store: Store, conn: sa.Connection, previous: str, into: str) -> None:
    s = schema
    old = _current_attributes(conn, previous)
    mine = _current_attributes(conn, into)
    missing = {name: value for name, value in old.items() if name not in mine}
    if missing:
        store.upsert_leads([(into, missing, None)], conn)
    for table in (s.events, s.identities, s.outcomes, s.feedback, s.stage_transitions):
        conn.execute(table.update().where(table.c.lead_id == previous).values(lead_id=into))
    for table in (s.lead_versions, s.lead_scores, s.unscored_leads):
        conn.execute(table.delete().where(table.c.lead_id == previous))
    conn.execute(s.leads.delete().where(s.leads.c.lead_id == previous))


def _current_attributes(conn: sa.Connection, lead_id: str) -> dict[str, object]:
    row = conn.execute(
        sa.select(schema.leads.c.attributes).where(schema.leads.c.lead_id == lead_id)
    ).first()
    return {} if row is None else dict(json.loads(row.attributes))
