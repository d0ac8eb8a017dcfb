"""The 365 Data Science event logs as a leadscore project: students are leads, their dated
activities are Segment track events, purchases are "converted" outcomes. Shared by the tests and
the predictive benchmark; the data stays in ../shared/data."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from leadscore.app.project import Project
from leadscore.store.ingest import import_events, import_leads, import_outcomes

FOLDER = Path(__file__).resolve().parents[3] / "shared" / "data" / "learn365_challenge"

#: file -> (event name, date column, properties kept)
ACTIVITIES = {
    "365_student_learning.csv": (
        "Lesson Watched",
        "date_watched",
        ("course_id", "minutes_watched"),
    ),
    "365_student_engagement.csv": (
        "Platform Engaged",
        "date_engaged",
        ("engagement_quizzes", "engagement_exams", "engagement_lessons"),
    ),
    "365_student_exams.csv": ("Exam Completed", "date_exam_completed", ("exam_id", "exam_result")),
    "365_student_hub_questions.csv": ("Question Asked", "date_question_asked", ()),
    "365_course_ratings.csv": ("Course Rated", "date_rated", ("course_id", "course_rating")),
}


def _rows(name: str) -> Iterator[dict[str, str]]:
    with (FOLDER / name).open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _events(limit: set[str] | None) -> Iterator[dict[str, object]]:
    for row in _rows("365_student_info.csv"):
        if limit is None or row["student_id"] in limit:
            yield _track(
                row["student_id"],
                "Registered",
                row["date_registered"],
                {},
                f"reg:{row['student_id']}",
            )
    for name, (event, column, keep) in ACTIVITIES.items():
        for number, row in enumerate(_rows(name)):
            if limit is None or row["student_id"] in limit:
                properties = {key: row[key] for key in keep}
                yield _track(row["student_id"], event, row[column], properties, f"{name}:{number}")


def _track(
    student: str, event: str, day: str, properties: dict[str, str], key: str
) -> dict[str, object]:
    return {
        "type": "track",
        "userId": student,
        "event": event,
        "timestamp": f"{day}T00:00:00Z",
        "messageId": key,
        "properties": properties,
    }


def build(root: Path, limit: int | None = None) -> Project:
    """A project at ``root`` holding the students (the first ``limit`` by id when given)."""
    project = Project.init(root)
    students = list(_rows("365_student_info.csv"))
    if limit is not None:
        students = students[:limit]
    chosen = None if limit is None else {row["student_id"] for row in students}
    leads = root / "students.csv"
    with leads.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lead_id", "country"])
        writer.writerows([row["student_id"], row["student_country"]] for row in students)
    events = root / "events.jsonl"
    with events.open("w", encoding="utf-8") as handle:
        for message in _events(chosen):
            handle.write(json.dumps(message) + "\n")
    outcomes = root / "outcomes.csv"
    with outcomes.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lead_id", "outcome", "at"])
        writer.writerows(
            [row["student_id"], "converted", row["date_purchased"]]
            for row in _rows("365_student_purchases.csv")
            if chosen is None or row["student_id"] in chosen
        )
    with project.store() as store:
        import_leads(store, leads, mapping="none")
        stored = import_events(store, events)
        # every activity is a message of its own: none may be taken for a repeat of another
        assert stored.new == stored.accepted and stored.rejected == 0, stored.rejects[:3]
        summary = import_outcomes(store, outcomes)
        assert summary.rejected == 0, summary.rejects[:3]
    return project
