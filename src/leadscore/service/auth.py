"""API keys on requests: Segment's basic auth (the key is the user name) or a bearer token,
checked against the key's scope (``app/api_keys.py``)."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from leadscore.app.api_keys import ALLOWS, key_scope
from leadscore.service.errors import ApiError


def _key_of(header: str | None) -> str:
    """The API key of an ``Authorization`` header: Segment's basic auth (the key is the user
    name, the password empty) or a bearer token."""
    if not header:
        raise ApiError(401, "no API key: send it as the basic-auth user name or a bearer token")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "the basic-auth credentials are not valid base64") from None
        if user:
            return user
    raise ApiError(401, "no API key: send it as the basic-auth user name or a bearer token")


#: How long a key found valid is trusted without asking the database again: a busy site sends
#: hundreds of events a second with the same key. A revoked key stops working within this.
KEY_CACHE_SECONDS = 5.0


async def scope_of(request: Request) -> str:
    """The scope of the request's key; 401 when it has none or an unknown one."""
    key = _key_of(request.headers.get("authorization"))
    trusted: dict[str, tuple[str, float]] = request.app.state.trusted_keys
    known = trusted.get(key)
    if known is not None and known[1] > time.monotonic():
        return known[0]
    scope = await run_in_threadpool(key_scope, request.app.state.store, key)
    if scope is None:
        raise ApiError(401, "unknown or revoked API key")
    if len(trusted) > 10_000:  # many keys: start afresh rather than grow
        trusted.clear()
    trusted[key] = (scope, time.monotonic() + KEY_CACHE_SECONDS)
    return scope


def require(needed: str) -> Any:
    """A route dependency: the request's key must allow ``needed`` (403 otherwise)."""

    async def check(scope: str = Depends(scope_of)) -> None:
        if needed not in ALLOWS[scope]:
            raise ApiError(403, f"a {scope} key cannot do this; it needs a {needed} key")

    return Depends(check)
