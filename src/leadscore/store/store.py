"""Store: leads, identities and events in a SQL database (embedded SQLite by default).

Writes go through SQLAlchemy Core and are idempotent: an event's ``message_id`` is its key, so
re-importing a file changes nothing. Reads for the batch engine come out as Arrow tables; on
SQLite through the ADBC driver in a child process (``sqlite_arrow``), several times faster
than row-by-row fetching.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from leadscore._types import Event, TransitionKind, now_us
from leadscore.errors import ConfigError, NotFoundError
from leadscore.spec.accounts import account_of
from leadscore.store import migrate, schema
from leadscore.store.sqlite_arrow import read_arrow

#: Events whose lead is known directly or through an identify that linked its anonymous id.
LEADS_SCHEMA = pa.schema(
    [("lead_id", pa.string()), ("attributes", pa.string()), ("account_id", pa.string())]
)
VERSIONS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("valid_from", pa.int64()),
        ("id", pa.int64()),
        ("attributes", pa.string()),
        ("account_id", pa.string()),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("type", pa.string()),
        ("event", pa.string()),
        ("timestamp", pa.int64()),
        ("properties", pa.string()),
    ]
)

RESOLVED_EVENTS = (
    "SELECT COALESCE(e.lead_id, i.lead_id) AS lead_id, e.type, e.event, e.timestamp, "
    "e.properties, e.message_id FROM events e LEFT JOIN identities i "
    "ON e.lead_id IS NULL AND i.anonymous_id = e.anonymous_id "
    "WHERE COALESCE(e.lead_id, i.lead_id) IS NOT NULL"
)

#: The events of some leads, resolved as ``RESOLVED_EVENTS`` resolves them: by their own lead
#: id, or through an anonymous id linked to the lead (each half uses an index). ``{leads}`` is
#: ``:ids`` (an expanding parameter) or a parenthesised subquery.
EVENTS_OF_LEADS = (
    "SELECT lead_id, type, event, timestamp, properties, message_id FROM events "
    "WHERE lead_id IN {leads} UNION ALL SELECT i.lead_id, e.type, e.event, e.timestamp, "
    "e.properties, e.message_id FROM identities i JOIN events e "
    "ON e.anonymous_id = i.anonymous_id AND e.lead_id IS NULL WHERE i.lead_id IN {leads}"
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as written: either a lead id or an anonymous id (or both)."""

    message_id: str
    lead_id: str | None
    anonymous_id: str | None
    type: str
    event: str | None
    timestamp: int
    properties: dict[str, Any]


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


#: ``valid_from`` of a lead's first attributes: they count from the start of time.
EARLIEST = -(2**62)

