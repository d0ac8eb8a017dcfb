"""The dashboard's admin page: dashboard users (create with a password shown once, change
role, disable or enable, new password) and the service's API keys (create, the key shown
that once; list by prefix; revoke). Only the admin role sees it; every form carries the
session's CSRF token. A stored key is never shown: only its digest is kept.

A change answers with a redirect (post, redirect, get: reloading the page does not make a
second key). What the change says, a new password or key with it, waits in this process
for the one page view that follows (``NOTES_SECONDS`` at most), never in the URL."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadscore.app.api_keys import SCOPES, create_key, described_keys, revoke_key
from leadscore.app.users import (
    ROLES,
    Session,
    change_user_role,
    create_user,
    disable_user,
    new_password,
    reset_password,
    users,
)
from leadscore.errors import LeadscoreError
from leadscore.service.auth import KEY_CACHE_SECONDS
from leadscore.service.dashboard import CsrfField, TextField, allowed, status_of, templates
from leadscore.service.runtime import State

router = APIRouter(include_in_schema=False)
WHAT = "manage users and API keys"


def _page(
    request: Request,
    state: Any,
    session: Session,
    *,
    flash: str | None = None,
    secret: tuple[str, str] | None = None,
    error: str | None = None,
    code: int = 200,
) -> Response:
    """The admin page; ``secret`` is (what, value) shown this once (a password or a key)."""
    context = {
        "session": session,
        "users": [
            {"email": email, "role": role, "disabled": disabled}
            for email, role, disabled in users(state.store)
        ],
        "keys": described_keys(state.store),
        "roles": ROLES,
        "scopes": SCOPES,
        "flash": flash,
        "secret": secret,
        "error": error,
    }
    return templates.TemplateResponse(request, "admin.html", context, status_code=code)


#: note token -> (the admin's email, what the change says, the secret it made, until when)
_NOTES: dict[str, tuple[str, str, tuple[str, str] | None, float]] = {}
NOTES_SECONDS = 120


def _leave_note(email: str, flash: str, secret: tuple[str, str] | None) -> str:
    now = time.monotonic()
    for token in [t for t, note in _NOTES.items() if note[3] < now]:
        del _NOTES[token]
    token = secrets.token_urlsafe(16)
    _NOTES[token] = (email, flash, secret, now + NOTES_SECONDS)
    return token


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, state: State, note: str | None = None) -> Response:
    session = allowed(request, state, "admin", WHAT)
    if not isinstance(session, Session):
        return session
    left = _NOTES.get(note or "")
    if left is None or left[0] != session.email or left[3] < time.monotonic():
        return _page(request, state, session)
    del _NOTES[note or ""]  # shown once
    return _page(request, state, session, flash=left[1], secret=left[2])


async def _done(
    request: Request,
    state: Any,
    csrf: str,
    change: Callable[[], tuple[str, tuple[str, str] | None]],
) -> Response:
    """Run ``change`` (in the write lane) for an admin with a good CSRF token, then back to
    the page, which says what it did; or the page with the problem (400, 404 or 409)."""
    session = allowed(request, state, "admin", WHAT, csrf)
    if not isinstance(session, Session):
        return session
    try:
        flash, secret = await state.write(change)
    except LeadscoreError as exc:
        return _page(request, state, session, error=str(exc), code=status_of(exc))
    token = _leave_note(session.email, flash, secret)
    return RedirectResponse(f"/admin?note={token}", status_code=303)


@router.post("/admin/users")
async def add_user(
    request: Request,
    state: State,
    email: TextField = "",
    role: TextField = "sales",
    csrf: CsrfField = "",
) -> Response:
    def change() -> tuple[str, tuple[str, str]]:
        password = new_password()
        create_user(state.store, email, password, role)
        return f"Created {email.strip().lower()} ({role}).", ("Their password", password)

    return await _done(request, state, csrf, change)


@router.post("/admin/users/role")
async def set_role(
    request: Request,
    state: State,
    email: TextField = "",
    role: TextField = "",
    csrf: CsrfField = "",
) -> Response:
    def change() -> tuple[str, None]:
        change_user_role(state.store, email, role)
        return f"{email} is now {role}.", None

    return await _done(request, state, csrf, change)


@router.post("/admin/users/access")
async def set_access(
    request: Request,
    state: State,
    email: TextField = "",
    disable: TextField = "",
    csrf: CsrfField = "",
) -> Response:
    stop = disable == "yes"
    session = allowed(request, state, "admin", WHAT)
    if stop and isinstance(session, Session) and session.email == email:
        return _page(request, state, session, error="You cannot disable yourself.", code=409)

    def change() -> tuple[str, None]:
        disable_user(state.store, email, stop)
        return (f"{email} can no longer sign in." if stop else f"{email} can sign in again."), None

    return await _done(request, state, csrf, change)


@router.post("/admin/users/password")
async def set_password(
    request: Request, state: State, email: TextField = "", csrf: CsrfField = ""
) -> Response:
    def change() -> tuple[str, tuple[str, str]]:
        password = new_password()
        reset_password(state.store, email, password)
        return f"{email} has a new password; their sessions ended.", ("The new password", password)

    return await _done(request, state, csrf, change)


@router.post("/admin/keys")
async def add_key(
    request: Request,
    state: State,
    scope: TextField = "ingest",
    name: TextField = "",
    csrf: CsrfField = "",
) -> Response:
    def change() -> tuple[str, tuple[str, str]]:
        key = create_key(state.store, scope, name.strip() or scope)
        return f"Created an API key with scope {scope}.", ("The key", key)

    return await _done(request, state, csrf, change)


@router.post("/admin/keys/revoke")
async def drop_key(
    request: Request, state: State, prefix: TextField = "", csrf: CsrfField = ""
) -> Response:
    def change() -> tuple[str, None]:
        revoke_key(state.store, prefix)
        wait = f"{KEY_CACHE_SECONDS:g} seconds"
        return f"Revoked the key {prefix}...; the service stops taking it within {wait}.", None

    return await _done(request, state, csrf, change)
