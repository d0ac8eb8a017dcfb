"""The store keeps each lead's account id in step with its attributes, old databases too."""

from __future__ import annotations

import json

import sqlalchemy as sa

from leadscore import Store


def _accounts(store: Store) -> dict[str, str | None]:
    rows = store.leads_arrow().to_pylist()
    return {row["lead_id"]: row["account_id"] for row in rows}


def test_account_ids_follow_attribute_changes(store: Store) -> None:
    store.upsert_leads(
        [
            ("a", {"email": "a@acme.example"}, None),
            ("b", {"email": "b@gmail.com"}, None),
            ("c", {"email": "c@acme.example", "company_id": "ACME-1"}, None),
        ]
    )
    assert _accounts(store) == {"a": "acme.example", "b": None, "c": "ACME-1"}
    store.upsert_leads([("b", {"email": "b@acme.example"}, None), ("c", {"company_id": ""}, None)])
    assert _accounts(store) == {"a": "acme.example", "b": "acme.example", "c": "acme.example"}
    assert sorted(store.account_members("a")) == ["a", "b", "c"]
    store.upsert_leads([("d", {"email": "d@yahoo.com"}, None)])
    assert store.account_members("d") == {"d": {"email": "d@yahoo.com"}}


def test_a_database_from_before_accounts_is_upgraded(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:  # the leads table as the first release wrote it
        conn.execute(
            sa.text(
                "CREATE TABLE leads (lead_id VARCHAR(255) PRIMARY KEY, attributes TEXT NOT NULL, "
                "updated_at BIGINT NOT NULL)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO leads VALUES ('a', :attrs, 0)"),
            {"attrs": json.dumps({"email": "a@acme.example"})},
        )
    engine.dispose()
    with Store.open(database_url) as store:
        assert _accounts(store) == {"a": "acme.example"}
    with Store.open(database_url) as store:  # idempotent
        assert _accounts(store) == {"a": "acme.example"}
