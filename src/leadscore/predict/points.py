"""Learned points: a readable point model (the normal model format) learned from history.

Each attribute is binned (numbers by a shallow decision tree on that attribute alone, categories
by level, missing as a bin of its own), each kind of behaviour becomes "points per event within
N days, capped" for each window and a few caps (so the first events can be worth more than
later ones); an L1-penalised logistic regression keeps at most ``max_rules`` of them, a plain
one refits the survivors (leaving out any worth less than half a point), and log-odds become
points (``POINTS_PER_DOUBLING`` points double the odds of converting). Tiers are cut at score
quantiles of the training rows. The result is a model file a person can read, edit and run like
any hand-written one.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from leadscore.errors import InputError
from leadscore.predict import MAX_RULES, behaviour
from leadscore.predict.columns import OTHER, AttributeEncoding, Feature
from leadscore.predict.dataset import Dataset
from leadscore.predict.feedback import FEATURE as SALES_FEEDBACK
from leadscore.spec.loader import parse_model
from leadscore.spec.model import ScoringModel

MAX_BINS = 5
POINTS_PER_DOUBLING = 10.0
SELECTION_ROWS = 30_000
#: Tiers: hot is the top 10 % of training rows by score, warm the next 20 %.
TIER_SHARES = (("hot", 0.10), ("warm", 0.30))


@dataclass(frozen=True)
class Candidate:
    """A possible rule: its column of values on the rows, and how it becomes a rule."""

    name: str
    values: np.ndarray
    rule: Callable[[float], dict[str, Any]]
    kind: str  # "fit" or "engagement"


def _readable(value: float) -> float:
    """A bin edge people can read: three significant digits."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 2 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def _number_candidates(feature: Feature, values: np.ndarray, label: np.ndarray) -> list[Candidate]:
    present = ~np.isnan(values)
    found = []
    if present.sum() >= 2 and len(np.unique(values[present])) > 1:
        tree = DecisionTreeClassifier(
            max_leaf_nodes=MAX_BINS,
            min_samples_leaf=max(30, int(0.05 * present.sum())),
            random_state=0,
        )
        tree.fit(values[present].reshape(-1, 1), label[present])
        cuts = sorted({_readable(float(t)) for t in tree.tree_.threshold if t != -2})
        edges = [-math.inf, *cuts, math.inf]
        for low, high in itertools.pairwise(edges):
            inside = present & (values > low) & (values <= high)
            bounds: dict[str, float] = {}
            if low > -math.inf:
                bounds["gt"] = low
            if high < math.inf:
                bounds["lte"] = high
            if not bounds or not inside.any():
                continue
            words = " and ".join(
                f"{'over' if op == 'gt' else 'at most'} {v:g}" for op, v in bounds.items()
            )
            predicate = {"type": "range", "field": feature.source, **bounds}
            found.append(_fit(f"{feature.source} {words}", inside, [predicate]))
    if (~present).sum() >= 30 and present.any():
        found.append(
            _fit(
                f"{feature.source} missing",
                ~present,
                [{"type": "missing", "field": feature.source}],
            )
        )
    return found


def _fit(name: str, inside: np.ndarray, when: list[dict[str, Any]]) -> Candidate:
    return Candidate(
        name, inside.astype(float), lambda p: {"name": name, "points": p, "when": when}, "fit"
    )


def _category_candidates(feature: Feature, column: pd.Series, label: np.ndarray) -> list[Candidate]:
    """Levels grouped by how often their leads convert (a shallow tree on each level's
    smoothed rate), so one rule reads "country in [US, CA, NL]" instead of one rule a level."""
    found = []
    values = column.astype(object).to_numpy()
    if feature.kind == "email_type":
        for level, lists in (("free mail", ["free_mail"]), ("disposable", ["disposable"])):
            when = [{"type": "email_domain", "field": feature.source, "lists": lists}]
            found.append(_fit(f"{feature.source} is {level}", values == level, when))
        return found
    if feature.kind == "made_up":
        when = [{"type": "gibberish", "field": feature.source}]
        return [_fit(f"{feature.source} looks made up", values == "yes", when)]
    levels = [level for level in feature.levels if level != OTHER]
    present = np.isin(values, levels)
    if present.sum() >= 2 and len(levels) > 1:
        prior = label.mean()
        rate = {
            level: (label[values == level].sum() + 10 * prior) / ((values == level).sum() + 10)
            for level in levels
        }
        rates = np.array([rate[v] for v in values[present]])
        tree = DecisionTreeClassifier(
            max_leaf_nodes=MAX_BINS,
            min_samples_leaf=max(30, int(0.05 * present.sum())),
            random_state=0,
        )
        tree.fit(rates.reshape(-1, 1), label[present])
        groups = tree.apply(np.array([rate[level] for level in levels]).reshape(-1, 1))
        for group in np.unique(groups):
            members = sorted(
                (level for level, g in zip(levels, groups, strict=True) if g == group),
                key=lambda level: -rate[level],
            )
            inside = np.isin(values, members)
            shown = ", ".join(members[:4]) + (
                f" and {len(members) - 4} more" if len(members) > 4 else ""
            )
            when = [{"type": "in", "field": feature.source, "values": members}]
            found.append(_fit(f"{feature.source} is {shown}", inside, when))
    missing = column.isna().to_numpy()
    if missing.sum() >= 30:
        when = [{"type": "missing", "field": feature.source}]
        found.append(_fit(f"{feature.source} missing", missing, when))
    return found


