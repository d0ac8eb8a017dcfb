"""The Odoo-style frequency table and logistic regression baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.predict.baselines import FrequencyTable, logistic_regression, logistic_scores


def test_frequency_table_combines_laplace_smoothed_frequencies_by_hand() -> None:
    # country: won leads FR, FR, DE; lost leads FR, DE, DE, DE
    frame = pd.DataFrame({"country": pd.Categorical(["FR", "FR", "DE", "FR", "DE", "DE", "DE"])})
    label = np.array([1, 1, 1, 0, 0, 0, 0])
    table = FrequencyTable(frame, label)
    # levels FR, DE, and one more for a value never seen: 3; alpha 1
    p_fr_won, p_fr_lost = (2 + 1) / (3 + 3), (1 + 1) / (4 + 3)
    prior = 3 / 4
    odds = prior * p_fr_won / p_fr_lost
    expected_fr = 100 * odds / (1 + odds)
    new = pd.DataFrame({"country": pd.Categorical(["FR", "IT"], categories=["FR", "DE", "IT"])})
    scores = table.scores(new)
    assert scores[0] == pytest.approx(expected_fr)
    # a value never seen: 1 / (total + 3) on each side
    unseen = prior * (1 / 6) / (1 / 7)
    assert scores[1] == pytest.approx(100 * unseen / (1 + unseen))


def test_frequency_table_bins_numbers_and_keeps_missing_apart() -> None:
    values = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, np.nan])
    label = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
    table = FrequencyTable(pd.DataFrame({"size": values}), label)
    scores = table.scores(pd.DataFrame({"size": [8.0, 1.0, np.nan]}))
    assert scores[0] > 50 > scores[1]
    assert scores[2] < 50  # missing was seen only among the lost


def test_logistic_regression_ranks_a_clear_signal() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    label = (rng.random(2000) < 1 / (1 + np.exp(-3 * x))).astype(int)
    frame = pd.DataFrame({"x": x, "colour": pd.Categorical(rng.choice(["red", "blue"], 2000))})
    frame.loc[::10, "x"] = np.nan  # missing values are imputed, not refused
    model = logistic_regression(frame, label, seed=0)
    scores = logistic_scores(
        model, pd.DataFrame({"x": [2.0, -2.0], "colour": pd.Categorical(["green", "red"])})
    )
    assert scores[0] > 90 and scores[1] < 10
