"""CRM exports import as they are: leads keyed by email when the file has no id column,
events matched to them by user id or email trait, and ``;``-separated files read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore import InputError, Store
from leadscore.store.ingest import import_events, import_leads
from leadscore.testing.strategies import NOW

#: The columns HubSpot users pick for a contacts export (no Record ID among them).
HUBSPOT_CHOSEN = (
    "First Name,Last Name,Email,Company Name,Job Title,Phone Number,Country/Region,"
    "Number of Employees,Lifecycle Stage\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_hubspot_export_without_record_id_is_keyed_by_email(tmp_path: Path, store: Store) -> None:
    path = write(
        tmp_path / "contacts.csv",
        HUBSPOT_CHOSEN
        + "Ann,Berg,Ann.Berg@Nordwind.example ,Nordwind Logistik GmbH,CTO,+45 1234,Denmark,"
        "250,Marketing Qualified Lead\n"
        "Bo,Li,bo@shop.example,Shop ApS,,,,,Subscriber\n"
        "No,Mail,,Nowhere Inc,,,,,Lead\n",
    )
    summary = import_leads(store, path)
    assert (summary.accepted, summary.rejected) == (2, 1)
    assert (summary.rejects[0].line, summary.rejects[0].field) == (4, "lead_id")
    assert "email" in summary.rejects[0].reason
    # the email trimmed and lower-cased is the key; every HubSpot label is mapped
    assert store.lead("ann.berg@nordwind.example") == {
        "first_name": "Ann",
        "last_name": "Berg",
        "email": "Ann.Berg@Nordwind.example ",
        "company": "Nordwind Logistik GmbH",
        "job_title": "CTO",
        "phone": "+45 1234",
        "country": "Denmark",
        "company_size": "250",
        "crm_stage": "Marketing Qualified Lead",
    }
    assert store.lead("bo@shop.example")["crm_stage"] == "Subscriber"


def test_the_same_email_in_another_case_is_the_same_lead(tmp_path: Path, store: Store) -> None:
    import_leads(store, write(tmp_path / "a.csv", "Email,Job Title\nANN@x.example,CEO\n"))
    import_leads(store, write(tmp_path / "b.csv", "Email,Phone Number\n ann@X.example ,55\n"))
    assert store.all_lead_ids() == ["ann@x.example"]
    assert store.lead("ann@x.example") == {
        "email": " ann@X.example ",
        "job_title": "CEO",
        "phone": "55",
    }


def test_events_find_an_email_keyed_lead_by_user_id_or_email(tmp_path: Path, store: Store) -> None:
    import_leads(store, write(tmp_path / "contacts.csv", "Email,Job Title\nann@x.example,CEO\n"))
    messages = [
        # before the site knows who u-77 is: a lead of its own, for now
        {"type": "track", "userId": "u-77", "event": "Webinar Registered", "messageId": "m1",
         "timestamp": "2026-03-01T09:00:00Z"},
        # the identify's email trait names the CRM lead: u-77 becomes it
        {"type": "identify", "userId": "u-77", "traits": {"email": "Ann@X.example"},
         "messageId": "m2", "timestamp": "2026-03-01T09:01:00Z"},
        # later events by the user id alone go to the same lead
        {"type": "track", "userId": "u-77", "event": "Email Opened", "messageId": "m3",
         "timestamp": "2026-03-02T09:00:00Z"},
        # a user id that is the address itself
        {"type": "page", "userId": "ANN@x.example", "name": "Pricing", "messageId": "m4",
         "properties": {"path": "/pricing"}, "timestamp": "2026-03-03T09:00:00Z"},
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    for message in messages:  # one file each: the match must hold across imports
        path.write_text(json.dumps(message) + "\n")
        import_events(store, path, now_us=NOW)
    assert store.all_lead_ids() == ["ann@x.example"]
    events = list(store.lead_events("ann@x.example"))
    assert sorted(e.message_id for e in events) == ["m1", "m3", "m4"]
    assert store.lead("ann@x.example") == {"email": "Ann@X.example", "job_title": "CEO"}


def test_semicolon_separated_file_is_read(tmp_path: Path, store: Store) -> None:
    # European Excel writes ';' (and a decimal comma, kept as text)
    path = write(
        tmp_path / "leads.csv",
        "lead_id;Email;Company;Score, manual\nL1;a@x.example;Acme, Inc.;1,5\n",
    )
    summary = import_leads(store, path)
    assert (summary.accepted, summary.rejected) == (1, 0)
    assert store.lead("L1") == {
        "email": "a@x.example",
        "company": "Acme, Inc.",
        "score,_manual": "1,5",
    }


@pytest.mark.parametrize(
    ("given", "text"),
    [(";", 'lead_id;note\nL1;"x;y"\n'), ("\\t", "lead_id\tnote\nL1\tx;y\n")],
)
def test_a_given_separator_wins(tmp_path: Path, store: Store, given: str, text: str) -> None:
    import_leads(store, write(tmp_path / "leads.csv", text), separator=given)
    assert store.lead("L1") == {"note": "x;y"}


def test_a_separator_of_two_characters_is_refused(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path / "leads.csv", "lead_id\nL1\n")
    with pytest.raises(InputError, match=r"--separator: ';;' must be one character"):
        import_leads(store, path, separator=";;")


def test_salesforce_report_is_recognised_without_an_id(tmp_path: Path, store: Store) -> None:
    path = write(
        tmp_path / "leads.csv",
        "First Name,Last Name,Title,Company,Email,Lead Status,Lead Source,Lead Owner\n"
        "Kai,Møller,VP Sales,Fjord AS,kai@fjord.example,Working - Contacted,Web,Ola\n",
    )
    import_leads(store, path)
    assert store.lead("kai@fjord.example") == {
        "first_name": "Kai",
        "last_name": "Møller",
        "job_title": "VP Sales",
        "company": "Fjord AS",
        "email": "kai@fjord.example",
        "crm_stage": "Working - Contacted",
        "lead_source": "Web",
        "owner": "Ola",
    }


def test_a_repeated_message_id_keeps_the_first_line_in_a_file_too(
    tmp_path: Path, store: Store
) -> None:
    first = {"type": "track", "userId": "L1", "event": "Email Opened", "messageId": "m1",
             "timestamp": "2026-03-01T09:00:00Z"}  # fmt: skip
    later = {**first, "event": "Email Clicked", "timestamp": "2026-03-02T09:00:00Z"}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(later) + "\n")
    summary = import_events(store, path, now_us=NOW)
    # as across files (the next import): the first message with an id is the one kept
    assert (summary.accepted, summary.new, summary.calls) == (2, 1, 0)
    assert [e.event for e in store.lead_events("L1")] == ["Email Opened"]


def test_identify_calls_are_counted_apart_from_events(tmp_path: Path, store: Store) -> None:
    messages = [
        {"type": "identify", "userId": "L1", "traits": {"email": "a@x.example"},
         "messageId": "i1", "timestamp": "2026-03-01T09:00:00Z"},
        {"type": "track", "userId": "L1", "event": "Email Opened", "messageId": "m1",
         "timestamp": "2026-03-01T09:00:00Z"},
        {"type": "group", "userId": "L1", "groupId": "acme", "traits": {"name": "Acme"},
         "messageId": "g1", "timestamp": "2026-03-01T09:00:00Z"},
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    summary = import_events(store, path, now_us=NOW)
    # 3 messages: 1 event, new; 2 calls that change the lead; nothing "already stored"
    assert (summary.accepted, summary.new, summary.calls) == (3, 1, 2)
