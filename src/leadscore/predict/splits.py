"""Which rows a model learns from and which judge it: later rows by time (whole instants
together, so nothing judged is earlier than what it is judged against), or stratified random
rows for a table without time."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from leadscore.predict.dataset import Dataset

#: The share of rows held out: the latest, or a stratified random share.
HOLDOUT_SHARE = 0.2
#: Validation folds (forward-chaining boundaries at 55 %, 70 % and 85 % of the rows in time).
FOLDS = 3
#: A fold whose validation rows hold fewer conversions than this says nothing and is skipped.
MIN_FOLD_CONVERSIONS = 5


@dataclass(frozen=True, slots=True)
class Split:
    """Row indices: fitting rows, the later rows that stop the trees, and those that calibrate
    them (the same rows, see ``time_split``)."""

    fit: np.ndarray
    stop: np.ndarray
    calibrate: np.ndarray


def later_rows(data: Dataset, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows before and the latest ``share`` of rows, whole instants together, so nothing
    validated is earlier than what it is validated against. A table without time is split at
    random, stratified by label (it has no "later")."""
    n = len(data.label)
    if data.timed:
        instants, counts = np.unique(data.order, return_counts=True)
        later = np.cumsum(counts[::-1])
        enough = int(np.searchsorted(later, share * n))
        if len(instants) > 1 and enough < len(instants) - 1:
            boundary = instants[::-1][enough]
            return np.flatnonzero(data.order < boundary), np.flatnonzero(data.order >= boundary)
        ranked = np.argsort(data.order, kind="stable")
        cut = round(n * (1 - share))
        return np.sort(ranked[:cut]), np.sort(ranked[cut:])
    held = _stratified(data.label, share, np.random.default_rng(seed))
    return np.setdiff1d(np.arange(n), held), held


def time_split(data: Dataset, seed: int, share: float = HOLDOUT_SHARE) -> Split:
    """Fitting rows, then the later rows, which stop the trees (and must hold enough
    conversions to judge them)."""
    fit, held = later_rows(data, share, seed)
    return Split(fit=fit, stop=held, calibrate=held)


def _stratified(label: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    chosen = []
    for value in (0, 1):
        rows = np.flatnonzero(label == value)
        chosen.append(rng.choice(rows, size=round(len(rows) * share), replace=False))
    return np.sort(np.concatenate(chosen))


def validation_folds(data: Dataset, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(learning rows, validation rows) pairs: later rows with a time column, else
    stratified folds; folds with too few conversions to judge are left out."""
    n = len(data.label)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    if data.timed:
        ranked = np.argsort(data.order, kind="stable")
        ordered = data.order[ranked]
        cuts = [0.55, 0.70, 0.85, 1.0]
        for start, end in itertools.pairwise(cuts):
            # whole instants together: a boundary never splits rows of one instant
            low = int(np.searchsorted(ordered, ordered[min(n - 1, int(start * n))], "left"))
            high = (
                n
                if end >= 1.0
                else int(np.searchsorted(ordered, ordered[min(n - 1, int(end * n))], "left"))
            )
            pairs.append((np.sort(ranked[:low]), np.sort(ranked[low:high])))
    elif min(int(data.label.sum()), int((data.label == 0).sum())) < FOLDS:
        return []  # stratified folds need a row of each kind in every fold
    else:
        splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
        pairs = [(a, b) for a, b in splitter.split(np.zeros(n), data.label)]
    return [
        (learn, check)
        for learn, check in pairs
        if len(learn)
        and len(check)
        and data.label[check].sum() >= MIN_FOLD_CONVERSIONS
        and data.label[learn].sum() >= MIN_FOLD_CONVERSIONS
        and data.label[check].min() != data.label[check].max()
    ]
