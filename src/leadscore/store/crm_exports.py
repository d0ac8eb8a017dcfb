"""What was last exported to a CRM file, per format, model and lead: the digest of the
exported values, so an export writes only what changed since the one before."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.sql import upsert
from leadscore.store.store import Store


def exported_digests(store: Store, target: str, model: str) -> dict[str, str]:
    """lead -> digest of what the last export to ``target`` wrote of it under ``model``."""
    table = schema.crm_exports
    query = sa.select(table.c.lead_id, table.c.digest).where(
        table.c.target == target, table.c.model == model
    )
    with store.engine.connect() as conn:
        return {row.lead_id: row.digest for row in conn.execute(query)}


def record_exports(
    store: Store, target: str, model: str, digests: Mapping[str, str], at: int
) -> None:
    """Remember what an export wrote (lead -> digest), after the file is written."""
    rows: list[dict[str, Any]] = [
        {"target": target, "model": model, "lead_id": lead_id, "digest": digest, "exported_at": at}
        for lead_id, digest in digests.items()
    ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5_000):
            upsert(
                conn,
                schema.crm_exports,
                rows[start : start + 5_000],
                ("target", "model", "lead_id"),
            )