def _event_filter(kind: str) -> dict[str, Any]:
    if kind.startswith("page "):
        segment = kind[len("page ") :]
        if segment.startswith("/"):
            return {
                "type": "page",
                "where": [{"type": "prefix", "field": "path", "value": segment}],
            }
        return {"type": "page", "event": segment}
    return {"event": kind}


def _behaviour_candidates(data: Dataset, kinds: list[str]) -> list[Candidate]:
    """Per kind of behaviour and window, "points per event, capped" at a few caps: the first
    event alone, the median of the leads who did it, and the 95th percentile. Rules of one
    kind with different caps add up to a response that flattens as the count grows (the first
    lesson says more than the tenth), as the log counts of the regression do."""
    found = []
    names = behaviour.behaviour_names(kinds)
    for index, kind in enumerate(kinds):
        for days in (*behaviour.WINDOWS_DAYS, None):
            column = names[f"k{index}_{days or 'all'}"]
            if column not in data.behaviour.columns:
                continue
            counts = data.behaviour[column].to_numpy(float)
            if counts.max(initial=0) <= 0:
                continue
            done = counts[counts > 0]
            caps = sorted(
                {1.0, *(max(1.0, float(np.ceil(np.quantile(done, q)))) for q in (0.5, 0.95))}
            )
            window = f"in the last {days} days" if days else "ever"
            for cap_count in caps:
                first = "the first" if cap_count == 1 else f"the first {cap_count:g}"
                name = f"{kind} {window} ({first})"
                found.append(
                    Candidate(
                        name,
                        np.minimum(counts, cap_count) / cap_count,
                        partial(_engagement_rule, name=name, kind=kind, cap=cap_count, days=days),
                        "engagement",
                    )
                )
    return found


def _engagement_rule(
    p: float, *, name: str, kind: str, cap: float, days: int | None
) -> dict[str, Any]:
    """``p`` points for ``cap`` events or more: ``p / cap`` points an event, capped at ``p``."""
    per_event = round(float(p) / cap, 3)
    spec: dict[str, Any] = {"name": name, **_event_filter(kind), "points": per_event}
    if days:
        # the engine counts whole days up to the scoring day: N-1 days before it and
        # that day make the N days before a midnight cut-off
        spec["within_days"] = days - 1
    spec["cap"] = round(float(abs(per_event) * cap), 3)
    return spec


#: Columns that say who a lead is, not what kind of lead: a person's or company's name, an
#: address, a phone number, an id. Their values never become point rules ("first_name is
#: Sofia +5" learns the sample, not the market); only whether one looks made up may.
IDENTITY_WORDS = frozenset(
    {"name", "firstname", "lastname", "fullname", "surname", "givenname", "company",
     "companyname", "account", "accountname", "organization", "organisation", "email", "mail",
     "phone", "mobile", "address", "street", "id", "uuid", "owner", "contact"}
)  # fmt: skip


