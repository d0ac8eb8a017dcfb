"""Finding leads by a piece of their id, name, email or company, fast at millions of leads.

Each lead's searched words are ``lower(id first_name last_name email company)``. SQLite keeps
them in an FTS5 table with the trigram tokenizer (``lead_search``, its rows the leads' rowids,
kept in step by triggers on ``leads``); PostgreSQL has a trigram GIN index on the same words
(``ix_leads_search``, extension pg_trgm). Both answer ``LIKE '%piece%'`` from the index
(pieces of three characters or more; shorter ones are read through). Both are made by
migration 0006; a PostgreSQL server that refuses the extension searches without the index.
"""

from __future__ import annotations

import sqlalchemy as sa

from leadscore.store import schema

#: The attributes searched beside the id, in the order they are joined.
SEARCHED = ("first_name", "last_name", "email", "company")
#: More matches than this and the ranked list is read in order, each lead checked, instead.
FEW_MATCHES = 5_000


def postgres_words(table: str = "leads") -> str:
    """The searched words as the PostgreSQL index is defined on them (the query must say
    the same expression for the planner to use the index)."""
    parts = [f"{table}.lead_id"] + [
        f"coalesce(({table}.attributes)::json ->> '{name}', '')" for name in SEARCHED
    ]
    return "lower(" + " || ' ' || ".join(parts) + ")"


def sqlite_words(row: str) -> str:
    """The searched words of a ``leads`` row (``new`` or ``old`` in a trigger)."""
    parts = [f"{row}.lead_id"] + [
        f"coalesce(json_extract({row}.attributes, '$.{name}'), '')" for name in SEARCHED
    ]
    return "lower(" + " || ' ' || ".join(parts) + ")"


def _pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(conn: sa.Connection, text: str) -> sa.ColumnElement[bool]:
    """A condition on ``leads.lead_id``: the lead's words hold ``text`` (any case). With few
    matches, their ids (so the ranked list reads just those); else a subquery checked as the
    list is read in rank order (a common piece: the first page fills at once)."""
    leads = schema.leads
    piece = text.lower()
    found: sa.Select[tuple[str]]
    if conn.dialect.name == "sqlite":
        # FTS5 answers LIKE from its trigram index only without ESCAPE: the LIKE narrows,
        # instr() then checks the piece exactly (a literal % or _ in it included)
        search = sa.table("lead_search", sa.column("rowid"), sa.column("words"))
        found = (
            sa.select(leads.c.lead_id)
            .join_from(search, leads, sa.literal_column("leads.rowid") == search.c.rowid)
            .where(search.c.words.like(f"%{piece}%"), sa.func.instr(search.c.words, piece) > 0)
        )
    else:
        words: sa.ColumnElement[str] = sa.literal_column(postgres_words())
        found = sa.select(leads.c.lead_id).where(words.like(_pattern(text), escape="\\"))
    ids = conn.execute(found.limit(FEW_MATCHES + 1)).scalars().all()
    if len(ids) <= FEW_MATCHES:
        return leads.c.lead_id.in_(list(ids))
    return leads.c.lead_id.in_(found)
