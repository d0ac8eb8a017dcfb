"""Evaluation measures against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from leadscore.predict import metrics


def test_lift_and_capture_count_the_top_rows_by_hand() -> None:
    # 10 rows, 4 converters; the top 10 % is the single best row (a converter),
    # the top 20 % the two best (one converter, one not)
    score = np.array([95, 90, 80, 70, 60, 50, 40, 30, 20, 10], float)
    label = np.array([1, 0, 1, 0, 0, 1, 0, 0, 1, 0])
    found = metrics.evaluate(score, label, probabilistic=False)
    assert found["lift_top_10"] == pytest.approx(1.0 / 0.4)
    assert found["capture_top_10"] == pytest.approx(1 / 4)
    assert found["lift_top_20"] == pytest.approx(0.5 / 0.4)
    assert found["capture_top_20"] == pytest.approx(1 / 4)
    # pairs (converter, not) ranked right: 1: 6 of 6, 3: 5 of 6, 6: 3 of 6, 9: 1 of 6
    assert found["roc_auc"] == pytest.approx((6 + 5 + 3 + 1) / 24)
    assert found["brier"] is None and found["ece"] is None


def test_expected_calibration_error_by_hand() -> None:
    probability = np.array([0.05, 0.05, 0.95, 0.95])
    label = np.array([0, 1, 1, 1])
    # bin 0: predicted 0.05, observed 0.5 (2 rows); bin 9: predicted 0.95, observed 1 (2 rows)
    expected = (2 * 0.45 + 2 * 0.05) / 4
    assert metrics.expected_calibration_error(probability, label) == pytest.approx(expected)
    found = metrics.evaluate(100 * probability, label, probabilistic=True)
    assert found["ece"] == pytest.approx(expected)
    # Brier: mean squared error of the probabilities
    assert found["brier"] == pytest.approx((0.05**2 + 0.95**2 + 0.05**2 + 0.05**2) / 4)


def test_bands_hold_each_score_once_and_the_top_edge() -> None:
    score = np.array([0, 9.99, 10, 55, 100], float)
    label = np.array([0, 0, 1, 1, 1])
    bands = {b["band"]: b for b in metrics.by_band(score, label, (0, 10, 50, 100))}
    assert bands["0-10"]["rows"] == 2 and bands["0-10"]["conversion_rate"] == 0
    assert bands["10-50"]["rows"] == 1
    assert bands["50-100"]["rows"] == 2 and bands["50-100"]["conversion_rate"] == 1


def test_conversion_by_tier() -> None:
    rows = metrics.by_tier(["hot", "cold", "hot", None], np.array([1, 0, 0, 1]))
    assert {r["tier"]: (r["rows"], r["conversion_rate"]) for r in rows} == {
        "hot": (2, 0.5),
        "cold": (1, 0.0),
        "(none)": (1, 1.0),
    }
