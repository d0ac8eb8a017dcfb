"""Predicates on one field of a lead or an event: the leaves of every rule.

Each predicate is pure data (pydantic) plus ``test(value)``, the single place where a value is
judged. Both engines call ``test``: the incremental engine per record, the batch engine once per
distinct value of the field, so the two can never disagree on what a predicate means.

Values are normalised before comparing: ``None`` and blank strings are *missing*; booleans,
numbers and strings compare through one canonical text form, so ``premium: true`` matches the
JSON ``true`` as well as a CSV ``"true"``.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadscore.spec import domains, gibberish
from leadscore.spec.patterns import Pattern, nesting_problem


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_missing(value: object) -> bool:
    """Missing means absent, null, or a string of only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def canonical_text(value: object, *, ignore_case: bool = False) -> str:
    """The one text form used to compare values of mixed JSON/CSV origin."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = str(value).strip()
    return text.casefold() if ignore_case else text


def as_number(value: object) -> float | None:
    """A numeric reading of a value, or None when it has none (``"120"`` -> 120.0)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            return None
    return number if math.isfinite(number) else None


class Bounds(_Spec):
    """Numeric bounds; every bound given must hold. At least one is required."""

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _needs_a_bound(self) -> Bounds:
        if self.gt is None and self.gte is None and self.lt is None and self.lte is None:
            raise ValueError("give at least one of gt, gte, lt, lte")
        return self

    def given(self) -> list[tuple[str, float]]:
        """The bounds that are set, as (operator, value): ``[(">", 10.0)]``."""
        pairs = ((">", self.gt), (">=", self.gte), ("<", self.lt), ("<=", self.lte))
        return [(op, value) for op, value in pairs if value is not None]

    def holds(self, number: float) -> bool:
        """True when ``number`` satisfies every bound."""
        return not (
            (self.gt is not None and not number > self.gt)
            or (self.gte is not None and not number >= self.gte)
            or (self.lt is not None and not number < self.lt)
            or (self.lte is not None and not number <= self.lte)
        )


class _Predicate(_Spec):
    field: str = Field(min_length=1, description="attribute or property name; dots for nesting")
    negate: bool = False

    def test(self, value: object) -> bool:
        """Judge one value (``None`` when the field is absent); ``negate`` flips the answer."""
        return self._test(value) != self.negate

    def _test(self, value: object) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError


class Equals(_Predicate):
    type: Literal["equals"]
    value: str | int | float | bool
    ignore_case: bool = True

    def _test(self, value: object) -> bool:
        if is_missing(value):
            return False
        return canonical_text(value, ignore_case=self.ignore_case) == canonical_text(
            self.value, ignore_case=self.ignore_case
        )


class In(_Predicate):
    type: Literal["in"]
    values: list[str | int | float | bool] = Field(min_length=1)
    ignore_case: bool = True

    @cached_property
    def texts(self) -> frozenset[str]:
        """The values in their canonical text form (casefolded with ``ignore_case``)."""
        return frozenset(canonical_text(v, ignore_case=self.ignore_case) for v in self.values)

    def _test(self, value: object) -> bool:
        if is_missing(value):
            return False
        return canonical_text(value, ignore_case=self.ignore_case) in self.texts


class Range(_Predicate, Bounds):
    """Numeric comparison; a value with no numeric reading never matches."""

    type: Literal["range"]

    def _test(self, value: object) -> bool:
        number = as_number(value)
        return number is not None and self.holds(number)


class Prefix(_Predicate):
    """Text starts with one of the prefixes (page paths: ``/pricing``)."""

    type: Literal["prefix"]
    value: str | list[str]
    ignore_case: bool = True

    @cached_property
    def prefixes(self) -> tuple[str, ...]:
        """The prefixes as compared (casefolded with ``ignore_case``)."""
        values = [self.value] if isinstance(self.value, str) else self.value
        return tuple(v.casefold() if self.ignore_case else v for v in values)

    def _test(self, value: object) -> bool:
        if is_missing(value):
            return False
        text = canonical_text(value, ignore_case=self.ignore_case)
        return text.startswith(self.prefixes)


class Regex(_Predicate):
    """Regular expression searched anywhere in the text; ``spec.patterns`` keeps it safe on
    hostile values (no exponential shapes, a time limit, each value searched once)."""

    type: Literal["regex"]
    pattern: str
    ignore_case: bool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            regex.compile(pattern)
        except regex.error as exc:
            raise ValueError(f"is not a valid regular expression ({exc})") from None
        problem = nesting_problem(pattern)
        if problem is not None:
            raise ValueError(problem)
        return pattern

    @cached_property
    def _pattern(self) -> Pattern:
        return Pattern(self.pattern, ignore_case=self.ignore_case)

    def _test(self, value: object) -> bool:
        if is_missing(value):
            return False
        return self._pattern.matches(canonical_text(value))


class Present(_Predicate):
    type: Literal["present"]

    def _test(self, value: object) -> bool:
        return not is_missing(value)


class Missing(_Predicate):
    type: Literal["missing"]

    def _test(self, value: object) -> bool:
        return is_missing(value)


class EmailDomain(_Predicate):
    """The email's domain is in a shipped list (free_mail, disposable) or in ``domains``."""

    type: Literal["email_domain"]
    lists: list[Literal["free_mail", "disposable"]] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_a_list(self) -> EmailDomain:
        if not self.lists and not self.domains:
            raise ValueError("give 'lists' (free_mail, disposable) or 'domains'")
        return self

    @cached_property
    def own(self) -> frozenset[str]:
        """The model's own domains, casefolded."""
        return frozenset(d.casefold() for d in self.domains)

    def _listed(self, domain: str | None) -> bool:
        return domain is not None and (
            domain in self.own or any(domains.in_list(domain, n) for n in self.lists)
        )

    def _test(self, value: object) -> bool:
        return self._listed(domains.email_domain(value))

    def test_domain(self, domain: str | None) -> bool:
        """``test`` from the domain alone, so the batch engine judges each distinct domain
        once instead of each distinct address."""
        return self._listed(domain) != self.negate


class Gibberish(_Predicate):
    """The text looks like keyboard mash or random letters (see ``spec/gibberish.py``)."""

    type: Literal["gibberish"]

    def _test(self, value: object) -> bool:
        return not is_missing(value) and gibberish.is_gibberish(str(value))


Predicate = Annotated[
    Equals | In | Range | Prefix | Regex | Present | Missing | EmailDomain | Gibberish,
    Field(discriminator="type"),
]

PREDICATE_TYPES = frozenset(
    ["equals", "in", "range", "prefix", "regex", "present", "missing", "email_domain", "gibberish"]
)


def field_value(record: dict[str, Any], field: str) -> object:
    """Read a field from a record: the literal key when present, else a dotted path
    (``utm.source``); None when absent. The batch engine's JSON extraction mirrors this."""
    if field in record:
        return record[field]
    value: object = record
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
