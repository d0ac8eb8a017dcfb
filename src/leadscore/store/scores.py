"""Each lead's latest result per model: what the service keeps current as events arrive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from leadscore.store import schema
from leadscore.store.lead_search import matching
from leadscore.store.predictions import score_tenths
from leadscore.store.sql import chunks, insert_rows, one_of
from leadscore.store.store import Store

COLUMNS = ("lead_id", "model", "fit", "engagement", "score", "tier", "grade", "stage", "as_of")


def save_scores(conn: sa.Connection, results: pa.Table, at: int) -> None:
    """Keep ``results`` (``COLUMNS`` but ``as_of``) as scored at ``at``, replacing the kept
    result of each (lead, model) in them, in ``conn``'s transaction."""
    if not results.num_rows:
        return
    columns = [results[name].to_pylist() for name in COLUMNS[:-1]]
    rows = [(*row, at) for row in zip(*columns, strict=True)]
    insert_rows(conn, schema.lead_scores, COLUMNS, rows, keys=("lead_id", "model"), replace=True)


def forget_scores(
    conn: sa.Connection, models: Sequence[str], lead_ids: Sequence[str], results: pa.Table
) -> None:
    """Delete the kept result of each of ``lead_ids`` under each of ``models`` that
    ``results`` (scored for those leads) has no row for, in ``conn``'s transaction."""
    table = schema.lead_scores
    for model in models:
        mine = results.filter(pc.equal(results["model"], model))
        gone = sorted(set(lead_ids) - set(mine["lead_id"].to_pylist()))
        if gone:
            conn.execute(
                table.delete().where(table.c.model == model, one_of(conn, table.c.lead_id, gone))
            )


