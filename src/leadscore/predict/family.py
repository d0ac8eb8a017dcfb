"""The default model is the best of a small, honest family, chosen by cross-validation on the
training rows alone (never on rows it is measured on).

The members are the trees, the logistic regression (``predict.linear``) and blends of the two
in log-odds, the trees' share being one of ``TREES_SHARES`` (1: the trees alone, 0: the
regression alone). Trees rank best on tables with interactions; on event logs, where a few
activity counts carry the signal, the regression ranked better (issue 20). Each member is
measured by ROC AUC on validation rows it did not learn from: with a time column, later rows
(forward chaining: learn from everything before a boundary, validate on the rows up to the
next), else stratified folds. The member with the best mean wins; a tie goes to the larger
trees' share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.predict.dataset import Dataset
from leadscore.predict.linear import fit_linear
from leadscore.predict.splits import validation_folds

#: The trees' share of the log-odds in the members compared.
TREES_SHARES = (1.0, 0.75, 0.5, 0.25, 0.0)
#: Means closer than this are a tie (noise); the larger trees' share wins it.
TIE = 1e-4

#: Grows trees on a subset of rows of the frame and returns their log-odds on other rows:
#: (fitting rows, rows to predict) -> raw scores.
GrowTrees = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Choice:
    """Which member was chosen and why: the mean validation ROC AUC of each trees' share."""

    trees_share: float
    means: dict[float, float] = field(default_factory=dict)
    folds: int = 0
    why: str = ""

    def report(self) -> dict[str, object]:
        return {
            "chosen": member_name(self.trees_share),
            "trees_share": self.trees_share,
            "folds": self.folds,
            "validation_roc_auc": {member_name(k): round(v, 4) for k, v in self.means.items()},
            "why": self.why,
        }


def member_name(trees_share: float) -> str:
    """``trees``, ``logistic regression`` or ``trees 75% + logistic regression 25%``."""
    if trees_share >= 1.0:
        return "trees"
    if trees_share <= 0.0:
        return "logistic regression"
    return f"trees {trees_share:.0%} + logistic regression {1 - trees_share:.0%}"


def choose(data: Dataset, frame: pd.DataFrame, seed: int, grow: GrowTrees) -> Choice:
    """The member with the best mean validation ROC AUC (see the module's docstring)."""
    folds = validation_folds(data, seed)
    if not folds:
        return Choice(1.0, why="too few conversions to compare the members: the trees")
    found: dict[float, list[float]] = {share: [] for share in TREES_SHARES}
    for learn, check in folds:
        trees = grow(learn, check)
        linear = fit_linear(frame.iloc[learn], data.label[learn], seed)
        regression = linear.log_odds(frame.iloc[check])
        for share in TREES_SHARES:
            blended = share * trees + (1.0 - share) * regression
            found[share].append(float(roc_auc_score(data.label[check], blended)))
    means = {share: float(np.mean(aucs)) for share, aucs in found.items()}
    best = max(means.values())
    chosen = next(share for share in TREES_SHARES if means[share] >= best - TIE)
    others = sorted(
        (member_name(s) + f" {means[s]:.4f}" for s in TREES_SHARES if s != chosen), key=str
    )
    why = (
        f"best mean ROC AUC on {len(folds)} validation fold(s) of the training rows: "
        f"{means[chosen]:.4f} (others: {', '.join(others)})"
    )
    return Choice(chosen, means, len(folds), why)
