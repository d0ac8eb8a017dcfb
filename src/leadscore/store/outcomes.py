"""Outcomes, sales feedback and erasure: what the CRM side tells leadscore about a lead."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, get_args

import pyarrow as pa
import sqlalchemy as sa

from leadscore._types import Outcome, Verdict, now_us
from leadscore.errors import InputError, NotFoundError
from leadscore.store import schema
from leadscore.store.sql import chunks
from leadscore.store.store import Store

OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)


def _known(conn: sa.Connection, lead_id: str) -> None:
    leads = schema.leads
    if conn.execute(sa.select(leads.c.lead_id).where(leads.c.lead_id == lead_id)).first() is None:
        raise NotFoundError(f"lead {lead_id!r} is not in the database")


def record_outcome(
    store: Store, lead_id: str, outcome: str, at: int | None = None, value: float | None = None
) -> dict[str, Any]:
    """Record what became of a lead; ``at`` defaults to now."""
    if outcome not in OUTCOMES:
        raise InputError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    row = {
        "lead_id": lead_id,
        "outcome": outcome,
        "value": value,
        "at": now_us() if at is None else at,
        "recorded_at": now_us(),
    }
    with store.engine.begin() as conn:
        _known(conn, lead_id)
        conn.execute(schema.outcomes.insert().values(**row))
    return row


def record_new_outcomes(
    conn: sa.Connection, outcomes: Sequence[tuple[str, Outcome]], at: int
) -> int:
    """Record (lead, outcome) pairs at ``at``, in ``conn``'s transaction, except those the
    lead already has (importing the same CRM export twice records each once); returns how
    many were recorded."""
    table = schema.outcomes
    wanted = sorted(set(outcomes))
    known: set[tuple[str, str]] = set()
    for chunk in chunks(sorted({lead for lead, _ in wanted})):
        query = sa.select(table.c.lead_id, table.c.outcome).where(table.c.lead_id.in_(chunk))
        known.update((row.lead_id, row.outcome) for row in conn.execute(query))
    rows = [
        {"lead_id": lead, "outcome": outcome, "value": None, "at": at, "recorded_at": now_us()}
        for lead, outcome in wanted
        if (lead, outcome) not in known
    ]
    if rows:
        conn.execute(table.insert(), rows)
    return len(rows)


def record_feedback(store: Store, lead_id: str, verdict: str, note: str = "") -> dict[str, Any]:
    """Record sales' verdict on a lead, now."""
    if verdict not in VERDICTS:
        raise InputError(f"feedback {verdict!r} is not one of {', '.join(VERDICTS)}")
    row = {"lead_id": lead_id, "verdict": verdict, "note": note, "at": now_us()}
    with store.engine.begin() as conn:
        _known(conn, lead_id)
        conn.execute(schema.feedback.insert().values(**row))
    return row


def lead_records(store: Store, lead_id: str) -> dict[str, list[dict[str, Any]]]:
    """The lead's outcomes and feedback, oldest first."""
    with store.engine.connect() as conn:
        found = {}
        for name, table in (("outcomes", schema.outcomes), ("feedback", schema.feedback)):
            query = sa.select(table).where(table.c.lead_id == lead_id).order_by(table.c.id)
            found[name] = [dict(row._mapping) for row in conn.execute(query)]
        return found


def erase_lead(store: Store, lead_id: str) -> int:
    """Delete the lead and everything about it (attributes and their history, its events and
    those of the anonymous ids linked to it, identities, stage history, kept results,
    outcomes, feedback, webhook deliveries about it, sent or not, what was exported of it)
    in one transaction, and leave one audit row that holds a digest of the id, the number of
    rows deleted and the time. Returns the number of rows deleted."""
    deleted = 0
    s = schema
    with store.engine.begin() as conn:
        _known(conn, lead_id)
        anonymous = sa.select(s.identities.c.anonymous_id).where(s.identities.c.lead_id == lead_id)
        deliveries = sa.select(s.webhook_deliveries.c.delivery_id).where(
            s.webhook_deliveries.c.lead_id == lead_id
        )
        statements = [
            s.events.delete().where(
                s.events.c.lead_id.is_(None), s.events.c.anonymous_id.in_(anonymous)
            ),
            s.events.delete().where(s.events.c.lead_id == lead_id),
            s.identities.delete().where(s.identities.c.lead_id == lead_id),
            s.lead_versions.delete().where(s.lead_versions.c.lead_id == lead_id),
            s.stage_transitions.delete().where(s.stage_transitions.c.lead_id == lead_id),
            s.lead_scores.delete().where(s.lead_scores.c.lead_id == lead_id),
            s.outcomes.delete().where(s.outcomes.c.lead_id == lead_id),
            s.feedback.delete().where(s.feedback.c.lead_id == lead_id),
            s.unscored_leads.delete().where(s.unscored_leads.c.lead_id == lead_id),
            s.crm_exports.delete().where(s.crm_exports.c.lead_id == lead_id),
            s.webhook_attempts.delete().where(s.webhook_attempts.c.delivery_id.in_(deliveries)),
            s.webhook_deliveries.delete().where(s.webhook_deliveries.c.lead_id == lead_id),
            s.leads.delete().where(s.leads.c.lead_id == lead_id),
        ]
        for statement in statements:
            deleted += conn.execute(statement).rowcount
        conn.execute(
            s.erasures.insert().values(
                lead_digest=hashlib.sha256(lead_id.encode()).hexdigest(),
                rows_deleted=deleted,
                at=now_us(),
            )
        )
    return deleted


def outcomes_arrow(store: Store) -> pa.Table:
    """Every recorded outcome (lead_id, outcome, at), oldest first: what reports and
    backtests measure a model's stages against."""
    table = schema.outcomes
    query = sa.select(table.c.lead_id, table.c.outcome, table.c.at).order_by(table.c.at, table.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pa.table(
        {
            "lead_id": pa.array([r.lead_id for r in rows], pa.string()),
            "outcome": pa.array([r.outcome for r in rows], pa.string()),
            "at": pa.array([int(r.at) for r in rows], pa.int64()),
        }
    )


def sales_actions_arrow(store: Store, model: str) -> pa.Table:
    """What sales did about leads, each at its instant (lead_id, at, kind): feedback given,
    an outcome recorded, a recycle under ``model``. The first one after a hand-over is how
    long sales took to act on it (the SLA report)."""
    feedback, outcomes, moves = schema.feedback, schema.outcomes, schema.stage_transitions
    query = sa.union_all(
        sa.select(feedback.c.lead_id, feedback.c.at, sa.literal("feedback").label("kind")),
        sa.select(outcomes.c.lead_id, outcomes.c.at, outcomes.c.outcome.label("kind")),
        sa.select(moves.c.lead_id, moves.c.at, sa.literal("recycle").label("kind")).where(
            moves.c.model == model, moves.c.kind == "recycle"
        ),
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pa.table(
        {
            "lead_id": pa.array([r.lead_id for r in rows], pa.string()),
            "at": pa.array([int(r.at) for r in rows], pa.int64()),
            "kind": pa.array([r.kind for r in rows], pa.string()),
        }
    )
