"""Leakage: columns that give the outcome away because they were written after it (a sales
tag, a purchase date, a call's length). Training names them in its warnings, so they can be
left out with ``--drop``; the honest measure is the one without them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.predict.dataset import Dataset
from leadscore.spec.predicates import is_missing

#: A feature that alone ranks converters this well is suspected of being filled in after the
#: fact (a status set by sales, a "last activity" that is the purchase).
LEAKAGE_AUC = 0.9


#: A column filled in for at least this share of the converted rows and at most
#: ``FILLED_OTHERS`` of the rest was most likely written after the outcome (a purchase date).
FILLED_CONVERTED, FILLED_OTHERS = 0.2, 0.01


def filled_after_outcome(raw: pd.DataFrame, label: np.ndarray) -> dict[str, tuple[float, float]]:
    """Attribute columns filled in (almost) only for converted rows, with the share filled
    among converted rows and among the others: the alone-predicts test misses them when only
    some converters have a value, yet every value says "converted"."""
    found: dict[str, tuple[float, float]] = {}
    converted = label == 1
    if converted.all() or not converted.any():
        return found
    for name in raw.columns:
        column = raw[name]
        filled = column.notna().to_numpy(bool) & column.map(
            lambda value: not is_missing(value)
        ).to_numpy(bool)  # NaN (pandas' missing) and blanks alike
        among_converted, among_others = filled[converted].mean(), filled[~converted].mean()
        if among_converted >= FILLED_CONVERTED and among_others <= FILLED_OTHERS:
            found[str(name)] = (float(among_converted), float(among_others))
    return found


#: Words in a column's name that say it measures how long a contact lasted (a call's length):
#: known only once the contact is over, often with the outcome (UCI's bank marketing data
#: says of its ``duration``: "this input should only be included for benchmark purposes").
DURATION_WORDS = frozenset(
    {"duration", "length", "seconds", "secs", "minutes", "mins", "talktime", "calltime",
     "callduration", "calllength", "timespent"}
)  # fmt: skip
#: A duration that alone ranks converters this well is named (chance: 0.5).
DURATION_AUC = 0.75


def measured_after_contact(
    frame: pd.DataFrame, label: np.ndarray, attributes: list[str]
) -> dict[str, float]:
    """Numeric attribute columns named as the length of a contact (``DURATION_WORDS``: a
    call's ``duration``, ``call_length``, ``minutes``) that alone rank converters with ROC
    AUC ``DURATION_AUC`` or more, with that AUC: a duration measured after the outcome gives
    it away, and a model using it cannot score a lead before the call."""
    found: dict[str, float] = {}
    named = []
    for name in attributes:
        words = [w for w in re.split(r"[^a-z]+", _spaced(name).casefold()) if w]
        duration = bool(set(words) & DURATION_WORDS) or "".join(words) in DURATION_WORDS
        if duration and not isinstance(frame[name].dtype, pd.CategoricalDtype):
            named.append(name)
    if named:
        found = leaky_features(frame[named], label, DURATION_AUC)
    return found


def _spaced(name: str) -> str:
    """``callLength`` -> ``call Length``: camel case read as words."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


def leaky_features(
    frame: pd.DataFrame, label: np.ndarray, limit: float = LEAKAGE_AUC
) -> dict[str, float]:
    """Features that alone separate converters almost perfectly, with their ROC AUC."""
    found: dict[str, float] = {}
    if label.min() == label.max():
        return found
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            rates = pd.Series(label).groupby(codes).mean()
            values = rates.reindex(codes).to_numpy(float)
        else:
            values = column.to_numpy(float)
            if np.isnan(values).all():
                continue
            values = np.where(np.isnan(values), np.nanmin(values) - 1, values)
        auc = float(roc_auc_score(label, values))
        auc = max(auc, 1 - auc)
        if auc >= limit:
            found[str(name)] = auc
    return found


#: An attribute that alone tells which leads ever convert this well restates the outcome.
RESTATES_AUC = 0.95


def restates_outcome(frame: pd.DataFrame, eventual: np.ndarray) -> dict[str, float]:
    """Attribute features that alone tell which leads *ever* convert (a ``customer`` flag, a
    CRM status written after the sale), with their ROC AUC against that. The horizon's label
    misses them: a lead that converts after the horizon is labelled 0, yet its flag is set."""
    return leaky_features(frame, eventual, RESTATES_AUC)


def leak_warnings(
    data: Dataset, frame: pd.DataFrame, fit: np.ndarray, behaviour: tuple[str, ...]
) -> list[str]:
    """What the guard says of ``data``'s columns, judged on the ``fit`` rows of the model's
    input ``frame`` (and of the raw columns, for those filled in after the outcome)."""
    warnings = [
        f"feature {name!r} alone predicts the label almost perfectly (ROC AUC {auc:.3f}): "
        "if it is filled in after the outcome, leave it out (--drop)"
        for name, auc in leaky_features(frame.iloc[fit], data.label[fit]).items()
    ]
    warnings += [
        f"column {name!r} is filled in for {converted:.0%} of the converted rows and "
        f"{others:.1%} of the others: if it is written after the outcome (a purchase date, a "
        "call's length), leave it out (--drop)"
        for name, (converted, others) in filled_after_outcome(
            data.subset(fit).raw, data.label[fit]
        ).items()
    ]
    attributes = [str(c) for c in frame.columns if c not in behaviour]
    already = {w.split("'")[1] for w in warnings}
    warnings += [
        f"column {name!r} reads as how long a contact lasted and alone ranks converters with "
        f"ROC AUC {auc:.3f}: a call's length is known only once the call is over, often with "
        "the outcome; if it is measured after the outcome, leave it out (--drop)"
        for name, auc in measured_after_contact(
            frame.iloc[fit], data.label[fit], attributes
        ).items()
        if name not in already
    ]
    if data.eventual is not None:
        already = {w.split("'")[1] for w in warnings}
        warnings += [
            f"column {name!r} alone tells which leads ever convert (ROC AUC {auc:.3f} against "
            "the leads' eventual outcome): it restates the outcome, written after the sale; "
            "leave it out (--drop)"
            for name, auc in restates_outcome(
                frame.iloc[fit][attributes], data.eventual[fit]
            ).items()
            if name not in already
        ]
    return warnings
