"""Leads, their attribute history and their identities: writes that merge attributes and
keep every version, and reads of a lead (or all leads) as of an instant."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from leadscore._types import now_us
from leadscore.errors import NotFoundError
from leadscore.spec.accounts import account_of
from leadscore.store import schema
from leadscore.store.account_traits import account_traits
from leadscore.store.database import Database
from leadscore.store.sql import (
    EARLIEST,
    LEADS_SCHEMA,
    VERSIONS_AS_OF,
    VERSIONS_SCHEMA,
    among,
    chunks,
    insert_rows,
    listed,
    one_of,
)


class LeadStore(Database):
    """The leads, lead_versions and identities tables."""

    def upsert_leads(
        self,
        rows: Sequence[tuple[str, dict[str, Any], int | None]],
        conn: sa.Connection | None = None,
        known: set[str] | None = None,
    ) -> int:
        """Create leads or merge new attribute values into them, in order; returns how many
        distinct leads were given.

        Each row is (lead_id, attributes, at): a value given replaces the stored one,
        attributes not given are kept. Every change is kept in the lead's history: the first
        attributes a lead is given count from the start of time (importing history after the
        fact must not lose them); a later change counts from ``at`` (None: now), or from the
        lead's latest change when that is later, so history only moves forward.

        ``known``: which of the given leads exist, when the caller read it in ``conn``
        already (else it is read here).
        """
        if not rows:
            return 0
        now = now_us()
        leads, versions_table = schema.leads, schema.lead_versions
        with self.begin(conn) as conn:
            ids = list(dict.fromkeys(row[0] for row in rows))
            known = self.existing_leads(ids, conn) if known is None else known.intersection(ids)
            # an event only needs its lead to exist: attributes and history are read only
            # for the leads given some
            given = list(dict.fromkeys(row[0] for row in rows if row[1]))
            current: dict[str, dict[str, Any]] = {}
            latest: dict[str, int] = {}
            for chunk in chunks(given):
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
            shared = _joined_accounts(rows, current, conn)
            for lead_id, attributes, at in rows:
                if not attributes and (lead_id in known or lead_id in current):
                    continue  # it exists (or was just created) and nothing changes
                before = current.get(lead_id)
                combined = {**(before or {}), **attributes}
                account = account_of(combined)
                if account in shared and account != account_of(before or {}):
                    combined = {**shared[account], **combined}  # joins: the company's traits
                if before is not None and combined == before:
                    continue
                if not before:  # the first attributes it is given
                    valid_from = EARLIEST
                else:
                    valid_from = max(now if at is None else at, latest.get(lead_id, EARLIEST))
                current[lead_id] = combined
                latest[lead_id] = valid_from
                changed.add(lead_id)
                versions.append((lead_id, valid_from, json.dumps(combined), account))
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
                (lead_id, json.dumps(current[lead_id]), now, account_of(current[lead_id]))
                for lead_id in ids
                if lead_id not in known
            ]
            insert_rows(conn, leads, ("lead_id", "attributes", "updated_at", "account_id"), inserts)
            columns = ("lead_id", "valid_from", "attributes", "account_id")
            insert_rows(conn, versions_table, columns, versions)
        return len(ids)

    def link_identities(
        self, pairs: Iterable[tuple[str, str]], conn: sa.Connection | None = None
    ) -> None:
        """Attribute an anonymous id's events to a lead (the first link wins: over the ones
        stored, and in the order given)."""
        first: dict[str, str] = {}
        for anonymous_id, lead_id in pairs:
            first.setdefault(anonymous_id, lead_id)
        with self.begin(conn) as conn:
            insert_rows(
                conn,
                schema.identities,
                ("anonymous_id", "lead_id"),
                list(first.items()),
                keys=("anonymous_id",),
            )

    def linked_leads(self, ids: Iterable[str], conn: sa.Connection) -> dict[str, str]:
        """The lead each of ``ids`` is linked to, for those linked (an anonymous id, or a
        user id that an alias call or an email match made another lead's)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = f"SELECT anonymous_id, lead_id FROM identities WHERE {among(conn, 'anonymous_id')}"
        return {row[0]: row[1] for row in conn.exec_driver_sql(query, (listed(conn, wanted),))}

    def anonymous_leads(
        self, anonymous_ids: Iterable[str], conn: sa.Connection | None = None
    ) -> set[str]:
        """The leads these anonymous ids are linked to (ids not linked yet name none)."""
        found: set[str] = set()
        identities = schema.identities
        with self.begin(conn) as conn:
            for chunk in chunks(list(anonymous_ids)):
                query = sa.select(identities.c.lead_id).where(identities.c.anonymous_id.in_(chunk))
                found.update(conn.execute(query).scalars())
        return found

    def all_lead_ids(self, conn: sa.Connection | None = None) -> list[str]:
        """Every lead's id (in ``conn``'s transaction when given)."""
        query = sa.select(schema.leads.c.lead_id)
        if conn is not None:
            return list(conn.execute(query).scalars())
        with self.engine.connect() as own:
            return list(own.execute(query).scalars())

    def has_lead(self, lead_id: str, conn: sa.Connection) -> bool:
        return bool(self.existing_leads([lead_id], conn))

    def existing_leads(self, lead_ids: Sequence[str], conn: sa.Connection) -> set[str]:
        """Those of ``lead_ids`` that exist, in ``conn``'s transaction."""
        if not lead_ids:
            return set()
        query = f"SELECT lead_id FROM leads WHERE {among(conn, 'lead_id')}"
        return set(conn.exec_driver_sql(query, (listed(conn, lead_ids),)).scalars())

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

    def lead_history(self, lead_id: str) -> list[tuple[int, dict[str, Any]]]:
        """Every version of one lead's attributes, oldest first, as (valid from, attributes):
        the lead as it was at any instant, read once (a page's score-over-time chart)."""
        versions = schema.lead_versions
        query = (
            sa.select(versions.c.valid_from, versions.c.attributes)
            .where(versions.c.lead_id == lead_id)
            .order_by(versions.c.valid_from, versions.c.id)
        )
        with self.engine.connect() as conn:
            return [
                (int(row.valid_from), json.loads(row.attributes)) for row in conn.execute(query)
            ]

    def account_members(self, lead_id: str, as_of: int | None = None) -> dict[str, dict[str, Any]]:
        """The leads of ``lead_id``'s account (itself included) with their attributes, as of
        ``as_of`` (else now); a lead with no account is an account of its own."""
        leads = schema.leads
        with self.engine.connect() as conn:
            if self._is_current(as_of):
                account = conn.execute(
                    sa.select(leads.c.account_id).where(leads.c.lead_id == lead_id)
                ).scalar_one_or_none()
                if account is None:  # not "account_id IS NULL": every lead without an account
                    return {lead_id: self.lead(lead_id, as_of)}
                rows = conn.execute(
                    sa.select(leads.c.lead_id, leads.c.attributes).where(
                        leads.c.account_id == account
                    )
                ).all()
            else:
                versions = VERSIONS_AS_OF.format(as_of=int(as_of))  # type: ignore[arg-type]
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

    def lead_count(self) -> int:
        """How many leads there are (a kept preparation holding more knows of one that was
        merged away or erased)."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(schema.leads)).scalar_one()
            )

    def latest_change(self) -> int:
        """The time the latest attribute change counts from (EARLIEST when there is none)."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(schema.lead_versions.c.valid_from)))
            latest = value.scalar_one()
        return EARLIEST if latest is None else int(latest)

    def attributes_of(
        self, lead_ids: Sequence[str], conn: sa.Connection
    ) -> dict[str, dict[str, Any]]:
        """The current attributes of those of ``lead_ids`` that exist, read in ``conn``."""
        leads = schema.leads
        query = sa.select(leads.c.lead_id, leads.c.attributes)
        return {
            row.lead_id: json.loads(row.attributes)
            for chunk in chunks(lead_ids)
            for row in conn.execute(query.where(leads.c.lead_id.in_(chunk)))
        }

    def lead_rows(self, lead_ids: Sequence[str]) -> list[Any]:
        """Those of ``lead_ids`` that exist: lead_id, attributes (JSON text), account_id."""
        leads = schema.leads
        query = sa.select(leads.c.lead_id, leads.c.attributes, leads.c.account_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.where(one_of(conn, leads.c.lead_id, lead_ids))))

    def with_colleagues(self, lead_ids: Sequence[str]) -> list[str]:
        """Those of ``lead_ids`` that exist and every lead at their accounts, in id order."""
        leads = schema.leads
        found: set[str] = set()
        accounts: set[str] = set()
        with self.engine.connect() as conn:
            query = sa.select(leads.c.lead_id, leads.c.account_id)
            for lead_id, account_id in conn.execute(
                query.where(one_of(conn, leads.c.lead_id, lead_ids))
            ):
                found.add(lead_id)
                if account_id is not None:
                    accounts.add(account_id)
            if accounts:
                query = sa.select(leads.c.lead_id)
                query = query.where(one_of(conn, leads.c.account_id, sorted(accounts)))
                found.update(conn.execute(query).scalars())
        return sorted(found)

    def leads_arrow(self, as_of: int | None = None) -> pa.Table:
        """All leads as an Arrow table: lead_id, attributes (JSON text), account_id; as they
        were as of ``as_of`` (else now)."""
        return self.arrow(self.leads_query(as_of), LEADS_SCHEMA)

    def leads_query(self, as_of: int | None = None) -> str:
        """``leads_arrow``'s query."""
        source = "leads"  # the current attributes, unless some change came after as_of
        if as_of is not None and as_of < self.latest_change():
            source = f"({VERSIONS_AS_OF.format(as_of=int(as_of))}) v"
        return f"SELECT lead_id, attributes, account_id FROM {source} ORDER BY lead_id"

    def lead_versions_arrow(self) -> pa.Table:
        """Every version of every lead's attributes (lead_id, valid_from, id, attributes,
        account_id): the leads as of many instants, read once."""
        return self.arrow(
            "SELECT lead_id, valid_from, id, attributes, account_id FROM lead_versions",
            VERSIONS_SCHEMA,
        )


def _joined_accounts(
    rows: Sequence[tuple[str, dict[str, Any], int | None]],
    current: dict[str, dict[str, Any]],
    conn: sa.Connection,
) -> dict[str, dict[str, Any]]:
    """The kept traits (``store.account_traits``) of the accounts ``rows`` may give their
    leads: a lead joining one is given the traits it has no value of its own for."""
    candidates = {
        account_of({**current.get(lead_id, {}), **attributes})
        for lead_id, attributes, _ in rows
        if attributes
    }
    return account_traits(conn, (a for a in candidates if a is not None))
