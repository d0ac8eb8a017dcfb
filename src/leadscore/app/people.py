"""Who a lead is, for people reading output: a name, an email and a company beside the id
(score and explain tables, webhook deliveries, CRM files), from the lead's attributes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from leadscore.store.store import Store

#: The attributes that say who a lead is, in the order people read them.
PERSON_FIELDS = ("email", "first_name", "last_name", "company", "job_title", "phone", "owner")


def person(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """``PERSON_FIELDS`` that are present, and ``name`` (first and last) when there is one."""
    found = {k: attributes[k] for k in PERSON_FIELDS if attributes.get(k) not in (None, "")}
    name = " ".join(str(found[k]) for k in ("first_name", "last_name") if k in found)
    return {"name": name, **found} if name else found


def people(
    store: Store, lead_ids: Sequence[str], conn: sa.Connection | None = None
) -> dict[str, dict[str, Any]]:
    """``person`` of each of ``lead_ids`` that exists (read in ``conn`` when given)."""
    if conn is not None:
        found = store.attributes_of(lead_ids, conn)
    else:
        with store.engine.connect() as own:
            found = store.attributes_of(lead_ids, own)
    return {lead_id: person(attributes) for lead_id, attributes in found.items()}


def label(who: Mapping[str, Any]) -> str:
    """One line: ``Ann Berg <ann@acme.example>``, or the part there is."""
    name, email = who.get("name", ""), who.get("email", "")
    if name and email:
        return f"{name} <{email}>"
    return str(name or email)
