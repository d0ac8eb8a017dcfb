"""The evaluation page: charts with numbered axes that hold their curves, the measures
explained, and advice on which model to use that follows the numbers."""

from __future__ import annotations

import re
from typing import Any

from leadscore.predict.report import advice, axis_end, page


def _model(auc: float, **extra: Any) -> dict[str, Any]:
    return {"roc_auc": auc, "pr_auc": 0.1, "lift_top_10": 2.0, "capture_top_10": 0.2,
            "lift_top_20": 1.5, "capture_top_20": 0.3, "brier": None, "ece": None,
            "roc_curve": {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.8, 1.0]},
            "calibration": [{"predicted": 0.01, "observed": 0.02},
                            {"predicted": 0.08, "observed": 0.07}], **extra}  # fmt: skip


REPORT = {
    "source": "test", "split": "later rows by time", "train_rows": 100,
    "train_conversions": 10, "test_rows": 50, "test_conversions": 5, "seed": 0,
    "models": {"trees (default settings)": _model(0.80), "learned points": _model(0.79)},
}  # fmt: skip


def test_axes_end_just_above_the_data() -> None:
    assert axis_end([0.01, 0.08, 0.07]) == 0.1
    assert axis_end([0.3, 0.21]) == 0.5
    assert axis_end([0.0]) == 0.01
    assert axis_end([0.9, 1.0]) == 1.0


def test_the_page_numbers_its_axes_and_keeps_curves_inside() -> None:
    html = page(REPORT)
    calibration = html[html.index('data-chart="Calibration"') :]
    calibration = calibration[: calibration.index("</svg>")]
    # zoomed: the calibration axes run 0 .. 0.1 in fifths
    for tick in ("0", "0.02", "0.04", "0.06", "0.08", "0.1"):
        assert f">{tick}</text>" in calibration
    for x, y in re.findall(r"(\d+\.\d),(\d+\.\d)", calibration):
        assert 36 <= float(x) <= 284 and 36 <= float(y) <= 284  # inside the plot's frame
    assert "What the measures mean" in html and "a coin toss" in html


def test_advice_follows_the_numbers() -> None:
    close = advice({"trees": _model(0.80), "learned points": _model(0.79)})
    assert close.startswith("trees ranks the held-out leads best (ROC AUC 0.800")
    assert "Learned points are 0.010 behind: a point model people can read" in close
    far = advice({"trees": _model(0.80), "learned points": _model(0.70)})
    assert "0.100 behind: for ranking, serve the trained model" in far
    hand = advice({"hand model 'brief'": _model(0.72), "trees": _model(0.55)})
    assert "The project's own point model is the one to keep" in hand
