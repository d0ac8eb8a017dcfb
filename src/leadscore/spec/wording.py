"""Predicates and conditions in plain words, for the people who read explanations: "company
size is more than 10", "at least 2 Content Downloaded events where premium is true", "last
activity at most 30 days ago", not ``company_size range gt=10.0`` or a raw regular expression.

The exact form stays in machine output (``leadscore explain --json``, the API); these words
are what tables and pages show. Negation is said, not bracketed: a predicate's ``negate``
flips its verb, and a single bound turns into its opposite (``not more than 30`` is ``at
most 30``).

Examples:
    >>> from leadscore.spec.conditions import DaysSinceActivity
    >>> condition_words(DaysSinceActivity(type="days_since_activity", gt=30), negated=True)
    'last activity at most 30 days ago'
"""

from __future__ import annotations

import regex

from leadscore.spec import conditions as c
from leadscore.spec import predicates as p

#: How each bound reads, and what it reads as once negated.
_BOUND_WORDS = {">": "more than", ">=": "at least", "<": "less than", "<=": "at most"}
_OPPOSITE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
#: A list of words searched as whole words, ``\b(student|intern)\b``, as models write them.
_WORD_LIST = regex.compile(r"^(?:\(\?i\))?\\b\((?:\?:)?([\w &/+.-]+(?:\|[\w &/+.-]+)*)\)\\b$")
#: At most this many values are listed; the rest are counted.
_LISTED = 6


def field_words(field: str) -> str:
    """``company_size`` -> ``company size``; ``account.engaged_leads`` -> ``engaged leads at
    the account``."""
    if field.startswith("account."):
        rest = field.removeprefix("account.")
        return "the account" if rest == "id" else f"{rest.replace('_', ' ')} at the account"
    return field.replace("_", " ").replace(".", " ")


def _value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value}"


def _listing(values: list[str]) -> str:
    shown = ", ".join(values[:_LISTED])
    more = len(values) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def bounds_words(bounds: p.Bounds, negated: bool = False, unit: str = "") -> str:
    """``more than 10``, ``at least 19 and less than 50``; ``negated`` says the opposite
    (a pair of bounds: ``not (at least 19 and less than 50)``)."""
    pairs = bounds.given()
    if negated and len(pairs) == 1:
        pairs = [(_OPPOSITE[pairs[0][0]], pairs[0][1])]
        negated = False
    text = " and ".join(f"{_BOUND_WORDS[op]} {value:g}{unit}" for op, value in pairs)
    return f"not ({text})" if negated else text


def predicate_words(predicate: p.Predicate, negated: bool = False) -> str:
    """One predicate as a sentence about its field; ``negated`` (or the predicate's own
    ``negate``, the two cancelling) says the opposite."""
    no = predicate.negate != negated
    name = field_words(predicate.field)
    if isinstance(predicate, p.Equals):
        return f"{name} is {'not ' if no else ''}{_value(predicate.value)}"
    if isinstance(predicate, p.In):
        values = [_value(v) for v in predicate.values]
        return f"{name} is {'not ' if no else ''}one of {_listing(values)}"
    if isinstance(predicate, p.Range):
        return f"{name} is {bounds_words(predicate, no)}"
    if isinstance(predicate, p.Prefix):
        values = [predicate.value] if isinstance(predicate.value, str) else predicate.value
        verb = "does not start" if no else "starts"
        return f"{name} {verb} with {' or '.join(repr(v) for v in values)}"
    if isinstance(predicate, p.Regex):
        words = _WORD_LIST.match(predicate.pattern)
        if words is not None:
            listed = _listing(words.group(1).split("|"))
            return f"{name} {'has none' if no else 'has one'} of the words {listed}"
        verb = "does not match" if no else "matches"
        return f"{name} {verb} the pattern {predicate.pattern}"
    if isinstance(predicate, p.Present):
        return f"{name} is {'missing' if no else 'given'}"
    if isinstance(predicate, p.Missing):
        return f"{name} is {'given' if no else 'missing'}"
    if isinstance(predicate, p.EmailDomain):
        kinds = [{"free_mail": "free-mail", "disposable": "disposable"}[k] for k in predicate.lists]
        where = " or ".join([*kinds, *predicate.domains])
        return f"{name} is {'not ' if no else ''}at a {where} domain"
    if isinstance(predicate, p.Gibberish):
        return f"{name} {'does not look' if no else 'looks'} made up"
    return f"{name} {predicate.type}"  # pragma: no cover - every predicate is named above


def _events(node: c.EventCount | c.DaysSinceEvent, one: bool = False) -> str:
    """``Content Downloaded events where premium is true``; ``one``: a single one."""
    noun = "event" if node.event is not None or node.event_type == "track" else "view"
    kind = node.event or {"page": "page", "track": "tracked"}[node.event_type]
    what = f"{kind} {noun}{'' if one else 's'}"
    if node.where:
        what += " where " + " and ".join(predicate_words(w) for w in node.where)
    return what


def condition_words(node: c.Condition, negated: bool = False) -> str:
    """One leaf condition as people say it (``negated``: its opposite)."""
    if isinstance(node, c.ScoreAtLeast):
        return f"{node.of} is {bounds_words(node, negated)}"
    if isinstance(node, c.AttributeCondition):
        return predicate_words(node.where, negated)
    if isinstance(node, c.EventCount):
        window = f" in the last {node.within_days} days" if node.within_days is not None else ""
        count = bounds_words(node, negated)
        return f"{count} {_events(node, one=count.endswith(' 1'))}{window}"
    if isinstance(node, c.DaysSinceActivity):
        return f"last activity {bounds_words(node, negated, ' days')} ago"
    if isinstance(node, c.DaysSinceEvent):
        return f"last {_events(node, one=True)} {bounds_words(node, negated, ' days')} ago"
    if isinstance(node, c.StageReached):
        return f"{'has not' if negated else 'has'} reached {node.stage}"
    return type(node).__name__  # pragma: no cover - the trees hold nothing else


def tree_words(node: c.Condition, negated: bool = False) -> str:
    """A whole condition tree as people say it: ``all of: A; B``, ``any of: A; B`` (nested
    groups in parentheses), a ``not`` turning its condition into its opposite."""
    if isinstance(node, c.Not):
        return tree_words(node.not_, not negated)
    if isinstance(node, c.All | c.AnyOf):
        parts = node.all if isinstance(node, c.All) else node.any
        said = [_grouped(part, negated) for part in parts]
        if len(said) == 1:
            return said[0]
        # not (A and B) is (not A) or (not B): the words follow De Morgan
        joins_all = isinstance(node, c.All) != negated
        return ("all of: " if joins_all else "any of: ") + "; ".join(said)
    return condition_words(node, negated)


def _grouped(node: c.Condition, negated: bool) -> str:
    said = tree_words(node, negated)
    return f"({said})" if said.startswith(("all of:", "any of:")) else said
