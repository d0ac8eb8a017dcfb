"""Lists of ids bound as one parameter (``sql.one_of``, ``sql.among_named``) and the marks
cleared by (lead, instant) pairs: the same rows as a Python filter of the table, past
SQLite's 32,766 bound parameters and with ids that would break a hand-quoted list."""

from __future__ import annotations

import sqlalchemy as sa

from leadscore import Store
from leadscore.store import schema
from leadscore.store.sql import among_named, one_of
from leadscore.store.unscored import clear_marks, mark_unscored, marks_of, unscored

#: Awkward ids: quotes, a JSON escape, a comma, SQL, non-ASCII, a brace (array syntax).
ODD = ["o'brien", 'say "hi"', "back\\slash", "a,b", "x'); DROP TABLE leads; --", "zoë", "{1}"]


def test_one_of_finds_exactly_the_listed_leads_past_the_parameter_limit(store: Store) -> None:
    stored = [f"L{n}" for n in range(3_000)] + ODD
    store.upsert_leads([(lead_id, {}, None) for lead_id in stored])
    asked = stored[::3] + [f"missing{n}" for n in range(40_000)]  # 41,000 ids in one list
    leads = schema.leads
    with store.engine.connect() as conn:
        query = sa.select(leads.c.lead_id).where(one_of(conn, leads.c.lead_id, asked))
        found = set(conn.execute(query).scalars())
    assert found == set(stored[::3])


def test_among_named_tests_a_text_query_against_the_list(store: Store) -> None:
    store.upsert_leads([(lead_id, {}, None) for lead_id in ["a", "b", *ODD]])
    with store.engine.connect() as conn:
        test, ids = among_named(conn, "lead_id", "ids", ["b", *ODD, "nobody"])
        query = sa.text(f"SELECT lead_id FROM leads WHERE {test}").bindparams(ids)
        assert set(conn.execute(query).scalars()) == {"b", *ODD}


def test_clearing_marks_removes_only_the_pairs_seen(store: Store) -> None:
    lead_ids = [f"L{n}" for n in range(1_200)] + ODD
    with store.engine.begin() as conn:
        mark_unscored(conn, lead_ids, 100)
    with store.engine.connect() as conn:
        seen = marks_of(conn, lead_ids)
    assert seen == dict.fromkeys(lead_ids, 100)
    remarked = lead_ids[::7]  # written again after the rescoring read them
    with store.engine.begin() as conn:
        mark_unscored(conn, remarked, 200)
        clear_marks(conn, {lead_id: seen[lead_id] for lead_id in lead_ids[::2]})
    expected = set(remarked) | set(lead_ids) - set(lead_ids[::2])
    assert unscored(store) == sorted(expected)
    with store.engine.connect() as conn:
        assert marks_of(conn, remarked) == dict.fromkeys(remarked, 200)
