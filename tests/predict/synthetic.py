"""A small synthetic company for predictive tests: leads whose interest drives both their
behaviour (webinars, pricing page views) and their chance of converting, so a model has real
signal to find; written as the files a user would import."""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 180


@dataclass(frozen=True)
class Files:
    leads: Path
    events: Path
    outcomes: Path


def _at(day: float) -> str:
    return (START + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(folder: Path, leads: int = 1200, seed: int = 7) -> Files:
    """leads.csv, events.jsonl and outcomes.csv in ``folder``."""
    rng = random.Random(seed)
    lead_rows, events, outcomes = [], [], []
    for number in range(leads):
        lead_id = f"L-{number:05d}"
        plan = "pro" if rng.random() < 0.4 else "free"
        interest = rng.random() * (1.6 if plan == "pro" else 1.0)
        domain = "gmail.com" if rng.random() < 0.4 else f"company{number % 50}.com"
        lead_rows.append(
            {
                "lead_id": lead_id,
                "email": f"person{number}@{domain}",
                "plan": plan,
                "company_size": str(int(10 ** rng.uniform(1, 3))),
            }
        )
        first = rng.uniform(0, DAYS - 40)
        events.append(_track(lead_id, "Signed Up", first, f"{lead_id}-signup"))
        converted_at = None
        day = first
        while True:
            day += rng.expovariate(0.05 + 0.4 * interest)
            if day >= DAYS:
                break
            if rng.random() < 0.5:
                events.append(_track(lead_id, "Webinar Attended", day, f"{lead_id}-w{day:.5f}"))
            else:
                events.append(_page(lead_id, "/pricing", day, f"{lead_id}-p{day:.5f}"))
            if converted_at is None and rng.random() < 0.06 * interest**2:
                converted_at = day + rng.uniform(0.5, 10)
        if converted_at is not None and converted_at < DAYS:
            outcomes.append({"lead_id": lead_id, "outcome": "converted", "at": _at(converted_at)})
    files = Files(folder / "leads.csv", folder / "events.jsonl", folder / "outcomes.csv")
    _csv(files.leads, lead_rows)
    _csv(files.outcomes, outcomes)
    with files.events.open("w", encoding="utf-8") as handle:
        for message in events:
            handle.write(json.dumps(message) + "\n")
    return files


def _track(lead_id: str, event: str, day: float, message_id: str) -> dict[str, object]:
    return {
        "type": "track",
        "userId": lead_id,
        "event": event,
        "timestamp": _at(day),
        "messageId": message_id,
    }


def _page(lead_id: str, path: str, day: float, message_id: str) -> dict[str, object]:
    return {
        "type": "page",
        "userId": lead_id,
        "name": "Pricing",
        "timestamp": _at(day),
        "messageId": message_id,
        "properties": {"path": path},
    }


def _csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def write_feedback(folder: Path, files: Files, seed: int = 11) -> Path:
    """feedback.csv: what sales said of 40 % of the leads, at a random day between their first
    event and their conversion (or the end of the data). Sales are right more often than not
    (good fit for 75 % of the leads that go on to convert, bad fit or not interested for 75 %
    of the others): they know something the events do not show."""
    rng = random.Random(seed)
    first: dict[str, str] = {}
    for line in files.events.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        lead, at = message["userId"], message["timestamp"]
        first[lead] = min(first.get(lead, at), at)
    with files.outcomes.open(encoding="utf-8") as handle:
        converted = {row["lead_id"]: row["at"] for row in csv.DictReader(handle)}
    rows = []
    for lead, start in sorted(first.items()):
        if rng.random() >= 0.4:
            continue
        begin = (datetime.fromisoformat(start) - START).total_seconds() / 86400
        end = DAYS
        if lead in converted:
            end = (datetime.fromisoformat(converted[lead]) - START).total_seconds() / 86400
        if end <= begin:
            continue
        right = rng.random() < 0.75
        if (lead in converted) == right:
            verdict = "good_fit"
        else:
            verdict = "bad_fit" if rng.random() < 0.5 else "not_interested"
        rows.append({"lead_id": lead, "verdict": verdict, "at": _at(rng.uniform(begin, end))})
    path = folder / "feedback.csv"
    _csv(path, rows)
    return path
