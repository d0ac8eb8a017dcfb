"""Calibration: a model's raw probability made a probability, kept as knots (the one
calibration format): isotonic steps on many conversions, a Platt sigmoid on few."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

#: Below this many conversions to calibrate on, isotonic steps are too coarse (on the demo's
#: 111, a quarter of the leads shared one probability): a sigmoid (Platt) is fitted instead.
PLATT_BELOW = 500
#: Knots a Platt curve is kept as (the one calibration format: knots, interpolated).
PLATT_KNOTS = 256


@dataclass(frozen=True)
class Calibration:
    """Calibration kept as knots (isotonic steps, or a Platt sigmoid sampled finely): the
    calibrated value interpolates them."""

    x: np.ndarray
    y: np.ndarray

    def __call__(self, probability: np.ndarray) -> np.ndarray:
        return np.asarray(np.interp(probability, self.x, self.y), float)

    @classmethod
    def learn(cls, probability: np.ndarray, label: np.ndarray) -> Calibration:
        """Isotonic from ``PLATT_BELOW`` conversions on (it follows any monotone shape);
        below, Platt scaling (a logistic fit on the probability's log-odds), which moves
        smoothly, so no large share of leads sits on one value."""
        if int(label.sum()) < PLATT_BELOW:
            return cls._platt(probability, label)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(probability, label)
        return cls(np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float))

    @classmethod
    def _platt(cls, probability: np.ndarray, label: np.ndarray) -> Calibration:
        clipped = np.clip(probability, 1e-6, 1 - 1e-6)
        logit = np.log(clipped / (1 - clipped)).reshape(-1, 1)
        fit = LogisticRegression(C=1e6).fit(logit, label)
        grid = np.unique(np.quantile(clipped, np.linspace(0, 1, PLATT_KNOTS)))
        grid = np.unique(np.r_[1e-6, grid, 1 - 1e-6])
        values = fit.predict_proba(np.log(grid / (1 - grid)).reshape(-1, 1))[:, 1]
        return cls(grid.astype(float), values.astype(float))