def identity_column(name: str) -> bool:
    """Whether a column names who the lead is: its name, read as words (``first_name``,
    ``Company Name``, ``leadId``), is one of ``IDENTITY_WORDS``, or ends in ``name``, ``id``
    or ``email``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    words = [w for w in re.split(r"[^a-z0-9]+", spaced.casefold()) if w]
    joined = "".join(words)
    return bool(words) and (
        joined in IDENTITY_WORDS or words[-1] in {"name", "id", "email", "phone"}
    )


def candidates(data: Dataset, encoding: AttributeEncoding, kinds: list[str]) -> list[Candidate]:
    frame = encoding.encode(data.raw)
    found: list[Candidate] = []
    for feature in encoding.features:
        if feature.kind == "category" and identity_column(feature.source):
            continue  # a name, an id: "looks made up" and the email's type may stay
        if feature.source == SALES_FEEDBACK:
            continue  # not a lead attribute the engine can read: the trees' alone
        if feature.kind == "number":
            found += _number_candidates(feature, frame[feature.name].to_numpy(float), data.label)
        elif feature.categorical:
            found += _category_candidates(feature, frame[feature.name], data.label)
    found += _behaviour_candidates(data, kinds)
    return [c for c in found if c.values.sum() > 0 and np.ptp(c.values) > 0]


def _select(matrix: np.ndarray, label: np.ndarray, max_rules: int, seed: int) -> np.ndarray:
    """The columns an L1 path keeps, at the weakest penalty that keeps at most ``max_rules``.

    The path runs on at most ``SELECTION_ROWS`` rows (every converter kept, the others sampled):
    which rules matter shows on a sample, and the path costs a fit per step."""
    if len(label) > SELECTION_ROWS:
        rng = np.random.default_rng(seed)
        positives = np.flatnonzero(label == 1)
        negatives = np.flatnonzero(label == 0)
        take = max(SELECTION_ROWS - len(positives), SELECTION_ROWS // 2)
        rows = np.sort(np.concatenate([positives, rng.choice(negatives, take, replace=False)]))
        matrix, label = matrix[rows], label[rows]
    spread = matrix.std(axis=0)
    scaled = (matrix - matrix.mean(axis=0)) / np.where(spread > 0, spread, 1)
    chosen = np.arange(0)
    for strength in np.logspace(-3.5, 0, 24):
        lasso = LogisticRegression(
            l1_ratio=1.0, C=strength, solver="liblinear", random_state=seed, max_iter=500
        )
        lasso.fit(scaled, label)
        kept = np.flatnonzero(np.abs(lasso.coef_[0]) > 1e-6)
        if len(kept) > max_rules:
            break
        chosen = kept
    return chosen


@dataclass(frozen=True)
class LearnedPoints:
    model: ScoringModel
    text: str
    rules: int


def learn_points(
    data: Dataset,
    *,
    name: str = "learned",
    kinds: list[str] | None = None,
    max_rules: int = MAX_RULES,
    seed: int = 0,
) -> LearnedPoints:
    """A point model learned from ``data``; validated by the same loader as any model file."""
    encoding = AttributeEncoding.learn(data.raw)
    found = candidates(data, encoding, kinds or [])
    if not found:
        raise InputError(
            f"{data.source}: no attribute or behaviour varies among the rows: nothing to learn"
        )
    matrix = np.column_stack([c.values for c in found])
    chosen = _select(matrix, data.label, max_rules, seed)
    factor = POINTS_PER_DOUBLING / math.log(2)
    while True:  # rules worth less than half a point go (they would read as noise), then refit
        refit = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
        refit.fit(matrix[:, chosen], data.label)
        worth = np.abs(refit.coef_[0]) * factor  # each column's values run from 0 to 1
        if len(chosen) <= 1 or worth.min() >= 0.5:
            break
        chosen = chosen[worth >= 0.5] if (worth >= 0.5).any() else chosen[[int(worth.argmax())]]
    fit_rules, engagement_rules = [], []
    points_of_rows = np.zeros(len(data.label))
    for column, coef in zip(chosen, refit.coef_[0], strict=True):
        candidate = found[column]
        if candidate.kind == "fit":
            points = float(round(coef * factor))
            if points == 0:
                continue
            fit_rules.append(candidate.rule(points))
            points_of_rows += points * candidate.values
        else:
            rule = candidate.rule(coef * factor)
            if rule["points"] == 0 or rule["cap"] <= 0:
                continue
            engagement_rules.append(rule)
            points_of_rows += np.sign(rule["points"]) * rule["cap"] * candidate.values
    used: set[str] = set()
    for rule in (*fit_rules, *engagement_rules):
        rule["name"] = _short_name(rule["name"], used)
    tiers = _tiers(points_of_rows)
    spec: dict[str, Any] = {
        "name": name,
        "description": (
            f"Learned from {len(data.label)} rows ({data.conversions} conversions) of "
            f"{data.source}: {POINTS_PER_DOUBLING:g} points double the odds of converting."
        ),
        "fit": fit_rules,
        "engagement": engagement_rules,
        "tiers": tiers,
    }
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
    model = parse_model(text, source=f"learned model {name!r}")
    return LearnedPoints(model, text, len(fit_rules) + len(engagement_rules))


def _short_name(text: str, used: set[str]) -> str:
    """A rule name the model format takes: at most 80 characters, unique in the model."""
    name = text if len(text) <= 80 else text[:76].rstrip() + " ..."
    number = 2
    while name in used:
        suffix = f" ({number})"
        name = (
            text if len(text) + len(suffix) <= 80 else text[: 76 - len(suffix)].rstrip() + " ..."
        ) + suffix
        number += 1
    used.add(name)
    return name


def _tiers(scores: np.ndarray) -> list[dict[str, Any]]:
    bands: list[dict[str, Any]] = []
    for tier, share in TIER_SHARES:
        edge = float(np.ceil(np.quantile(scores, 1 - share)))
        if not bands or edge < bands[-1]["min"]:
            bands.append({"name": tier, "min": edge})
    bands.append({"name": "cold"})
    return bands
