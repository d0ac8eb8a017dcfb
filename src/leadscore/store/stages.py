"""The stage history: every lifecycle change of a lead under a model, appended and never
rewritten, and each lead's recorded stage and last recycle as of an instant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from leadscore._types import TransitionKind, now_us
from leadscore.store import schema
from leadscore.store.database import Database
from leadscore.store.sql import among_named


@dataclass(frozen=True, slots=True)
class StageTransition:
    """One recorded lifecycle change of a lead under a model, at an instant (UTC µs)."""

    lead_id: str
    model: str
    at: int
    from_stage: str | None
    to_stage: str
    kind: TransitionKind
    reason: str


#: Per lead, the last recorded stage and the last recycle at or before :as_of, for one model.
_LIFECYCLE = (
    "SELECT t.lead_id, t.to_stage AS stage, r.recycled_at FROM ("
    "SELECT lead_id, to_stage, ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY at DESC, id DESC)"
    " AS rn FROM stage_transitions WHERE model = :model AND at <= :as_of{lead}) t "
    "LEFT JOIN (SELECT lead_id, MAX(at) AS recycled_at FROM stage_transitions "
    "WHERE model = :model AND kind = 'recycle' AND at <= :as_of{lead} GROUP BY lead_id) r "
    "ON r.lead_id = t.lead_id WHERE t.rn = 1"
)


class StageStore(Database):
    """The stage_transitions table."""

    def record_transitions(
        self, rows: Sequence[StageTransition], conn: sa.Connection | None = None
    ) -> int:
        """Append lifecycle changes (the history is never rewritten); returns rows written."""
        if not rows:
            return 0
        now = now_us()
        with self.begin(conn) as conn:
            conn.execute(
                schema.stage_transitions.insert(),
                [
                    {
                        "lead_id": row.lead_id,
                        "model": row.model,
                        "at": row.at,
                        "from_stage": row.from_stage,
                        "to_stage": row.to_stage,
                        "kind": row.kind,
                        "reason": row.reason,
                        "recorded_at": now,
                    }
                    for row in rows
                ],
            )
        return len(rows)

    def transitions(self, lead_id: str, model: str | None = None) -> list[StageTransition]:
        """A lead's recorded lifecycle changes, oldest first (all models unless one is named)."""
        table = schema.stage_transitions
        query = sa.select(table).where(table.c.lead_id == lead_id)
        if model is not None:
            query = query.where(table.c.model == model)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(table.c.at, table.c.id)).all()
        return [
            StageTransition(r.lead_id, r.model, r.at, r.from_stage, r.to_stage, r.kind, r.reason)
            for r in rows
        ]

    def last_transition_at(self, model: str) -> int | None:
        """The instant of the model's latest recorded transition, for any lead."""
        table = schema.stage_transitions
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.max(table.c.at)).where(table.c.model == model)
            ).scalar_one()
        return None if value is None else int(value)

    def lifecycle(self, lead_id: str, model: str, as_of: int) -> tuple[str | None, int | None]:
        """The lead's recorded stage and last recycle instant as of ``as_of`` (None: none)."""
        return self.lifecycles(model, as_of, [lead_id]).get(lead_id, (None, None))

    def lifecycles(
        self, model: str, as_of: int, lead_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[str | None, int | None]]:
        """Each lead's recorded stage and last recycle instant as of ``as_of``, for the leads
        given (None: every lead); leads with nothing recorded are absent."""
        if lead_ids is not None and not lead_ids:
            return {}
        values: dict[str, Any] = {"model": model, "as_of": as_of}
        with self.engine.connect() as conn:
            if lead_ids is None:
                query = sa.text(_LIFECYCLE.format(lead=""))
            else:
                test, ids = among_named(conn, "lead_id", "ids", lead_ids)
                query = sa.text(_LIFECYCLE.format(lead=f" AND {test}")).bindparams(ids)
            return {
                row.lead_id: (row.stage, None if row.recycled_at is None else int(row.recycled_at))
                for row in conn.execute(query, values)
            }

    def lifecycle_arrow(
        self, model: str, as_of: int, lead_ids: Sequence[str] | None = None
    ) -> pa.Table:
        """``lifecycles`` as an Arrow table for the batch engine: lead_id, stage,
        recycled_at."""
        found = self.lifecycles(model, as_of, lead_ids)
        return pa.table(
            {
                "lead_id": pa.array(list(found), pa.string()),
                "stage": pa.array([stage for stage, _ in found.values()], pa.string()),
                "recycled_at": pa.array([at for _, at in found.values()], pa.int64()),
            }
        )

    def recorded_moves(self, model: str, until: int) -> pa.Table:
        """The CRM stages and recycles recorded under ``model`` at or before ``until``, in the
        order the history reads them (instant, then id): what a backtest replays as
        recorded, while the model's own advances and withdrawals are replayed anew."""
        table = schema.stage_transitions
        query = (
            sa.select(table.c.lead_id, table.c.at, table.c.to_stage, table.c.kind)
            .where(
                table.c.model == model,
                table.c.kind.in_(["crm", "recycle"]),
                table.c.at <= until,
            )
            .order_by(table.c.at, table.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return pa.table(
            {
                "lead_id": pa.array([r.lead_id for r in rows], pa.string()),
                "at": pa.array([int(r.at) for r in rows], pa.int64()),
                "to_stage": pa.array([r.to_stage for r in rows], pa.string()),
                "kind": pa.array([r.kind for r in rows], pa.string()),
            }
        )
