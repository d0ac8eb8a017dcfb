"""Does the model work, and is it drifting: conversion by tier and by score band, the high
scores that did not convert and the low ones that did (the lists), the ROC AUC of the score
against later conversions month by month; and the last period against the one before (the
score distribution's population stability index, the tier mix, conversion by tier).

Everything is read at snapshots of the model in use replayed point in time: a lead counts at a
snapshot when it was scored and had not converted yet, and converted if its first conversion
came within the horizon after."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leadscore._types import MILLI, format_as_of
from leadscore.app.backtest_metrics import snapshots
from leadscore.engines.prepared import Ints
from leadscore.engines.replay import Replay
from leadscore.engines.semantics import DAY_US

NEVER = np.iinfo(np.int64).max
BAND_POINTS = 10
LIST_LENGTH = 25
#: PSI above this is a shift worth a look, above the next a large one (the usual reading).
PSI_MODERATE, PSI_LARGE = 0.1, 0.25
#: The score separates converters worse than this: a warning.
AUC_WARNING = 0.6


def _open(result: Replay, step: int, converted_at: Ints) -> Any:
    return result.scored[step] & (converted_at > result.instants[step])


def _labels(result: Replay, step: int, converted_at: Ints, horizon: int) -> Any:
    return converted_at <= result.instants[step] + horizon


def by_band(
    result: Replay, converted_at: Ints, horizon: int, steps: Sequence[int]
) -> list[dict[str, Any]]:
    """Leads and conversions within the horizon per 10-point score band at the snapshots."""
    counts: dict[int, list[int]] = {}
    for step in steps:
        open_ = _open(result, step, converted_at)
        bands = result.score[step][open_] // (BAND_POINTS * MILLI)
        won = _labels(result, step, converted_at, horizon)[open_]
        for band, hit in zip(bands.tolist(), won.tolist(), strict=True):
            entry = counts.setdefault(int(band), [0, 0])
            entry[0] += 1
            entry[1] += int(hit)
    return [
        {
            "band": f"{band * BAND_POINTS}-{(band + 1) * BAND_POINTS}",
            "leads": leads,
            "converted": won,
            "rate": won / leads if leads else None,
        }
        for band, (leads, won) in sorted(counts.items())
    ]


def surprises(
    result: Replay,
    converted_at: Ints,
    horizon: int,
    who_are: Callable[[list[str]], dict[str, dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """The high scores that did not convert (top tier at a snapshot with the whole horizon
    seen after it, no conversion within it) and the low scores that did (a conversion in the
    period whose lead was in the lowest tier, or unscored, at the step before it); the leads
    listed are named by ``who_are`` (``people.people``), asked once for them all."""
    ids = result.lead_ids.to_pylist()
    tiers = [name for name, _ in result.plan.tiers]
    end = int(result.instants[-1])
    high: dict[int, tuple[int, int]] = {}
    for step in snapshots(result.instants):
        if int(result.instants[step]) + horizon > end:
            continue
        open_ = _open(result, step, converted_at)
        top = open_ & (result.tier[step] == 0) & ~_labels(result, step, converted_at, horizon)
        for who in np.flatnonzero(top).tolist():
            score = int(result.score[step, who])
            if who not in high or score > high[who][0]:
                high[who] = (score, step)
    low = []
    inside = (converted_at > result.instants[0]) & (converted_at <= end)
    before = np.searchsorted(result.instants, converted_at, "left") - 1
    for who in np.flatnonzero(inside & (before >= 0)).tolist():
        step = int(before[who])
        tier = int(result.tier[step, who]) if result.scored[step, who] else -1
        if tier in (-1, len(tiers) - 1):
            low.append((int(result.score[step, who]), who, step))
    highest = sorted(high.items(), key=lambda kv: -kv[1][0])[:LIST_LENGTH]
    lowest = sorted(low)[:LIST_LENGTH]
    people = who_are([ids[who] for who, _ in highest] + [ids[who] for _, who, _ in lowest])
    return {
        "high_not_converted": [
            _row(ids[who], people, score, tiers[0], result.instants[step])
            for who, (score, step) in highest
        ],
        "low_converted": [
            _row(ids[who], people, score, tiers[-1] if tiers else None, result.instants[step],
                 converted_at[who])
            for score, who, step in lowest
        ],
    }  # fmt: skip


def _row(
    lead_id: str,
    people: dict[str, dict[str, Any]],
    score: int,
    tier: str | None,
    at: int,
    won: int | None = None,
) -> dict[str, Any]:
    who = people.get(lead_id, {})
    row = {
        "lead_id": lead_id,
        "name": who.get("name") or who.get("email") or "",
        "company": who.get("company", ""),
        "score": score / MILLI,
        "tier": tier,
        "at": format_as_of(int(at)),
    }
    if won is not None:
        row["converted"] = format_as_of(int(won))
    return row


def auc_by_month(result: Replay, converted_at: Ints, horizon: int) -> list[dict[str, Any]]:
    """At the first step of each month: the ROC AUC of the score against conversion within the
    horizon, over the leads scored and not yet converted (None without both kinds);
    ``complete`` is False while the horizon after it runs past the data's end."""
    months: dict[str, int] = {}
    for step, instant in enumerate(result.instants.tolist()):
        months.setdefault(datetime.fromtimestamp(instant // 1_000_000, UTC).strftime("%Y-%m"), step)
    found = []
    for month, step in months.items():
        open_ = _open(result, step, converted_at)
        labels = _labels(result, step, converted_at, horizon)[open_]
        scores = result.score[step][open_]
        auc = None
        if 0 < int(labels.sum()) < len(labels):
            auc = float(_roc_auc(labels, scores))
        found.append({
            "month": month,
            "leads": int(open_.sum()),
            "converted": int(labels.sum()),
            "roc_auc": auc,
            "complete": int(result.instants[step]) + horizon <= int(result.instants[-1]),
        })  # fmt: skip
    return found


def _roc_auc(labels: Any, scores: Any) -> float:
    """scikit-learn's ROC AUC, imported when a report is made (a second of start-up)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def psi(before: Ints, after: Ints) -> float:
    """The population stability index of two score samples over 10-point bands (the lowest
    and highest open-ended): sum of (after - before) x ln(after / before) over the bands'
    shares, each share at least 0.0001 so an empty band does not divide by zero."""
    edges = np.arange(1, 10) * BAND_POINTS * MILLI
    shares = []
    for sample in (before, after):
        counts = np.bincount(np.searchsorted(edges, sample, "right"), minlength=len(edges) + 1)
        shares.append(np.maximum(counts / max(len(sample), 1), 1e-4))
    return float(np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0])))


def drift(result: Replay, converted_at: Ints, period_days: int) -> dict[str, Any]:
    """The last ``period_days`` against the ``period_days`` before: the score distribution at
    each period's end (PSI), the tier mix there; and, for the leads open at each period's
    start, conversion within that period by their tier then and the score's ROC AUC (both
    periods' labels complete); with warnings in words."""
    tiers = [name for name, _ in result.plan.tiers]
    days = (result.instants // DAY_US).astype(np.int64)
    last_end = len(days) - 1
    last_start = int(np.searchsorted(days, days[-1] - period_days + 1))
    before_end = last_start - 1
    if before_end < 0:
        return {"available": False, "warnings": [], "period_days": period_days}
    before_start = int(np.searchsorted(days, days[before_end] - period_days + 1))
    periods = {"before": (before_start, before_end), "last": (last_start, last_end)}
    found: dict[str, Any] = {"available": True, "period_days": period_days, "warnings": []}
    samples = {}
    for name, (first, last) in periods.items():
        sample = result.score[last][result.scored[last]]
        samples[name] = sample
        mix = np.bincount(result.tier[last][result.scored[last]].astype(np.int64).clip(0),
                          minlength=len(tiers))  # fmt: skip
        # converted within the period itself: both periods' labels are complete
        open_ = _open(result, first, converted_at)
        labels = _labels(result, first, converted_at, period_days * DAY_US)[open_]
        auc = None
        if 0 < int(labels.sum()) < len(labels):
            auc = float(_roc_auc(labels, result.score[first][open_]))
        start_tier = result.tier[first][open_].astype(np.int64)
        found[name] = {
            "from": format_as_of(int(result.instants[first])),
            "to": format_as_of(int(result.instants[last])),
            "tier_mix": {tier: int(mix[i]) for i, tier in enumerate(tiers)},
            "conversion_by_tier": {
                tier: {
                    "leads": int((start_tier == i).sum()),
                    "converted": int(labels[start_tier == i].sum()),
                }
                for i, tier in enumerate(tiers)
            },
            "roc_auc": auc,
            "median_score": float(np.median(sample)) / MILLI if len(sample) else None,
        }
    found["psi"] = psi(samples["before"], samples["last"])
    found["warnings"] = _warnings(found)
    return found


def _warnings(found: dict[str, Any]) -> list[str]:
    notes = []
    value = found["psi"]
    if value > PSI_LARGE:
        notes.append(
            f"The scores shifted a lot between the two periods (PSI {value:.2f}, "
            f"above {PSI_LARGE}): check what changed in the data or the model."
        )
    elif value > PSI_MODERATE:
        notes.append(f"The scores shifted somewhat (PSI {value:.2f}, above {PSI_MODERATE}).")
    auc_last, auc_before = found["last"]["roc_auc"], found["before"]["roc_auc"]
    if auc_last is not None and auc_last < AUC_WARNING:
        notes.append(
            f"The score hardly separates the leads who convert any more (ROC AUC "
            f"{auc_last:.2f} in the last period; 0.5 is a coin toss): review the model."
        )
    elif auc_last is not None and auc_before is not None and auc_before - auc_last > 0.05:
        notes.append(
            f"The score separates converters less well than before (ROC AUC "
            f"{auc_before:.2f} -> {auc_last:.2f})."
        )
    return notes  # fmt: skip


def finite(value: float | None) -> float | None:
    """JSON has no NaN: a measure that is not a number is None."""
    return None if value is None or not math.isfinite(value) else value
