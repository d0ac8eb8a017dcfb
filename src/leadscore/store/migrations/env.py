"""Alembic's environment: migrations run on the connection ``store.migrate`` hands over, and
autogenerate compares with ``schema.metadata``."""

from __future__ import annotations

from alembic import context

from leadscore.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
