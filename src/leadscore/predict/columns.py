"""Turning raw lead attributes into model features: numbers, grouped categories, text signals
and the email domain's type.

The encoding is learned from the training rows only (which levels are common, which columns are
text) and kept in the model's artifact, so scoring a new lead reads it the same way; a category
never seen in training, or a value missing, becomes NaN, which the trees route on their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from leadscore.spec.domains import email_domain, in_list
from leadscore.spec.gibberish import is_gibberish
from leadscore.spec.predicates import as_number, canonical_text, is_missing

#: A level seen in fewer training rows than this (or than 0.5 % of them) joins ``OTHER``.
MIN_LEVEL_ROWS = 20
MAX_LEVELS = 40
OTHER = "(other)"
#: A text column: mostly distinct values, long on average. It gives length and word counts.
TEXT_MIN_DISTINCT = 0.5
TEXT_MIN_LENGTH = 20

Kind = Literal["number", "category", "text_length", "text_words", "email_type", "made_up"]
#: Typed by a person: worth asking whether it looks like keyboard mash ("asdfgh").
_TYPED = ("name", "company", "title", "job", "message", "comment")
MADE_UP_LEVELS = ("yes", "no")


@dataclass(frozen=True, slots=True)
class Feature:
    """One model input: its column name, what it is read from and how."""

    name: str
    source: str
    kind: Kind
    levels: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        return self.kind in ("category", "email_type", "made_up")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "kind": self.kind, "levels": self.levels}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Feature:
        return cls(data["name"], data["source"], data["kind"], tuple(data.get("levels", ())))


@dataclass(frozen=True, slots=True)
class AttributeEncoding:
    """The features read from lead attributes, learned once from training rows."""

    features: tuple[Feature, ...] = field(default_factory=tuple)

    @classmethod
    def learn(
        cls, raw: pd.DataFrame, *, skip: Iterable[str] = (), max_levels: int = MAX_LEVELS
    ) -> AttributeEncoding:
        """Decide each column's reading from the training rows ``raw`` (object columns)."""
        skipped = set(skip)
        found: list[Feature] = []
        for column in raw.columns:
            if column in skipped:
                continue
            found.extend(_features_of(str(column), raw[column], max_levels))
        return cls(tuple(found))

    def encode(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The feature frame of ``raw``: float columns and fixed-level categoricals."""
        columns: dict[str, Any] = {}
        for feature in self.features:
            values = raw[feature.source] if feature.source in raw.columns else None
            columns[feature.name] = _encode(feature, values, len(raw))
        return pd.DataFrame(columns, index=raw.index)


def _present(values: pd.Series) -> list[Any]:
    return [v for v in values.tolist() if not _missing(v)]


def _missing(value: object) -> bool:
    return is_missing(value) or (isinstance(value, float) and math.isnan(value))


def _features_of(name: str, values: pd.Series, max_levels: int) -> list[Feature]:
    present = _present(values)
    if not present:
        return []
    numbers = [as_number(v) for v in present if not isinstance(v, bool)]
    if len(numbers) == len(present) and sum(n is not None for n in numbers) >= 0.95 * len(present):
        return [Feature(name, name, "number")]
    texts = [canonical_text(v) for v in present]
    if sum("@" in t for t in texts) >= 0.5 * len(texts):
        return [Feature(f"{name} domain type", name, "email_type", EMAIL_TYPES)]
    distinct = len(set(texts))
    typed = any(word in name.casefold() for word in _TYPED)
    made_up = [Feature(f"{name} looks made up", name, "made_up", MADE_UP_LEVELS)] if typed else []
    if distinct >= TEXT_MIN_DISTINCT * len(texts) and _mean_length(texts) >= TEXT_MIN_LENGTH:
        return [
            Feature(f"{name} length", name, "text_length"),
            Feature(f"{name} words", name, "text_words"),
            *made_up,
        ]
    if distinct == len(texts) and len(texts) > 1:
        # an identifier, or a name: unique per lead, says nothing about the next lead, except
        # whether a person typed something real
        return made_up
    counts = pd.Series(texts).value_counts()
    floor = max(MIN_LEVEL_ROWS, math.ceil(0.005 * len(values)))
    kept = [str(level) for level, count in counts.items() if count >= floor][:max_levels]
    if len(kept) < len(counts):
        kept.append(OTHER)
    if len(kept) < 2:
        return []  # a single level (or nothing common): constant, no signal
    return [Feature(name, name, "category", tuple(kept))]


def _mean_length(texts: list[str]) -> float:
    return sum(len(t) for t in texts) / len(texts)


EMAIL_TYPES = ("company", "free mail", "disposable", "not an email")


def email_type(value: object) -> str | None:
    """What kind of address a lead gave: a company's, free mail, disposable, or none valid."""
    if _missing(value):
        return None
    domain = email_domain(value)
    if domain is None:
        return "not an email"
    if in_list(domain, "disposable"):
        return "disposable"
    return "free mail" if in_list(domain, "free_mail") else "company"


def _encode(feature: Feature, values: pd.Series | None, rows: int) -> Any:
    if values is None:
        if feature.categorical:
            return pd.Categorical([None] * rows, categories=list(feature.levels))
        return np.full(rows, np.nan)
    items = values.tolist()
    if feature.kind == "number":
        return np.array(
            [np.nan if _missing(v) or (n := as_number(v)) is None else n for v in items], float
        )
    if feature.kind in ("text_length", "text_words"):
        measure = len if feature.kind == "text_length" else (lambda t: len(t.split()))
        return np.array([np.nan if _missing(v) else measure(canonical_text(v)) for v in items])
    if feature.kind == "email_type":
        return pd.Categorical([email_type(v) for v in items], categories=list(feature.levels))
    if feature.kind == "made_up":
        judged = [None if _missing(v) else MADE_UP_LEVELS[not is_gibberish(str(v))] for v in items]
        return pd.Categorical(judged, categories=list(feature.levels))
    known = set(feature.levels)
    grouped = [_level(v, known) for v in items]
    return pd.Categorical(grouped, categories=list(feature.levels))


def _level(value: object, known: set[str]) -> str | None:
    if _missing(value):
        return None
    text = canonical_text(value)
    if text in known:
        return text
    return OTHER if OTHER in known else None
