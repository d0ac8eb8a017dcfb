"""A Segment ``group`` call describes the company: every lead of the account has its traits,
as of the call, and a lead that joins later is given them (issue 14: only the calling lead
had them). Each case on both databases, through the file import's door."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from leadscore import Store
from leadscore.store.ingest import import_events, import_leads
from leadscore.store.unscored import unscored
from leadscore.testing.strategies import NOW

EARLIER = "2026-01-05T10:00:00Z"
LATER = "2026-02-01T10:00:00Z"


def _us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000)


def _import(store: Store, path: Path, messages: list[dict[str, object]]) -> None:
    path.write_text("\n".join(json.dumps(m) for m in messages) + "\n")
    summary = import_events(store, path, now_us=NOW)
    assert not summary.rejects, summary.rejects


def _group(user: str, group: str, at: str, **traits: object) -> dict[str, object]:
    return {"type": "group", "userId": user, "groupId": group, "timestamp": at, "traits": traits}


def test_every_lead_of_the_account_shares_the_company_traits(tmp_path: Path, store: Store) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,company_id,industry\nann,acme-1,retail\nbo,acme-1,\ncy,other,\n")
    import_leads(store, leads)
    traits = {"name": "Acme", "employees": 250, "industry": "software", "plan": "pro"}
    _import(store, tmp_path / "group.jsonl", [_group("ann", "acme-1", LATER, **traits)])
    company = {"company": "Acme", "company_size": 250, "industry": "software"}
    for lead in ("ann", "bo"):  # the caller and its colleague; the company's word wins
        attributes = store.lead(lead)
        assert {k: attributes[k] for k in company} == company
        assert attributes["company.plan"] == "pro"
    assert "company" not in store.lead("cy")  # another account
    # as of before the call, the colleague's company was what it said itself
    assert store.lead("ann", as_of=_us(EARLIER))["industry"] == "retail"
    assert "company_size" not in store.lead("bo", as_of=_us(EARLIER))
    assert {"ann", "bo"} <= set(unscored(store))


def test_a_lead_joining_later_is_given_what_it_lacks(tmp_path: Path, store: Store) -> None:
    _import(
        store,
        tmp_path / "group.jsonl",
        [
            _group("ann", "acme-1", EARLIER, name="Acme", employees=40),
            _group("ann", "acme-1", LATER, employees=250, industry="software"),
        ],
    )
    joiner = {"company_id": "acme-1", "industry": "retail"}
    _import(
        store,
        tmp_path / "identify.jsonl",
        [{"type": "identify", "userId": "dee", "timestamp": LATER, "traits": joiner}],
    )
    attributes = store.lead("dee")
    assert attributes["company"] == "Acme"  # the first call's, kept by the account
    assert attributes["company_size"] == 250  # the later call's
    assert attributes["industry"] == "retail"  # its own value stays


def test_a_repeated_call_changes_nothing(tmp_path: Path, store: Store) -> None:
    call = _group("ann", "acme-1", EARLIER, name="Acme")
    _import(store, tmp_path / "one.jsonl", [call])
    before = store.lead_history("ann")
    _import(store, tmp_path / "two.jsonl", [{**call, "messageId": "again"}])
    assert store.lead_history("ann") == before
