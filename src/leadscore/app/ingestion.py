"""Segment messages from outside (the service's ingestion): parsed one by one (plain events
by ``plain_event``, the rest by ``parse_message``), the good ones written together with their
leads' unscored marks, the bad ones named by index, field and reason, so a batch keeps its
good messages whatever their neighbours are."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadscore._types import now_us
from leadscore.spec.segment import MessageError
from leadscore.store.messages import Pending, parse_message, plain_event

if TYPE_CHECKING:
    from leadscore.store.store import Store


def parse_messages(
    items: list[Any], kind: str | None, at: int, *, text_checked: bool = False
) -> tuple[Pending, list[dict[str, Any]], list[str]]:
    """The good messages (ready to write), the bad ones by index with the field and reason,
    and the good ones' types. A message without a timestamp happened when it was received
    (as Segment does)."""
    pending = Pending()
    rejected: list[dict[str, Any]] = []
    kinds: list[str] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise MessageError("message", "must be a JSON object")
            message = dict(item)
            if kind is not None:
                message.setdefault("type", kind)
            if not (message.get("timestamp") or message.get("originalTimestamp")):
                message["timestamp"] = _iso(at)
            row = plain_event(message, at, text_checked=text_checked)
            if row is not None:
                pending.add("row", row)
            else:
                pending.add(*parse_message(message, at, text_checked=text_checked))
            kinds.append(str(message["type"]))
        except MessageError as exc:
            rejected.append({"index": index, "field": exc.field, "error": exc.reason})
    return pending, rejected, kinds


def store_messages(store: Store, group: list[Pending]) -> set[str]:
    """Store the messages of several requests and mark their leads unscored, in one
    transaction; returns those leads. A crash before they are rescored leaves the marks,
    which the restart rescores."""
    _, touched = Pending.merged(group).write(store, now_us())
    return touched


def _iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1_000_000, UTC).isoformat()
