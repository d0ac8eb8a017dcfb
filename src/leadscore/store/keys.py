"""API keys with scopes: ``ingest`` (write keys, safe in a browser: they can only send events),
``read`` (the CRM side: leads and scores) and ``admin`` (everything)."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from leadscore._types import now_us
from leadscore.errors import InputError
from leadscore.store import schema
from leadscore.store.store import Store

SCOPES = ("ingest", "read", "admin")
#: What each scope may do: admin keys can do what the others can.
ALLOWS = {"ingest": {"ingest"}, "read": {"read"}, "admin": {"ingest", "read", "admin"}}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: Store, scope: str, name: str) -> str:
    """A new key with ``scope``; only its digest is stored, so this is the one time it is seen."""
    if scope not in SCOPES:
        raise InputError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    key = f"ls_{scope}_{secrets.token_urlsafe(24)}"
    with store.engine.begin() as conn:
        conn.execute(
            schema.api_keys.insert().values(
                key_hash=_digest(key),
                prefix=key[: len(scope) + 8],
                scope=scope,
                name=name,
                created_at=now_us(),
            )
        )
    return key


def key_scope(store: Store, key: str) -> str | None:
    """The scope of a key that exists and is not revoked, else None."""
    keys = schema.api_keys
    query = sa.select(keys.c.scope).where(
        keys.c.key_hash == _digest(key), keys.c.revoked_at.is_(None)
    )
    with store.engine.connect() as conn:
        found = conn.execute(query).scalar_one_or_none()
    return None if found is None else str(found)
