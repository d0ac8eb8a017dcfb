"""Lead attributes as of any instant: every change is kept with the time it counts from."""

from __future__ import annotations

import sqlalchemy as sa

from leadscore import Store
from leadscore.store import migrate, schema
from leadscore.testing.strategies import DAY, NOW

T1, T2 = NOW - 100 * DAY, NOW - 50 * DAY


def _versions(store: Store) -> int:
    return store.count("lead_versions")


def test_first_attributes_count_from_the_start_and_changes_from_their_time(store: Store) -> None:
    store.upsert_leads([("a", {"job_title": "Engineer", "email": "a@acme.example"}, T1)])
    store.upsert_leads([("a", {"job_title": "CEO"}, T2)])
    assert store.lead("a", as_of=0)["job_title"] == "Engineer"  # long before T1: the first
    assert store.lead("a", as_of=T2 - 1)["job_title"] == "Engineer"
    assert store.lead("a", as_of=T2) == {"job_title": "CEO", "email": "a@acme.example"}
    assert store.lead("a")["job_title"] == "CEO"  # now
    store.upsert_leads([("a", {"job_title": "CEO"}, NOW)])  # no change, no version
    assert _versions(store) == 2


def test_a_late_change_dated_before_the_latest_counts_from_the_latest(store: Store) -> None:
    store.upsert_leads([("a", {"size": 5}, None), ("a", {"size": 50}, T2)])
    store.upsert_leads([("a", {"size": 500}, T1)])  # dated before T2, arrives after it
    assert store.lead("a", as_of=T2 - 1)["size"] == 5
    assert store.lead("a", as_of=T2)["size"] == 500


def test_a_lead_first_seen_in_events_keeps_its_later_traits_from_the_start(store: Store) -> None:
    store.upsert_leads([("a", {}, None)])  # created by a track call: nothing known yet
    store.upsert_leads([("a", {"job_title": "CEO"}, None)])  # the CRM export, imported now
    assert store.lead("a", as_of=0) == {"job_title": "CEO"}


def test_leads_and_accounts_as_of(store: Store) -> None:
    store.upsert_leads(
        [
            ("a", {"email": "a@acme.example"}, None),
            ("b", {"email": "b@gmail.com"}, None),
            ("b", {"email": "b@acme.example"}, T2),  # joins acme at T2
        ]
    )
    before = {r["lead_id"]: r["account_id"] for r in store.leads_arrow(T2 - 1).to_pylist()}
    after = {r["lead_id"]: r["account_id"] for r in store.leads_arrow(T2).to_pylist()}
    assert before == {"a": "acme.example", "b": None}
    assert after == {"a": "acme.example", "b": "acme.example"}
    assert sorted(store.account_members("a", T2 - 1)) == ["a"]
    assert sorted(store.account_members("a", T2)) == ["a", "b"]
    assert store.leads_arrow().to_pylist() == store.leads_arrow(NOW).to_pylist()


def test_a_database_from_before_history_gets_first_versions(database_url: str) -> None:
    with Store.open(database_url) as made:
        made.upsert_leads([("a", {"job_title": "CEO"}, None)])
    engine = sa.create_engine(database_url)
    cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as conn:  # as the release before lead history left it
        conn.execute(sa.text(f"DROP TABLE lead_versions{cascade}"))
        conn.execute(sa.text("DROP TABLE alembic_version"))  # it had no migrations either
        for table in set(schema.metadata.tables) - set(migrate.BASELINE_TABLES):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}{cascade}"))
    engine.dispose()
    with Store.open(database_url) as store:
        assert store.lead("a", as_of=0) == {"job_title": "CEO"}
        assert _versions(store) == 1
