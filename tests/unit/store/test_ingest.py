"""Imports keep good lines, reject bad ones with line and field, and are idempotent."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from leadscore import InputError, Store
from leadscore.store import message_files, message_lines
from leadscore.store.ingest import import_events, import_leads
from leadscore.testing.strategies import NOW


@pytest.fixture(params=["in-process", "in-process-bulk", "one-worker"])
def workers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Parse in this process, line by line or with the plain events read in bulk
    (``message_lines``, whatever the file's size), or in a worker process in chunks of
    three lines (so a file of a few lines crosses chunks, and their order matters)."""
    monkeypatch.setattr(message_files, "CHUNK_LINES", 3)
    bulk = request.param == "in-process-bulk"
    monkeypatch.setattr(message_lines, "MIN_LINES", 1 if bulk else 10**9)
    return 1 if request.param == "one-worker" else 0


def write_lines(path: Path, messages: list[object]) -> Path:
    path.write_text("\n".join(m if isinstance(m, str) else json.dumps(m) for m in messages) + "\n")
    return path


GOOD = {
    "type": "track",
    "userId": "L1",
    "event": "Email Opened",
    "messageId": "m1",
    "timestamp": "2026-03-01T10:00:00Z",
}


def test_bad_lines_are_rejected_with_line_and_field(
    tmp_path: Path, store: Store, workers: int
) -> None:
    path = write_lines(
        tmp_path / "events.jsonl",
        [
            GOOD,
            "{not json",
            {**GOOD, "messageId": "m2", "timestamp": "2026-03-01 10:00:00"},
            {**GOOD, "messageId": "m3", "event": None},
            {**GOOD, "messageId": "m4", "type": "hover"},
            {**GOOD, "messageId": "m5", "userId": None},
            {**GOOD, "messageId": "m6", "timestamp": "2026-03-09T10:00:00Z"},
            {**GOOD, "messageId": "m7"},
        ],
    )
    summary = import_events(store, path, now_us=NOW, workers=workers)
    assert (summary.accepted, summary.new, summary.rejected) == (2, 2, 6)
    assert [(r.line, r.field) for r in summary.rejects] == [
        (2, ""),
        (3, "timestamp"),
        (4, "event"),
        (5, "type"),
        (6, "userId"),
        (7, "timestamp"),
    ]
    reasons = [r.reason for r in summary.rejects]
    assert reasons[1] == "'2026-03-01 10:00:00' has no UTC offset; add 'Z' or '+00:00'"
    assert reasons[3] == (
        "must be identify, track, page, screen, group or alias. Got 'hover' instead"
    )
    assert reasons[5] == "is 6 days in the future; the allowed skew is 5 minutes"
    assert summary.rejects_path is not None
    written = [json.loads(line) for line in summary.rejects_path.read_text().splitlines()]
    assert written[0]["line"] == 2 and written[1]["field"] == "timestamp"
    assert store.count("events") == 2


def test_reimport_changes_nothing(tmp_path: Path, store: Store, workers: int) -> None:
    path = write_lines(tmp_path / "e.jsonl", [GOOD, {**GOOD, "messageId": "m2"}])
    first = import_events(store, path, now_us=NOW, workers=workers)
    second = import_events(store, path, now_us=NOW, workers=workers)
    assert (first.new, second.accepted, second.new) == (2, 2, 0)
    assert store.count("events") == 2


def test_the_first_message_of_an_id_wins_across_chunks(
    tmp_path: Path, store: Store, workers: int
) -> None:
    """Segment's rule, whichever chunk (and worker) each copy is in: lines 1 and 5 share an
    id, so line 5 changes nothing; an identify on line 4 links line 2's anonymous page."""
    anonymous = {**GOOD, "type": "page", "userId": None, "anonymousId": "a1", "messageId": "p"}
    lines = [
        {**GOOD, "properties": {"first": True}},
        {**anonymous, "name": "Pricing", "event": None},
        {**GOOD, "messageId": "m2", "properties": {"price": 1.5, "tags": ["a", "é"]}},
        {"type": "identify", "userId": "L1", "anonymousId": "a1", "traits": {"plan": "pro"}},
        {**GOOD, "properties": {"first": False}},
        "",
        {**GOOD, "messageId": "m3", "userId": "L2"},
    ]
    summary = import_events(
        store, write_lines(tmp_path / "e.jsonl", lines), now_us=NOW, workers=workers
    )
    assert (summary.accepted, summary.calls, summary.new, summary.rejected) == (6, 1, 4, 0)
    events = {e.message_id: e for e in store.lead_events("L1")}
    assert set(events) == {"m1", "m2", "p"}
    assert events["m1"].properties == {"first": True}
    assert events["m2"].properties == {"price": 1.5, "tags": ["a", "é"]}
    assert (events["p"].type, events["p"].event) == ("page", "Pricing")
    assert store.lead("L1") == {"plan": "pro"}
    assert [e.message_id for e in store.lead_events("L2")] == ["m3"]


