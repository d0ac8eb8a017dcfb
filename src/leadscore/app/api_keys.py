"""The service's API keys as the interfaces use them (``leadscore keys``, the dashboard's
admin page, the service's authentication): created (the key is seen that once; only its
digest is kept), listed by prefix, revoked, and checked against a scope."""

from __future__ import annotations

from typing import Any

from leadscore._types import format_as_of
from leadscore.store.keys import ALLOWS, SCOPES, create_key, key_scope, list_keys, revoke_key
from leadscore.store.store import Store

__all__ = [
    "ALLOWS",
    "SCOPES",
    "create_key",
    "described_keys",
    "key_scope",
    "list_keys",
    "revoke_key",
]


def described_keys(store: Store) -> list[dict[str, Any]]:
    """Every key as people read it: prefix, scope, name, when created, in use or when
    revoked (never the key: it is not stored)."""
    rows = []
    for row in list_keys(store):
        revoked = row["revoked_at"]
        state = "in use" if revoked is None else f"revoked {format_as_of(int(str(revoked)))}"
        rows.append(
            {
                "prefix": row["prefix"],
                "scope": row["scope"],
                "name": row["name"],
                "created": format_as_of(int(str(row["created_at"]))),
                "state": state,
                "in_use": revoked is None,
            }
        )
    return rows
