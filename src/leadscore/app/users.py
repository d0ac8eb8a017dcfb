"""Who may use the dashboard, and how they sign in: users with a role, passwords hashed with
argon2 (argon2-cffi's defaults, rehashed when those change), sessions kept as token digests
for ``SESSION_HOURS``, each with the CSRF token its forms must carry.

Roles nest: ``sales`` reads leads and gives feedback; ``ops`` also edits and activates
models; ``admin`` also manages users and API keys (``may``)."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from leadscore._types import now_us
from leadscore.errors import ConflictError, InputError, NotFoundError
from leadscore.store.store import Store
from leadscore.store.users import (
    Session,
    add_session,
    add_user,
    all_users,
    change_user,
    drop_session,
    set_password_hash,
    user,
)
from leadscore.store.users import session as stored_session

__all__ = [
    "ROLES",
    "SESSION_HOURS",
    "Session",
    "change_user_role",
    "create_user",
    "disable_user",
    "may",
    "new_password",
    "reset_password",
    "session_of",
    "sign_in",
    "sign_out",
    "users",
]
ROLES = ("sales", "ops", "admin")
SESSION_HOURS = 12
MIN_PASSWORD = 12
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}")
_HASHER = PasswordHasher()
#: Checked against when the email is unknown, so a wrong email costs what a wrong password does.
_DUMMY = _HASHER.hash("not a password anyone has")


def may(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (admin > ops > sales)."""
    return role in ROLES and needed in ROLES and ROLES.index(role) >= ROLES.index(needed)


def create_user(store: Store, email: str, password: str, role: str) -> None:
    """A new dashboard user; InputError for a bad email, role or a short password,
    ConflictError when the email has a user already."""
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InputError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not add_user(store, email, _checked_password(password), role):
        raise ConflictError(f"{email} has a user already")


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def new_password() -> str:
    """A random password of 20 characters, for a user made by the demo or reset by an admin."""
    return secrets.token_urlsafe(15)


def reset_password(store: Store, email: str, password: str) -> None:
    """Give the user a new password (their sessions end); NotFoundError for no such user."""
    if not change_user(store, email.strip().lower(), password_hash=_checked_password(password)):
        raise NotFoundError(f"no dashboard user {email!r}")


def change_user_role(store: Store, email: str, role: str) -> None:
    """Give the user another role; InputError for an unknown role."""
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not change_user(store, email.strip().lower(), role=role):
        raise NotFoundError(f"no dashboard user {email!r}")


def disable_user(store: Store, email: str, disabled: bool = True) -> None:
    """Stop (or let again) a user sign in; a disabled user's sessions end at once."""
    if not change_user(store, email.strip().lower(), disabled=disabled):
        raise NotFoundError(f"no dashboard user {email!r}")


def users(store: Store) -> list[tuple[str, str, bool]]:
    """Every user: email, role, whether disabled (never the hash)."""
    return [(u.email, u.role, u.disabled) for u in all_users(store)]


def sign_in(store: Store, email: str, password: str) -> tuple[str, Session] | None:
    """A new session's cookie token and the session, or None for a wrong email or password
    (which one is not said)."""
    found = user(store, email.strip().lower()[:255])
    try:
        _HASHER.verify(found.password_hash if found else _DUMMY, password[:1024])
    except (VerificationError, InvalidHashError):
        return None
    if found is None or found.disabled:
        return None
    if _HASHER.check_needs_rehash(found.password_hash):
        set_password_hash(store, found.email, _HASHER.hash(password))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now_us() + SESSION_HOURS * 3_600_000_000
    add_session(store, token, found.email, csrf, expires)
    return token, Session(found.email, found.role, csrf, expires)


def session_of(store: Store, token: str | None) -> Session | None:
    """The live session of a cookie's token (None: none, expired, or the user disabled)."""
    if not token or len(token) > 128:
        return None
    return stored_session(store, token, now_us())


def sign_out(store: Store, token: str) -> None:
    drop_session(store, token)