#: Each lead's attribute version at or before ``{as_of}`` (an integer, written in).
_VERSIONS_AS_OF = (
    "SELECT lead_id, attributes, account_id FROM (SELECT lead_id, attributes, account_id, "
    "ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY valid_from DESC, id DESC) AS rn "
    "FROM lead_versions WHERE valid_from <= {as_of}) v WHERE rn = 1"
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class Store:
    """A leadscore database. Open with ``Store.open(url)``; close with ``close()``."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and create missing tables. ``sqlite:///path.db`` is the embedded default."""
        try:
            engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise ConfigError(f"database URL {url!r} cannot be used: {exc}") from None
        if engine.dialect.name == "sqlite":
            sa_event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine, url)
        store._migrate()
        store._add_store_id()
        return store

    def _migrate(self) -> None:
        """Bring the schema to the newest revision (``store.migrate``). A database made before
        migrations gets the upgrades it always had, then is marked as the baseline."""
        try:
            revision = migrate.current(self.engine)
        except sa.exc.OperationalError as exc:
            raise ConfigError(f"database {self.url!r} cannot be opened: {exc.orig}") from None
        if revision == migrate.head():
            return
        legacy = revision is None and sa.inspect(self.engine).has_table("leads")
        if legacy:
            baseline = [schema.metadata.tables[name] for name in migrate.BASELINE_TABLES]
            schema.metadata.create_all(self.engine, tables=baseline)
            self._add_account_ids()
            self._add_versions()
        migrate.upgrade(self.engine, legacy=legacy)

    def _add_store_id(self) -> None:
        info = schema.store_info
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(info.c.value).where(info.c.key == "store_id")).first()
            if found is None:
                conn.execute(info.insert().values(key="store_id", value=uuid.uuid4().hex))

    @property
    def store_id(self) -> str:
        """This database's random id (see ``schema.store_info``)."""
        info = schema.store_info
        with self.engine.connect() as conn:
            query = sa.select(info.c.value).where(info.c.key == "store_id")
            return str(conn.execute(query).scalar_one())

    def _add_versions(self) -> None:
        """Upgrade a database made before lead history: each lead's current attributes
        become its first version (counting from the start of time)."""
        with self.engine.begin() as conn:
            if conn.execute(sa.text("SELECT 1 FROM lead_versions LIMIT 1")).first() is not None:
                return
            conn.execute(
                sa.text(
                    "INSERT INTO lead_versions (lead_id, valid_from, attributes, account_id) "
                    "SELECT lead_id, :earliest, attributes, account_id FROM leads"
                ),
                {"earliest": EARLIEST},
            )

    def _add_account_ids(self) -> None:
        """Upgrade a database made before leads had ``account_id``: add and fill the column.

        (Schema migrations proper arrive with the PostgreSQL service; this is the one change
        embedded projects have needed so far.)
        """
        columns = {c["name"] for c in sa.inspect(self.engine).get_columns("leads")}
        if "account_id" in columns:
            return
        with self.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE leads ADD COLUMN account_id VARCHAR(255)"))
            conn.execute(sa.text("CREATE INDEX ix_leads_account ON leads (account_id)"))
            rows = conn.execute(sa.text("SELECT lead_id, attributes FROM leads")).all()
            updates = [
                {"lead_id": row.lead_id, "account_id": account_of(json.loads(row.attributes))}
                for row in rows
            ]
            if updates:
                conn.execute(
                    sa.text("UPDATE leads SET account_id = :account_id WHERE lead_id = :lead_id"),
                    updates,
                )

    def defer_checkpoints(self) -> bool:
        """SQLite: stop this store's commits from copying the write-ahead log back into the
        database when it grows (a commit that does it waits ~100 ms for the disk); the caller
        runs ``checkpoint`` in the background instead. False on other databases."""
        if self.engine.dialect.name != "sqlite":
            return False
        sa_event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # pooled connections were opened with it
        return True

    def checkpoint(self) -> tuple[int, int]:
        """SQLite: copy the write-ahead log into the database without blocking readers or
        writers (a passive checkpoint); returns the pages in the log and those copied."""
        with self.engine.connect() as conn:
            _, logged, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(logged), int(copied)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writes ---------------------------------------------------------------------------
    @contextmanager
    def begin(self, conn: sa.Connection | None = None) -> Iterator[sa.Connection]:
        """A transaction: ``conn``'s own when one is given (the caller's transaction takes
        this write too), else a new one committed on leaving."""
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as new:
            yield new

    def upsert_leads(
        self,
        rows: Sequence[tuple[str, dict[str, Any], int | None]],
        conn: sa.Connection | None = None,
    ) -> int:
        """Create leads or merge new attribute values into them, in order; returns how many
        distinct leads were given.

        Each row is (lead_id, attributes, at): a value given replaces the stored one,
        attributes not given are kept. Every change is kept in the lead's history: the first
        attributes a lead is given count from the start of time (importing history after the
        fact must not lose them); a later change counts from ``at`` (None: now), or from the
        lead's latest change when that is later, so history only moves forward.
        """
        if not rows:
            return 0
        now = now_us()
        leads, versions_table = schema.leads, schema.lead_versions
        with self.begin(conn) as conn:
            current: dict[str, dict[str, Any]] = {}
            latest: dict[str, int] = {}
            known: set[str] = set()
            ids = list(dict.fromkeys(row[0] for row in rows))
            # an event only needs its lead to exist: attributes and history are read only
            # for the leads given some
            given = list(dict.fromkeys(row[0] for row in rows if row[1]))
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = sa.select(leads.c.lead_id).where(leads.c.lead_id.in_(chunk))
                known.update(conn.execute(query).scalars())
            for start in range(0, len(given), 500):
                chunk = given[start : start + 500]
                query = sa.select(leads.c.lead_id, leads.c.attributes).where(
                    leads.c.lead_id.in_(chunk)
                )
                current.update(
                    {row.lead_id: json.loads(row.attributes) for row in conn.execute(query)}
                )
                query = (
                    sa.select(versions_table.c.lead_id, sa.func.max(versions_table.c.valid_from))
                    .where(versions_table.c.lead_id.in_(chunk))
                    .group_by(versions_table.c.lead_id)
                )
                latest.update({lead_id: int(at) for lead_id, at in conn.execute(query)})
            changed: set[str] = set()
            versions = []
            for lead_id, attributes, at in rows:
                if not attributes and (lead_id in known or lead_id in current):
                    continue  # it exists (or was just created) and nothing changes
                before = current.get(lead_id)
                combined = {**(before or {}), **attributes}
                if before is not None and combined == before:
                    continue
                if not before:  # the first attributes it is given
                    valid_from = EARLIEST
                else:
                    valid_from = max(now if at is None else at, latest.get(lead_id, EARLIEST))
                current[lead_id] = combined
                latest[lead_id] = valid_from
                changed.add(lead_id)
                versions.append(
                    {
                        "lead_id": lead_id,
                        "valid_from": valid_from,
                        "attributes": json.dumps(combined),
                        "account_id": account_of(combined),
                    }
                )
            for lead_id in sorted(changed & known):
                conn.execute(
                    leads.update()
                    .where(leads.c.lead_id == lead_id)
                    .values(
                        attributes=json.dumps(current[lead_id]),
                        updated_at=now,
                        account_id=account_of(current[lead_id]),
                    )
                )
            inserts = [
                {
                    "lead_id": lead_id,
                    "attributes": json.dumps(current[lead_id]),
                    "updated_at": now,
                    "account_id": account_of(current[lead_id]),
                }
                for lead_id in ids
                if lead_id not in known
            ]
            if inserts:
                conn.execute(leads.insert(), inserts)
            if versions:
                conn.execute(versions_table.insert(), versions)
        return len(ids)

    def link_identities(
        self, pairs: Iterable[tuple[str, str]], conn: sa.Connection | None = None
    ) -> None:
        """Attribute an anonymous id's events to a lead (the first link wins)."""
        with self.begin(conn) as conn:
            for anonymous_id, lead_id in pairs:
                found = conn.execute(
                    sa.select(schema.identities.c.lead_id).where(
                        schema.identities.c.anonymous_id == anonymous_id
                    )
                ).first()
                if found is None:
                    conn.execute(
                        schema.identities.insert().values(
                            anonymous_id=anonymous_id, lead_id=lead_id
                        )
                    )

    def anonymous_leads(
        self, anonymous_ids: Iterable[str], conn: sa.Connection | None = None
    ) -> set[str]:
        """The leads these anonymous ids are linked to (ids not linked yet name none)."""
        ids = list(anonymous_ids)
        found: set[str] = set()
        identities = schema.identities
        with self.begin(conn) as conn:
            for start in range(0, len(ids), 500):
                query = sa.select(identities.c.lead_id).where(
                    identities.c.anonymous_id.in_(ids[start : start + 500])
                )
                found.update(conn.execute(query).scalars())
        return found

    def add_events(self, rows: Sequence[StoredEvent], conn: sa.Connection | None = None) -> int:
        """Insert events, skipping message ids already stored; returns how many were new."""
        if not rows:
            return 0
        unique = {row.message_id: row for row in rows}
        now = now_us()
        with self.begin(conn) as conn:
            known: set[str] = set()
            ids = list(unique)
            for start in range(0, len(ids), 500):
                query = sa.select(schema.events.c.message_id).where(
                    schema.events.c.message_id.in_(ids[start : start + 500])
                )
                known.update(conn.execute(query).scalars())
            new = [
                {
                    "message_id": row.message_id,
                    "lead_id": row.lead_id,
                    "anonymous_id": row.anonymous_id,
                    "type": row.type,
                    "event": row.event,
                    "timestamp": row.timestamp,
                    "properties": json.dumps(row.properties),
                    "received_at": now,
                }
                for message_id, row in unique.items()
                if message_id not in known
            ]
            if new:
                conn.execute(schema.events.insert(), new)
        return len(new)

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

    # ---- reads ----------------------------------------------------------------------------
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

    def has_lead(self, lead_id: str, conn: sa.Connection) -> bool:
        return bool(self.existing_leads([lead_id], conn))

    def existing_leads(self, lead_ids: Sequence[str], conn: sa.Connection) -> set[str]:
        """Those of ``lead_ids`` that exist, in ``conn``'s transaction."""
        found: set[str] = set()
        leads = schema.leads
        for start in range(0, len(lead_ids), 500):
            chunk = list(lead_ids[start : start + 500])
            found.update(
                conn.execute(sa.select(leads.c.lead_id).where(leads.c.lead_id.in_(chunk))).scalars()
            )
        return found

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    def _is_current(self, as_of: int | None) -> bool:
        """Whether the current attributes are those of ``as_of`` (no change came after it)."""
        return as_of is None or as_of >= self.latest_change()

    def lead(self, lead_id: str, as_of: int | None = None) -> dict[str, Any]:
        """One lead's attributes (as of ``as_of``, else now); NotFoundError names the id when
        there is no such lead."""
        versions = schema.lead_versions
        with self.engine.connect() as conn:
            if self._is_current(as_of):
                row = conn.execute(
                    sa.select(schema.leads.c.attributes).where(schema.leads.c.lead_id == lead_id)
                ).first()
            else:  # the lead's last version at or before as_of (one index range)
                row = conn.execute(
                    sa.select(versions.c.attributes)
                    .where(versions.c.lead_id == lead_id, versions.c.valid_from <= as_of)
                    .order_by(versions.c.valid_from.desc(), versions.c.id.desc())
                    .limit(1)
                ).first()
        if row is None:
            raise NotFoundError(f"lead {lead_id!r} is not in the database")
        attributes: dict[str, Any] = json.loads(row.attributes)
        return attributes

    def account_members(self, lead_id: str, as_of: int | None = None) -> dict[str, dict[str, Any]]:
        """The leads of ``lead_id``'s account (itself included) with their attributes, as of
        ``as_of`` (else now); a lead with no account is an account of its own."""
        leads = schema.leads
        with self.engine.connect() as conn:
            if self._is_current(as_of):
                account = conn.execute(
                    sa.select(leads.c.account_id).where(leads.c.lead_id == lead_id)
                ).scalar_one_or_none()
                rows = conn.execute(
                    sa.select(leads.c.lead_id, leads.c.attributes).where(
                        leads.c.account_id == account
                    )
                ).all()
            else:
                versions = _VERSIONS_AS_OF.format(as_of=int(as_of))  # type: ignore[arg-type]
                account = conn.execute(
                    sa.text(f"SELECT account_id FROM ({versions}) v WHERE lead_id = :lead_id"),
                    {"lead_id": lead_id},
                ).scalar_one_or_none()
                rows = conn.execute(
                    sa.text(
                        f"SELECT lead_id, attributes FROM ({versions}) v WHERE account_id = :a"
                    ),
                    {"a": account},
                ).all()
        if account is None:
            return {lead_id: self.lead(lead_id, as_of)}
        return {row.lead_id: json.loads(row.attributes) for row in rows}

    def latest_change(self) -> int:
        """The time the latest attribute change counts from (EARLIEST when there is none)."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(schema.lead_versions.c.valid_from)))
            latest = value.scalar_one()
        return EARLIEST if latest is None else int(latest)

    def lead_events(self, lead_id: str) -> Iterator[Event]:
        """The lead's events, its anonymous history included, oldest first."""
        yield from self.events_of([lead_id])[lead_id]

    def event_rows(self, lead_ids: Sequence[str]) -> list[Any]:
        """The stored events of some leads (``EVENTS_OF_LEADS``: lead_id, type, event,
        timestamp, properties as JSON text, message_id), in no particular order."""
        query = sa.text(EVENTS_OF_LEADS.format(leads=":ids")).bindparams(
            sa.bindparam("ids", expanding=True)
        )
        with self.engine.connect() as conn:
            return [
                row
                for chunk in _chunks(lead_ids)
                for row in conn.execute(query, {"ids": chunk}).all()
            ]

    def lead_rows(self, lead_ids: Sequence[str]) -> list[Any]:
        """Those of ``lead_ids`` that exist: lead_id, attributes (JSON text), account_id."""
        leads = schema.leads
        query = sa.select(leads.c.lead_id, leads.c.attributes, leads.c.account_id)
        with self.engine.connect() as conn:
            return [
                row
                for chunk in _chunks(lead_ids)
                for row in conn.execute(query.where(leads.c.lead_id.in_(chunk))).all()
            ]

    def with_colleagues(self, lead_ids: Sequence[str]) -> list[str]:
        """Those of ``lead_ids`` that exist and every lead at their accounts, in id order."""
        leads = schema.leads
        found: set[str] = set()
        accounts: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(lead_ids):
                query = sa.select(leads.c.lead_id, leads.c.account_id)
                for lead_id, account_id in conn.execute(query.where(leads.c.lead_id.in_(chunk))):
                    found.add(lead_id)
                    if account_id is not None:
                        accounts.add(account_id)
            for chunk in _chunks(sorted(accounts)):
                query = sa.select(leads.c.lead_id).where(leads.c.account_id.in_(chunk))
                found.update(conn.execute(query).scalars())
        return sorted(found)

    def events_of(self, lead_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of several leads at once (as ``lead_events`` gives them, oldest first)."""
        found: dict[str, list[Event]] = {lead_id: [] for lead_id in lead_ids}
        if not found:
            return found
        for row in sorted(self.event_rows(list(found)), key=lambda r: r.timestamp):
            found[row.lead_id].append(
                Event(
                    row.message_id,
                    row.lead_id,
                    row.type,
                    row.event,
                    row.timestamp,
                    json.loads(row.properties),
                )
            )
        return found

    def accounts_arrow(self, lead_ids: Sequence[str]) -> tuple[pa.Table, pa.Table]:
        """Some leads and everyone at their accounts (current attributes), and all their
        events: the batch engine's input for rescoring those leads exactly."""
        rows = self.lead_rows(self.with_colleagues(lead_ids))
        rows.sort(key=lambda row: row.lead_id)
        members = pa.table(
            {name: [row[i] for row in rows] for i, name in enumerate(LEADS_SCHEMA.names)},
            schema=LEADS_SCHEMA,
        )
        found = self.event_rows([row.lead_id for row in rows]) if rows else []
        events = pa.table(
            {name: [row[i] for row in found] for i, name in enumerate(EVENTS_SCHEMA.names)},
            schema=EVENTS_SCHEMA,
        )
        return members, events

    def lifecycles(
        self, model: str, as_of: int, lead_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[str | None, int | None]]:
        """Each lead's recorded stage and last recycle instant as of ``as_of``, for the leads
        given (None: every lead); leads with nothing recorded are absent."""
        if lead_ids is not None and not lead_ids:
            return {}
        values: dict[str, Any] = {"model": model, "as_of": as_of}
        query = sa.text(_LIFECYCLE.format(lead="" if lead_ids is None else " AND lead_id IN :ids"))
        if lead_ids is not None:
            query = query.bindparams(sa.bindparam("ids", expanding=True))
            values["ids"] = list(lead_ids)
        with self.engine.connect() as conn:
            return {
                row.lead_id: (row.stage, None if row.recycled_at is None else int(row.recycled_at))
                for row in conn.execute(query, values)
            }

    def leads_arrow(self, as_of: int | None = None) -> pa.Table:
        """All leads as an Arrow table: lead_id, attributes (JSON text), account_id; as they
        were as of ``as_of`` (else now)."""
        source = "leads"  # the current attributes, unless some change came after as_of
        if as_of is not None and as_of < self.latest_change():
            source = f"({_VERSIONS_AS_OF.format(as_of=int(as_of))}) v"
        return self.arrow(
            f"SELECT lead_id, attributes, account_id FROM {source} ORDER BY lead_id", LEADS_SCHEMA
        )

    def lead_versions_arrow(self) -> pa.Table:
        """Every version of every lead's attributes (lead_id, valid_from, id, attributes,
        account_id): the leads as of many instants, read once."""
        return self.arrow(
            "SELECT lead_id, valid_from, id, attributes, account_id FROM lead_versions",
            VERSIONS_SCHEMA,
        )

    def events_arrow(self) -> pa.Table:
        """All attributed events: lead_id, type, event, timestamp, properties."""
        return self.arrow(
            f"SELECT lead_id, type, event, timestamp, properties FROM ({RESOLVED_EVENTS}) r",
            EVENTS_SCHEMA,
        )

    def arrow(self, query: str, arrow_schema: pa.Schema) -> pa.Table:
        """The rows of a read-only ``query`` as an Arrow table of ``arrow_schema``."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            table = read_arrow(database, query)
            if table.num_rows == 0:
                return arrow_schema.empty_table()
            return table.cast(arrow_schema)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(query)).all()
        columns = {name: [row[i] for row in rows] for i, name in enumerate(arrow_schema.names)}
        return pa.table(columns, schema=arrow_schema)


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``size``: an IN list stays under the database's limit on
    bound parameters."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def upsert(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows``, replacing the other columns of rows whose ``keys`` exist already, in
    one statement (SQLite and PostgreSQL both have ``ON CONFLICT ... DO UPDATE``)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        statement: Any = postgresql_insert(table)
    else:
        statement = sqlite_insert(table)
    others = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in others}
    )
    conn.execute(statement, list(rows))