def test_timestamps_are_normalised_to_utc(tmp_path: Path, store: Store) -> None:
    path = write_lines(tmp_path / "e.jsonl", [{**GOOD, "timestamp": "2026-03-01T12:00:00+02:00"}])
    import_events(store, path, now_us=NOW)
    (event,) = store.lead_events("L1")
    # 2026-03-01T10:00:00Z = 1772359200 s since the epoch (computed with `date -u -d`).
    assert event.timestamp == 1_772_359_200_000_000


def test_anonymous_events_join_the_lead_after_identify(tmp_path: Path, store: Store) -> None:
    anonymous = {
        "type": "page",
        "anonymousId": "a-9",
        "messageId": "p1",
        "name": "Pricing",
        "properties": {"path": "/pricing"},
        "timestamp": "2026-03-01T09:00:00Z",
    }
    identify = {
        "type": "identify",
        "userId": "L7",
        "anonymousId": "a-9",
        "traits": {"email": "x@acme.example"},
        "timestamp": "2026-03-01T09:05:00Z",
    }
    import_events(store, write_lines(tmp_path / "a.jsonl", [anonymous]), now_us=NOW)
    assert store.events_arrow().num_rows == 0
    import_events(store, write_lines(tmp_path / "b.jsonl", [identify]), now_us=NOW)
    events = list(store.lead_events("L7"))
    assert [(e.type, e.event, e.properties["path"]) for e in events] == [
        ("page", "Pricing", "/pricing")
    ]
    assert store.lead("L7") == {"email": "x@acme.example"}


def test_leads_csv_with_hubspot_headers(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Record ID,Email,Job Title,Number of Employees,Favourite Color\n"
        "101,a@acme.example,CEO,250,blue\n"
        ",b@acme.example,CTO,10,red\n"
        "102,c@acme.example,,,\n"
    )
    summary = import_leads(store, path)
    assert (summary.accepted, summary.rejected) == (2, 1)
    assert (summary.rejects[0].line, summary.rejects[0].field) == (3, "lead_id")
    assert store.lead("101") == {
        "email": "a@acme.example",
        "job_title": "CEO",
        "company_size": "250",
        "favourite_color": "blue",
    }
    assert store.lead("102") == {"email": "c@acme.example"}


def test_lead_updates_merge_attributes(tmp_path: Path, store: Store) -> None:
    first = write_lines(
        tmp_path / "a.jsonl", [{"lead_id": "L1", "email": "a@x.example", "phone": "1"}]
    )
    second = write_lines(tmp_path / "b.jsonl", [{"id": "L1", "phone": "2", "country": "DK"}])
    import_leads(store, first)
    import_leads(store, second)
    assert store.lead("L1") == {"email": "a@x.example", "phone": "2", "country": "DK"}


def test_events_csv(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "message_id,lead_id,type,event,timestamp,premium\n"
        "c1,L1,track,Content Downloaded,2026-03-01T10:00:00Z,true\n"
        "c2,L1,page,,2026-03-01T10:00:00Z,\n"
    )
    summary = import_events(store, path, now_us=NOW)
    assert (summary.accepted, summary.rejected) == (2, 0)
    events = list(store.lead_events("L1"))
    assert {e.message_id: e.properties for e in events} == {"c1": {"premium": "true"}, "c2": {}}


def test_unknown_file_type(tmp_path: Path, store: Store) -> None:
    with pytest.raises(InputError, match=r"unknown file type '\.xlsx'"):
        import_leads(store, tmp_path / "leads.xlsx")


