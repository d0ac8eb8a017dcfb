"""How good a score is at finding converters: ranking (ROC AUC, PR AUC, lift, capture),
probability quality (Brier score, expected calibration error) and conversion by band.

Scores are on the 0-100 scale; only a model that claims probabilities (``probabilistic``) is
judged on calibration, because a point total is not one.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

CALIBRATION_BINS = 10
TOP_SHARES = (0.1, 0.2)


def top_share(score: np.ndarray, share: float) -> np.ndarray:
    """The rows in the top ``share`` by score (ties broken by row order, like a sorted list)."""
    count = max(1, round(share * len(score)))
    return np.argsort(-score, kind="stable")[:count]


def expected_calibration_error(probability: np.ndarray, label: np.ndarray) -> float:
    """Mean |observed rate - mean probability| over equal-width bins, weighted by rows."""
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    error = 0.0
    for b in np.unique(bins):
        rows = bins == b
        error += rows.sum() * abs(label[rows].mean() - probability[rows].mean())
    return float(error / len(label))


def calibration_curve(probability: np.ndarray, label: np.ndarray) -> list[dict[str, float]]:
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    return [
        {
            "predicted": float(probability[bins == b].mean()),
            "observed": float(label[bins == b].mean()),
            "rows": int((bins == b).sum()),
        }
        for b in np.unique(bins)
    ]


def by_band(score: np.ndarray, label: np.ndarray, edges: tuple[float, ...]) -> list[dict[str, Any]]:
    """Conversion rate in each score band ``[edge_i, edge_i+1)`` (the last band is closed)."""
    rows = []
    for low, high in itertools.pairwise(edges):
        last = high == edges[-1]
        inside = (score >= low) & ((score <= high) if last else (score < high))
        rows.append(
            {
                "band": f"{low:g}-{high:g}",
                "rows": int(inside.sum()),
                "conversion_rate": float(label[inside].mean()) if inside.any() else None,
            }
        )
    return rows


def by_tier(tiers: list[str | None], label: np.ndarray) -> list[dict[str, Any]]:
    found: dict[str, list[int]] = {}
    for tier, y in zip(tiers, label.tolist(), strict=True):
        found.setdefault(tier or "(none)", []).append(int(y))
    return [
        {"tier": tier, "rows": len(ys), "conversion_rate": sum(ys) / len(ys)}
        for tier, ys in found.items()
    ]


def evaluate(
    score: np.ndarray,
    label: np.ndarray,
    *,
    probabilistic: bool,
    tiers: list[str | None] | None = None,
) -> dict[str, Any]:
    """Every measure of one model's scores (0-100) against the labels."""
    score = np.asarray(score, float)
    base_rate = float(label.mean())
    result: dict[str, Any] = {
        "rows": len(label),
        "conversions": int(label.sum()),
        "roc_auc": float(roc_auc_score(label, score)),
        "pr_auc": float(average_precision_score(label, score)),
    }
    for share in TOP_SHARES:
        top = top_share(score, share)
        rate = float(label[top].mean())
        key = f"top_{round(share * 100)}"
        result[f"lift_{key}"] = rate / base_rate if base_rate else None
        result[f"capture_{key}"] = float(label[top].sum() / label.sum()) if label.sum() else None
    fpr, tpr, _ = roc_curve(label, score)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), 200)).astype(int))
    result["roc_curve"] = {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()}
    if probabilistic:
        probability = np.clip(score / 100.0, 0, 1)
        result["brier"] = float(brier_score_loss(label, probability))
        result["ece"] = expected_calibration_error(probability, label)
        result["calibration"] = calibration_curve(probability, label)
        result["by_band"] = by_band(score, label, (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100))
    else:
        result["brier"] = result["ece"] = None
        deciles = tuple(float(q) for q in np.unique(np.quantile(score, np.linspace(0, 1, 6))))
        result["by_band"] = by_band(score, label, deciles) if len(deciles) > 1 else []
    if tiers is not None:
        result["by_tier"] = by_tier(tiers, label)
    return result
