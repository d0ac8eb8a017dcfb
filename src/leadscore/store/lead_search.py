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
FEW_MATCHES = 1_000


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


def matching(conn: sa.Connection, text: str) -> list[str] | sa.ColumnElement[bool]:
    """The leads whose words hold ``text`` (any case): their ids when there are few (the
    ranked list then reads just those), else a condition on each ``leads`` row (a common
    piece: the list is read in rank order, each lead checked, and a page fills at once)."""
    leads = schema.leads
    piece = text.lower()
    found: sa.Select[tuple[str]]
    each: sa.ColumnElement[bool]
    if conn.dialect.name == "sqlite":
        # FTS5 answers LIKE from its trigram index only without ESCAPE: the LIKE narrows,
        # instr() then checks the piece exactly (a literal % or _ in it included)
        search = sa.table("lead_search", sa.column("rowid"), sa.column("words"))
        rows = (
            sa.select(search.c.rowid)
            .where(search.c.words.like(f"%{piece}%"), sa.func.instr(search.c.words, piece) > 0)
            .limit(FEW_MATCHES + 1)  # inside: SQLite would read every match before a LIMIT
        )  # a subquery, not a join: the planner then starts from the index, not from leads
        found = sa.select(leads.c.lead_id).where(sa.literal_column("leads.rowid").in_(rows))
        each = sa.func.instr(sa.literal_column(sqlite_words("leads")), piece) > 0
    else:
        words: sa.ColumnElement[str] = sa.literal_column(postgres_words())
        each = words.like(_pattern(text), escape="\\")
        found = sa.select(leads.c.lead_id).where(each)
    ids: list[str] = [str(i) for i in conn.execute(found.limit(FEW_MATCHES + 1)).scalars()]
    return ids if len(ids) <= FEW_MATCHES else each