def _mixed_lines(count: int, seed: int) -> list[object]:
    """Lines as a busy site sends them: plain events of leads and visitors, with user agents
    and campaigns, identify calls linking visitors, a message id now and then repeated, and
    bad lines of several kinds."""
    rng = random.Random(seed)
    lines: list[object] = []
    for _ in range(count):
        lead, visitor = f"L{rng.randrange(40)}", f"a{rng.randrange(60)}"
        stamp = f"2026-02-{rng.randrange(1, 28):02d}T1{rng.randrange(10)}:00:0{rng.randrange(10)}Z"
        message: dict[str, object] = {
            "type": rng.choice(["track", "page", "screen"]),
            "messageId": f"m{rng.randrange(count)}",
            "timestamp": stamp,
            "properties": rng.choice([{}, {"path": "/pricing"}, {"n": rng.randrange(9)}]),
        }
        message["event" if message["type"] == "track" else "name"] = "Demo Requested"
        who = rng.random()
        if who < 0.6:
            message["userId"] = lead
        if who > 0.4:
            message["anonymousId"] = visitor
        if rng.random() < 0.3:
            message["context"] = {"userAgent": rng.choice(["Mozilla/5.0", "Googlebot/2.1"])}
        if rng.random() < 0.05:
            message["context"] = {"campaign": {"name": "spring", "source": "ads"}}
        kind = rng.random()
        if kind < 0.08:
            message = {"type": "identify", "userId": lead, "anonymousId": visitor,
                       "traits": {"plan": rng.choice(["pro", "free"])}}  # fmt: skip
        elif kind < 0.12:
            message["timestamp"] = rng.choice(["2026-02-30T10:00:00Z", "yesterday", None])
        elif kind < 0.14:
            message["userId"] = rng.choice([7, "a/b", ""])
        lines.append(message if kind > 0.015 else "{not json")
    return lines


def _contents(store: Store) -> dict[str, object]:
    """What an import left, compared as values (properties as the JSON they spell), sorted
    here (the databases collate text differently)."""
    with store.engine.connect() as conn:
        events = conn.exec_driver_sql(
            "SELECT message_id, lead_id, anonymous_id, type, event, timestamp, properties "
            "FROM events"
        ).all()
        identities = conn.exec_driver_sql("SELECT anonymous_id, lead_id FROM identities").all()
        leads = conn.exec_driver_sql("SELECT lead_id, attributes FROM leads").all()
    return {
        "events": sorted(
            (*row[:6], json.dumps(json.loads(row[6]), sort_keys=True)) for row in events
        ),
        "identities": sorted(tuple(row) for row in identities),
        "leads": sorted((row[0], json.dumps(json.loads(row[1]), sort_keys=True)) for row in leads),
    }


def test_reading_in_bulk_stores_what_reading_line_by_line_stores(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same 1,500 mixed lines imported line by line into a new SQLite database, and with
    the plain events read in bulk into each database: the same rejects (line, field,
    reason), counts, events, links and leads."""
    path = write_lines(tmp_path / "mixed.jsonl", _mixed_lines(1_500, seed=3))
    monkeypatch.setattr(message_lines, "MIN_LINES", 10**9)
    reference = Store.open(f"sqlite:///{tmp_path / 'line-by-line.sqlite'}")
    expected = import_events(reference, path, now_us=NOW, workers=0)
    monkeypatch.setattr(message_lines, "MIN_LINES", 1)
    vouched = message_lines.vouched_events(list(enumerate(path.read_text().splitlines(), 1)), NOW)
    assert len(vouched) > 700, "most lines are plain events, read in bulk"
    summary = import_events(store, path, now_us=NOW, workers=0)
    assert summary.rejects == expected.rejects and summary.rejected > 50
    counts = (summary.accepted, summary.new, summary.calls)
    assert counts == (expected.accepted, expected.new, expected.calls)
    assert _contents(store) == _contents(reference)
    reference.close()


def test_a_visitor_belongs_to_the_first_lead_it_is_seen_with(
    tmp_path: Path, store: Store, workers: int
) -> None:
    """Visitor a1 comes with L1 (line 1), then with L2 (lines 2 and 4, one an identify):
    its events count for L1, as they would had the lines come one per import."""
    lines = [
        {**GOOD, "anonymousId": "a1"},
        {**GOOD, "messageId": "m2", "userId": "L2", "anonymousId": "a1"},
        {**GOOD, "messageId": "m3", "userId": None, "anonymousId": "a1"},
        {"type": "identify", "userId": "L2", "anonymousId": "a1", "traits": {"plan": "pro"}},
    ]
    import_events(store, write_lines(tmp_path / "e.jsonl", lines), now_us=NOW, workers=workers)
    assert sorted(e.message_id for e in store.lead_events("L1")) == ["m1", "m3"]
    assert [e.message_id for e in store.lead_events("L2")] == ["m2"]