def model_scores(store: Store, model: str) -> list[dict[str, Any]]:
    """Every lead's kept result under ``model`` (``COLUMNS``), best score first."""
    table = schema.lead_scores
    query = (
        sa.select(*(table.c[name] for name in COLUMNS))
        .where(table.c.model == model)
        .order_by(table.c.score.desc(), table.c.lead_id)
    )
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def stored_scores(store: Store, lead_id: str) -> list[dict[str, Any]]:
    """The lead's stored results, one per model, in model order."""
    table = schema.lead_scores
    query = sa.select(table).where(table.c.lead_id == lead_id).order_by(table.c.model)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def kept_scores(
    conn: sa.Connection, models: Sequence[str], lead_ids: Sequence[str] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """The kept score, tier and stage of these leads (None: all) under these models, by
    (lead_id, model): what a change is compared with."""
    table = schema.lead_scores
    query = sa.select(table.c.lead_id, table.c.model, table.c.score, table.c.tier, table.c.stage)
    query = query.where(table.c.model.in_(list(models)))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if lead_ids is not None:
        query = query.where(one_of(conn, table.c.lead_id, lead_ids))
    for row in conn.execute(query):
        found[(row.lead_id, row.model)] = {"score": row.score, "tier": row.tier, "stage": row.stage}
    return found


def newer_models(
    conn: sa.Connection, models: Sequence[str], at: int, lead_ids: Sequence[str] | None = None
) -> list[str]:
    """The models whose kept results (of ``lead_ids``; None: of any lead) are newer than
    ``at``: scoring the past must not replace them. A rescoring round asks about its own
    leads, read by the primary key: asking about every lead read all of a model's results
    each round (0.9 s at 1,000,000 leads on SQLite)."""
    table = schema.lead_scores
    query = sa.select(table.c.model).where(table.c.model.in_(list(models)))
    if lead_ids is not None:
        query = query.where(one_of(conn, table.c.lead_id, lead_ids))
    query = query.group_by(table.c.model).having(sa.func.max(table.c.as_of) > at)
    return sorted(conn.execute(query).scalars())


def replace_scores(conn: sa.Connection, results: pa.Table, at: int) -> None:
    """Keep a batch run's results (``score_all``'s table) as each lead's current result, model
    by model, in ``conn``'s transaction: leads no longer there lose their kept result."""
    table = schema.lead_scores
    for model in pc.unique(results["model"]).to_pylist():
        conn.execute(table.delete().where(table.c.model == model))
        mine = results.filter(pc.equal(results["model"], model))
        rows = mine.select(list(COLUMNS[:-1])).to_pylist()
        for start in range(0, len(rows), 10_000):
            chunk = rows[start : start + 10_000]
            conn.execute(table.insert(), [{**row, "as_of": at} for row in chunk])


def _attribute(store: Store, name: str) -> sa.ColumnElement[str]:
    """A lead attribute as text in SQL (attributes are JSON text; SQLite cannot CAST to JSON)."""
    if store.engine.dialect.name == "sqlite":
        found: sa.ColumnElement[str] = sa.func.json_extract(
            schema.leads.c.attributes, f'$."{name}"', type_=sa.String()
        )
        return found
    as_json = sa.cast(schema.leads.c.attributes, sa.JSON)
    text: sa.ColumnElement[str] = as_json[name].as_string()
    return text


#: How the ranked list may be ordered, each highest first: by score (the ranking), or by what
#: the lead does; each reads an index in its order.
ORDERS = ("score", "engagement", "chance")
_ORDER_COLUMNS: dict[str, tuple[sa.ColumnElement[int], sa.ColumnElement[int]]] = {
    "score": (
        schema.lead_scores.c.score,
        schema.lead_scores.c.fit + schema.lead_scores.c.engagement,
    ),
    "engagement": (schema.lead_scores.c.engagement, schema.lead_scores.c.score),
}


def order_key(row: dict[str, Any], order: str = "score") -> tuple[int, int, str]:
    """A kept result's place in ``order``: its two numbers and its lead id (what a page's
    cursor holds)."""
    score, fit, engagement = int(row["score"]), int(row["fit"]), int(row["engagement"])
    if order == "chance":  # the kept prediction's 0-100 score in tenths, then the points
        return int(row["chance_tenths"]), score, str(row["lead_id"])
    numbers = {"score": (score, fit + engagement), "engagement": (engagement, score)}[order]
    return numbers[0], numbers[1], str(row["lead_id"])


def ranked_scores(
    store: Store,
    model: str,
    *,
    tier: str | None = None,
    stage: str | None = None,
    grade: str | None = None,
    owner: str | None = None,
    text: str | None = None,
    after: tuple[int, int, str] | None = None,
    limit: int = 50,
    order: str = "score",
    chance_of: str | None = None,
    chance_min: float | None = None,
) -> list[dict[str, Any]]:
    """Leads as they rank (``semantics.ranking``): by score, highest first, then by the
    unclipped total (fit plus engagement: leads the clip puts at 100 still come in order),
    then by lead id; with ``order`` "engagement", by engagement, then by score, then by lead
    id (``ORDERS``). With the filters given (``owner``: the lead's ``owner``
    attribute; ``text``: a piece of the id, name, email or company,
    ``lead_search.matching``). ``after`` is the two ordering numbers and the lead id of
    the last row of the previous page (``order_key``; keyset pagination, so pages stay
    stable while scores change). Each order reads an index in its order.

    ``chance_of``: a trained model whose kept predictions (``store.predictions``) each row
    carries (``chance``, the probability; ``chance_tenths``, the 0-100 score in tenths;
    ``chance_as_of``, when it was computed); order
    "chance" ranks by them, then by score, and lists only leads with a prediction;
    ``chance_min`` keeps leads whose prediction scores at least that (0-100)."""
    table, leads, kept = schema.lead_scores, schema.leads, schema.predictions
    chance = [
        kept.c.probability.label("chance"),
        kept.c.score_tenths.label("chance_tenths"),
        kept.c.as_of.label("chance_as_of"),
    ]
    query = (
        sa.select(table, leads.c.attributes, *(chance if chance_of is not None else []))
        .join(leads, leads.c.lead_id == table.c.lead_id)
        .where(table.c.model == model)
    )
    if chance_of is not None:
        on = sa.and_(kept.c.lead_id == table.c.lead_id, kept.c.model == chance_of)
        inner = order == "chance" or chance_min is not None
        query = query.join(kept, on, isouter=not inner)
        if chance_min is not None:
            query = query.where(kept.c.score_tenths >= score_tenths(chance_min))
    for column, value in ((table.c.tier, tier), (table.c.stage, stage), (table.c.grade, grade)):
        if value is not None:
            query = query.where(column == value)
    if owner is not None:
        query = query.where(_attribute(store, "owner") == owner)
    first, second = (
        (kept.c.score_tenths, table.c.score) if order == "chance" else _ORDER_COLUMNS[order]
    )
    if after is not None:
        one, two, lead_id = after
        query = query.where(
            sa.or_(
                first < one,
                sa.and_(first == one, second < two),
                sa.and_(first == one, second == two, table.c.lead_id > lead_id),
            )
        )
    with store.engine.connect() as conn:
        found = matching(conn, text) if text else None
        if isinstance(found, list):  # few matches: read them by id and rank them here (in
            # SQL the planner would walk the rank index past every other lead to keep order)
            rows = [
                dict(row._mapping)
                for part in chunks(found)
                for row in conn.execute(query.where(table.c.lead_id.in_(part)))
            ]
            rows.sort(key=lambda r: (*(-n for n in order_key(r, order)[:2]), r["lead_id"]))
            return rows[:limit]
        if found is not None:
            query = query.where(found)
        query = query.order_by(first.desc(), second.desc(), table.c.lead_id).limit(limit)
        return [dict(row._mapping) for row in conn.execute(query)]


def account_scores(
    store: Store,
    model: str,
    engaged_min: int,
    *,
    account_id: str | None = None,
    after: tuple[int, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Accounts under ``model`` from their leads' kept results, most engaged first (ties by
    account id): leads, engaged leads (engagement at least ``engaged_min`` milli-points), fit
    and score (the best lead's), engagement (summed). ``after`` is the (engagement,
    account_id) of the previous page's last row (keyset pagination); ``account_id``: only it."""
    table, leads = schema.lead_scores, schema.leads
    engagement = sa.func.sum(table.c.engagement)
    query = (
        sa.select(
            leads.c.account_id,
            sa.func.count().label("leads"),
            sa.func.sum(sa.case((table.c.engagement >= engaged_min, 1), else_=0)).label(
                "engaged_leads"
            ),
            sa.func.max(table.c.fit).label("fit"),
            engagement.label("engagement"),
            sa.func.max(table.c.score).label("score"),
        )
        .join(leads, leads.c.lead_id == table.c.lead_id)
        .where(table.c.model == model, leads.c.account_id.is_not(None))
        .group_by(leads.c.account_id)
    )
    if account_id is not None:
        query = query.where(leads.c.account_id == account_id)
    if after is not None:
        total, last = after
        query = query.having(
            sa.or_(engagement < total, sa.and_(engagement == total, leads.c.account_id > last))
        )
    query = query.order_by(engagement.desc(), leads.c.account_id).limit(limit)
    with store.engine.connect() as conn:
        return [
            {
                **row._mapping,
                "engagement": int(row.engagement),
                "engaged_leads": int(row.engaged_leads),
            }
            for row in conn.execute(query)
        ]


def account_leads(
    store: Store, model: str, account_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each account's leads with their kept results under ``model``, best score first (one
    query a chunk of accounts, not one an account)."""
    table, leads = schema.lead_scores, schema.leads
    found: dict[str, list[dict[str, Any]]] = {account_id: [] for account_id in account_ids}
    with store.engine.connect() as conn:
        for chunk in chunks(list(account_ids)):
            query = (
                sa.select(table, leads.c.attributes, leads.c.account_id.label("account"))
                .join(leads, leads.c.lead_id == table.c.lead_id)
                .where(table.c.model == model, leads.c.account_id.in_(chunk))
                .order_by(table.c.score.desc(), table.c.lead_id)
            )
            for row in conn.execute(query):
                values = dict(row._mapping)
                found[values.pop("account")].append(values)
    return found
