"""An honest comparison: every model learns from the same earlier rows and is measured on the
same later rows it never saw, beside the baselines it must beat.

Compared: the default model (the best of the trees, a logistic regression and their blends
on validation folds of the training rows: ``predict.family``), the trees alone, optionally
the trees tuned by a small random search (judged on validation folds of the training rows,
the default settings among the candidates, never on the test rows), learned points, logistic
regression, the Odoo-style frequency table, and the project's hand-written point models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from leadscore.predict import MIN_CONVERSIONS, baselines, metrics
from leadscore.predict.dataset import Dataset
from leadscore.predict.feedback import agreement
from leadscore.predict.points import learn_points
from leadscore.predict.splits import HOLDOUT_SHARE, later_rows
from leadscore.predict.trees import TreeModel, train, validation_roc_auc
from leadscore.spec.model import ScoringModel

SEARCH_SPACE: dict[str, list[Any]] = {
    "learning_rate": [0.02, 0.05, 0.1],
    "num_leaves": [7, 15, 31, 63],
    "min_child_samples": [10, 20, 50, 100],
    "feature_fraction": [0.5, 0.7, 0.9, 1.0],
    "lambda_l2": [0.0, 1.0, 10.0],
}

#: Scores point models on rows: (model, rows) -> (points, tiers).
#: The report's name for the model ``train`` gives by default.
DEFAULT = "default model (chosen by validation)"

PointScorer = Callable[[ScoringModel, Dataset], tuple[np.ndarray, list[str | None]]]


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    model: TreeModel


def tune(data: Dataset, seed: int, trials: int) -> tuple[TreeModel, dict[str, Any]]:
    """A small random search over the trees' settings, each candidate judged by its mean ROC
    AUC on the validation folds of the training rows (``trees.validation_roc_auc``), the
    default settings among the candidates: the search never keeps settings that did worse
    than the default on those folds, and the test rows stay unseen. The winner is trained like
    the default (the family compared, out-of-fold calibration); ``{}`` when the default won."""
    rng = np.random.default_rng(seed)
    best_auc = validation_roc_auc(data, seed=seed)
    best: dict[str, Any] = {}
    for _ in range(trials if best_auc is not None else 0):
        params = {key: values[rng.integers(len(values))] for key, values in SEARCH_SPACE.items()}
        auc = validation_roc_auc(data, seed=seed, params=params)
        if auc is not None and best_auc is not None and auc > best_auc:
            best_auc, best = auc, params
    chosen, _ = train(data, seed=seed, params=best, min_conversions=1)
    return chosen, best


def evaluate(
    data: Dataset,
    *,
    seed: int = 0,
    hand_models: list[ScoringModel] | None = None,
    score_points: PointScorer,
    kinds: list[str] | None = None,
    tune_trials: int = 0,
    with_points: bool = True,
    min_conversions: int = MIN_CONVERSIONS,
) -> Evaluation:
    """Train on the earlier rows, measure on the later ones; every number in ``report``."""
    earlier, later = later_rows(data, HOLDOUT_SHARE, seed)
    learning, test = data.subset(earlier), data.subset(later)
    label = test.label
    models: dict[str, dict[str, Any]] = {}

    started = time.perf_counter()
    default, warnings = train(learning, seed=seed, min_conversions=min_conversions)
    seconds = time.perf_counter() - started
    family = default.info["family"]
    models[DEFAULT] = {
        **metrics.evaluate(default.score(test), label, probabilistic=True),
        "train_seconds": seconds,
        "chosen": family["chosen"],
        "why": family["why"],
    }
    trees = default
    if default.trees_share < 1.0:  # the trees alone, as the default was before the family
        started = time.perf_counter()
        trees, _ = train(learning, seed=seed, min_conversions=min_conversions, family=False)
        seconds = time.perf_counter() - started
    models["trees (default settings)"] = {
        **metrics.evaluate(trees.score(test), label, probabilistic=True),
        "train_seconds": seconds,
    }
    if tune_trials:
        started = time.perf_counter()
        tuned, params = tune(learning, seed, tune_trials)
        models[f"trees (tuned, {tune_trials} trials)"] = {
            **metrics.evaluate(tuned.score(test), label, probabilistic=True),
            "train_seconds": time.perf_counter() - started,
            "params": params,
        }
    if with_points:
        started = time.perf_counter()
        learned = learn_points(learning, kinds=kinds, seed=seed)
        scores, tiers = score_points(learned.model, test)
        models["learned points"] = {
            **metrics.evaluate(scores, label, probabilistic=False, tiers=tiers),
            "train_seconds": time.perf_counter() - started,
            "rules": learned.rules,
        }
    fit_frame, test_frame = trees.frame(learning), trees.frame(test)
    lr = baselines.logistic_regression(fit_frame, learning.label, seed)
    models["logistic regression"] = metrics.evaluate(
        baselines.logistic_scores(lr, test_frame), label, probabilistic=True
    )
    table = baselines.FrequencyTable(fit_frame, learning.label)
    models["naive Bayes frequency table (Odoo-style)"] = metrics.evaluate(
        table.scores(test_frame), label, probabilistic=True
    )
    for hand in hand_models or []:
        scores, tiers = score_points(hand, test)
        if np.ptp(scores) == 0:
            models[f"hand model {hand.name!r}"] = {
                "rows": len(label),
                "note": "gives every row the same score: its fields are not in this data",
            }
            continue
        models[f"hand model {hand.name!r}"] = metrics.evaluate(
            scores, label, probabilistic=False, tiers=tiers
        )
    heard = None if test.heard is None else agreement(default.score(test), test.heard)
    report = {
        "source": data.source,
        "window": data.window,
        "split": "later rows by time" if data.timed else "stratified random (no time column)",
        "train_rows": len(earlier),
        "train_conversions": learning.conversions,
        "test_rows": len(later),
        "test_conversions": test.conversions,
        "seed": seed,
        "warnings": warnings,
        "models": models,
        # how the default model's score at each cut-off agreed with sales' later verdicts
        "sales_feedback": heard,
    }
    return Evaluation(report, default)
