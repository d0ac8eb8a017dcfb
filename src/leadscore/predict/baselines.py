"""The simple models every learned model must beat, fitted on the same rows and features.

- Logistic regression: numbers standardised (missing: the median and a flag), categories one-hot.
- A naive-Bayes frequency table of the kind Odoo CRM uses for predictive lead scoring: for each
  field, how often each of its values was seen among won and among lost leads (numbers in
  quantile bins, missing as a value of its own), Laplace smoothed, combined as if independent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMBER_BINS = 10


def _kinds(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return [c for c in frame.columns if c not in categorical], categorical


def logistic_regression(frame: pd.DataFrame, label: np.ndarray, seed: int) -> Pipeline:
    numbers, categories = _kinds(frame)
    prepare = ColumnTransformer(
        [
            (
                "numbers",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numbers,
            ),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categories,
            ),
        ]
    )
    model = make_pipeline(prepare, LogisticRegression(max_iter=2000, C=1.0, random_state=seed))
    model.fit(_as_objects(frame, categories), label)
    return model


def logistic_scores(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    _, categories = _kinds(frame)
    return np.asarray(100.0 * model.predict_proba(_as_objects(frame, categories))[:, 1], float)


def _as_objects(frame: pd.DataFrame, categories: list[str]) -> pd.DataFrame:
    copy = frame.copy()
    for column in categories:
        copy[column] = copy[column].astype(object).where(copy[column].notna(), None)
    return copy


class FrequencyTable:
    """Odoo-style naive Bayes: per-field value frequencies among converted and not converted."""

    def __init__(self, frame: pd.DataFrame, label: np.ndarray, alpha: float = 1.0) -> None:
        self.alpha = alpha
        self.edges: dict[str, np.ndarray] = {}
        for column in frame.columns:
            if not isinstance(frame[column].dtype, pd.CategoricalDtype):
                values = frame[column].to_numpy(float)
                present = values[~np.isnan(values)]
                qs = np.linspace(0, 1, NUMBER_BINS + 1)[1:-1]
                self.edges[column] = np.unique(np.quantile(present, qs)) if len(present) else qs
        self.prior = np.array([(label == 0).sum(), (label == 1).sum()], float)
        self.tables: dict[str, tuple[dict[str, float], dict[str, float], int]] = {}
        values = self._values(frame)
        for column in frame.columns:
            counts = pd.crosstab(values[column], label)
            levels = len(counts.index) + 1  # the one more for a value never seen
            shares = []
            for outcome in (0, 1):
                column_counts = (
                    counts[outcome] if outcome in counts.columns else counts.iloc[:, 0] * 0
                )
                total = self.prior[outcome]
                shares.append(
                    {
                        str(level): (count + alpha) / (total + alpha * levels)
                        for level, count in column_counts.items()
                    }
                )
            self.tables[column] = (shares[0], shares[1], levels)

    def _values(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Every field as text levels: categories as they are, numbers as their bin."""
        found = {}
        for column in frame.columns:
            if column in self.edges:
                numbers = frame[column].to_numpy(float)
                bins = np.searchsorted(self.edges[column], numbers, side="right").astype(str)
                found[column] = np.where(np.isnan(numbers), "(missing)", bins)
            else:
                levels = frame[column].astype(object).where(frame[column].notna(), "(missing)")
                found[column] = levels.astype(str).to_numpy()
        return pd.DataFrame(found, index=frame.index)

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        values = self._values(frame)
        log_odds = np.full(len(frame), np.log(self.prior[1] / self.prior[0]))
        for column, (lost, won, levels) in self.tables.items():
            unseen_lost = self.alpha / (self.prior[0] + self.alpha * levels)
            unseen_won = self.alpha / (self.prior[1] + self.alpha * levels)
            column_values = values[column].tolist()
            log_odds += np.log([won.get(v, unseen_won) for v in column_values])
            log_odds -= np.log([lost.get(v, unseen_lost) for v in column_values])
        return np.asarray(100.0 / (1.0 + np.exp(-log_odds)), float)
