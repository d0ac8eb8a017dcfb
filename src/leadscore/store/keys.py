"""API keys with scopes: ``ingest`` (write keys, safe in a browser: they can only send events),
``read`` (the CRM side: leads and scores) and ``admin`` (everything)."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from leadscore._types import now_us
from leadscore.errors import InputError, NotFoundError
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


def list_keys(store: Store) -> list[dict[str, object]]:
    """Every key, oldest first: its prefix (the key itself is not stored), scope, name, and
    when it was created and revoked (None: in use)."""
    keys = schema.api_keys
    query = sa.select(
        keys.c.prefix, keys.c.scope, keys.c.name, keys.c.created_at, keys.c.revoked_at
    ).order_by(keys.c.created_at, keys.c.prefix)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def revoke_key(store: Store, key_or_prefix: str) -> dict[str, object]:
    """Revoke a key, given whole or by the prefix ``keys list`` shows; returns it. The
    service stops taking it within ``service.auth.KEY_CACHE_SECONDS``."""
    keys = schema.api_keys
    with store.engine.begin() as conn:
        match = conn.execute(
            sa.select(keys).where(
                sa.or_(keys.c.key_hash == _digest(key_or_prefix), keys.c.prefix == key_or_prefix)
            )
        ).all()
        if not match:
            raise NotFoundError(f"no API key {key_or_prefix!r}; `leadscore keys list` shows them")
        if len(match) > 1:
            raise InputError(
                f"{len(match)} keys start with {key_or_prefix!r}; give the whole key to revoke one"
            )
        found = dict(match[0]._mapping)
        if found["revoked_at"] is None:
            found["revoked_at"] = now_us()
            conn.execute(
                keys.update()
                .where(keys.c.key_hash == found["key_hash"])
                .values(revoked_at=found["revoked_at"])
            )
    found.pop("key_hash")
    return found
