"""Dashboard users and sessions as stored: rows in and out. Hashing passwords and deciding who
may sign in is the application's (``app/users.py``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from leadscore._types import now_us
from leadscore.store import schema
from leadscore.store.store import Store


@dataclass(frozen=True, slots=True)
class User:
    email: str
    role: str
    password_hash: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class Session:
    email: str
    role: str
    csrf: str
    expires_at: int


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(store: Store, email: str, password_hash: str, role: str) -> bool:
    """Store a user; False when the email has one already."""
    users = schema.users
    with store.engine.begin() as conn:
        if conn.execute(sa.select(users.c.email).where(users.c.email == email)).first():
            return False
        conn.execute(
            users.insert().values(
                email=email, password_hash=password_hash, role=role, created_at=now_us()
            )
        )
    return True


def user(store: Store, email: str) -> User | None:
    users = schema.users
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.email == email)).first()
    if row is None:
        return None
    return User(row.email, row.role, row.password_hash, row.disabled_at is not None)


def all_users(store: Store) -> list[User]:
    users = schema.users
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.email)).all()
    return [User(r.email, r.role, r.password_hash, r.disabled_at is not None) for r in rows]


def set_password_hash(store: Store, email: str, password_hash: str) -> None:
    users = schema.users
    with store.engine.begin() as conn:
        conn.execute(
            users.update().where(users.c.email == email).values(password_hash=password_hash)
        )


def add_session(store: Store, token: str, email: str, csrf: str, expires_at: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            schema.dashboard_sessions.insert().values(
                token_hash=token_digest(token),
                email=email,
                csrf=csrf,
                created_at=now_us(),
                expires_at=expires_at,
            )
        )


def session(store: Store, token: str, at: int) -> Session | None:
    """The session of a cookie's token, while it lasts and its user is not disabled."""
    sessions, users = schema.dashboard_sessions, schema.users
    query = (
        sa.select(sessions.c.email, users.c.role, sessions.c.csrf, sessions.c.expires_at)
        .join(users, users.c.email == sessions.c.email)
        .where(
            sessions.c.token_hash == token_digest(token),
            sessions.c.expires_at > at,
            users.c.disabled_at.is_(None),
        )
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else Session(row.email, row.role, row.csrf, int(row.expires_at))


def drop_session(store: Store, token: str) -> None:
    sessions = schema.dashboard_sessions
    with store.engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.token_hash == token_digest(token)))


def change_user(
    store: Store,
    email: str,
    *,
    role: str | None = None,
    password_hash: str | None = None,
    disabled: bool | None = None,
) -> bool:
    """Change a user's role, password hash or whether disabled; a new password or a disabled
    user ends the user's sessions. False when there is no such user."""
    users, sessions = schema.users, schema.dashboard_sessions
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = role
    if password_hash is not None:
        values["password_hash"] = password_hash
    if disabled is not None:
        values["disabled_at"] = now_us() if disabled else None
    with store.engine.begin() as conn:
        changed = conn.execute(users.update().where(users.c.email == email).values(**values))
        if changed.rowcount and (password_hash is not None or disabled):
            conn.execute(sessions.delete().where(sessions.c.email == email))
    return bool(changed.rowcount)
