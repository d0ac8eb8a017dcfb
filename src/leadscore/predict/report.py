"""The evaluation report: JSON for machines, one self-contained HTML page (inline SVG charts,
no scripts, no network) for people."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
SIZE = 320
#: The summary's columns, on the page and on the screen: (title, key in a model's measures).
MEASURES = (
    ("ROC AUC", "roc_auc"),
    ("PR AUC", "pr_auc"),
    ("lift top 10%", "lift_top_10"),
    ("capture top 10%", "capture_top_10"),
    ("lift top 20%", "lift_top_20"),
    ("capture top 20%", "capture_top_20"),
    ("Brier", "brier"),
    ("ECE", "ece"),
)
PAD = 36


#: What each measure says, on the page under the table.
MEANINGS = "".join(
    f"<dt>{title}</dt><dd>{text}</dd>"
    for title, text in (
        ("ROC AUC", "the chance that a converter picked at random scores above a non-converter "
         "picked at random: 0.5 is a coin toss, 1 a perfect order; the main measure of ranking."),
        ("PR AUC", "precision averaged over recall: how clean the top of the list is; compare "
         "it with the conversion rate, which is what a random order gets."),
        ("lift top 10% / 20%", "how many times the conversion rate of the whole list the best "
         "10 % (20 %) of leads convert at: 3 means sales calling them meet three times as "
         "many buyers as calling at random."),
        ("capture top 10% / 20%", "the share of all converters found among the best 10 % "
         "(20 %) of leads."),
        ("Brier", "the mean squared gap between a probability and what happened (0 or 1): "
         "lower is better; only for models that give probabilities."),
        ("ECE", "expected calibration error: how far, on average, stated probabilities are from "
         "the observed rates (0.02: two points off); lower is better."),
    )
)  # fmt: skip
#: Learned points this close to the best ROC AUC are worth their readability.
POINTS_CLOSE = 0.02


def advice(measured: dict[str, dict[str, Any]]) -> str:
    """Which model to use, in a sentence or two, from the ranking measured on held-out rows."""
    ranked = sorted(measured, key=lambda n: -(measured[n]["roc_auc"] or 0.0))
    if not ranked:
        return "No model could be measured on these rows."
    best = ranked[0]
    text = (
        f"{best} ranks the held-out leads best (ROC AUC {measured[best]['roc_auc']:.3f}"
        f", lift {_fmt(measured[best].get('lift_top_10'), 1)} in the top 10 %)."
    )
    points = measured.get("learned points")
    if best.startswith("hand model"):
        text += (
            " The project's own point model is the one to keep: no trained model beats it on "
            "this data (more history, or more conversions, may change that)."
        )
    elif best == "learned points":
        text += " A point model people can read and tune: leadscore learn-points writes it."
    elif points is not None and points["roc_auc"] is not None:
        gap = measured[best]["roc_auc"] - points["roc_auc"]
        if gap <= POINTS_CLOSE:
            text += (
                f" Learned points are {gap:.3f} behind: a point model people can read and "
                "tune ranks nearly as well (leadscore learn-points writes it)."
            )
        else:
            text += (
                f" Learned points are {gap:.3f} behind: for ranking, serve the trained model "
                "(leadscore train), and keep points for what people read."
            )
    return text


def write(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "evaluation.json", folder / "evaluation.html"
    json_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    html_path.write_text(page(report), encoding="utf-8")
    return json_path, html_path


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


#: Upper ends an axis may take: the smallest one above the data, so a calibration chart
#: of rare conversions is not a flat line along the bottom.
_AXIS_ENDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def axis_end(values: list[float]) -> float:
    """The axis's upper end: the smallest of ``_AXIS_ENDS`` at or above every value."""
    top = max([v for v in values if v == v] or [1.0])  # NaN-free
    return next((end for end in _AXIS_ENDS if top <= end), 1.0)


def _xy(x: float, y: float, x_end: float, y_end: float) -> str:
    span = SIZE - 2 * PAD
    fx, fy = min(max(x / x_end, 0.0), 1.0), min(max(y / y_end, 0.0), 1.0)
    return f"{PAD + fx * span:.1f},{SIZE - PAD - fy * span:.1f}"


def _ticks(x_end: float, y_end: float) -> list[str]:
    """Grid lines and numbers at every fifth of each axis."""
    span = SIZE - 2 * PAD
    parts = []
    for i in range(6):
        at = PAD + i * span / 5
        x_value, y_value = f"{x_end * i / 5:g}", f"{y_end * i / 5:g}"
        parts.append(
            f'<line x1="{at:.1f}" y1="{PAD}" x2="{at:.1f}" y2="{SIZE - PAD}" stroke="#eee"/>'
            f'<text x="{at:.1f}" y="{SIZE - PAD + 14}" text-anchor="middle" '
            f'font-size="11">{x_value}</text>'
        )
        y_at = SIZE - at
        parts.append(
            f'<line x1="{PAD}" y1="{y_at:.1f}" x2="{SIZE - PAD}" y2="{y_at:.1f}" stroke="#eee"/>'
            f'<text x="{PAD - 4}" y="{y_at + 4:.1f}" text-anchor="end" '
            f'font-size="11">{y_value}</text>'
        )
    return parts


def _chart(
    title: str,
    x_label: str,
    y_label: str,
    lines: list[tuple[str, list[tuple[float, float]]]],
    order: list[str],
    zoom: bool = False,
) -> str:
    """An SVG line chart with numbered axes; ``zoom``: both axes end just above the data
    (a calibration chart), else at 1."""
    values = [v for _, points in lines for point in points for v in point]
    end = axis_end(values) if zoom else 1.0
    parts = [
        f'<svg width="{SIZE}" height="{SIZE}" role="img" aria-label="{html.escape(title)}" '
        f'data-chart="{html.escape(title)}">',
        *_ticks(end, end),
        f'<rect x="{PAD}" y="{PAD}" width="{SIZE - 2 * PAD}" height="{SIZE - 2 * PAD}" '
        'fill="none" stroke="#999"/>',
        f'<text x="{SIZE / 2}" y="16" text-anchor="middle">{html.escape(title)}</text>',
        f'<text x="{SIZE / 2}" y="{SIZE - 4}" text-anchor="middle">{x_label}</text>',
        f'<text x="10" y="{SIZE / 2}" transform="rotate(-90 10 {SIZE / 2})" '
        f'text-anchor="middle">{y_label}</text>',
        f'<polyline points="{_xy(0, 0, end, end)} {_xy(end, end, end, end)}" stroke="#bbb" '
        'stroke-dasharray="4 3" fill="none"/>',
    ]
    for name, points in lines:
        colour = COLOURS[order.index(name) % len(COLOURS)]
        coords = " ".join(_xy(x, y, end, end) for x, y in points)
        parts.append(
            f'<polyline points="{coords}" stroke="{colour}" fill="none" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<li><span style="color:{COLOURS[i % len(COLOURS)]}">&#9632;</span> {html.escape(n)}</li>'
        for i, n in enumerate(names)
    )
    return f'<ul class="legend">{items}</ul>'


def page(report: dict[str, Any]) -> str:
    models: dict[str, dict[str, Any]] = report["models"]
    measured = {n: m for n, m in models.items() if "roc_auc" in m}
    header = "<tr><th>model</th>" + "".join(f"<th>{title}</th>" for title, _ in MEASURES) + "</tr>"
    rows = []
    for name, m in models.items():
        if "roc_auc" not in m:
            rows.append(
                f"<tr><td>{html.escape(name)}</td><td colspan={len(MEASURES)}>"
                f"{html.escape(m.get('note', ''))}</td></tr>"
            )
            continue
        cells = "".join(f"<td>{_fmt(m[key])}</td>" for _, key in MEASURES)
        rows.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    roc = _chart(
        "ROC curve",
        "false positive rate",
        "true positive rate",
        [
            (n, list(zip(m["roc_curve"]["fpr"], m["roc_curve"]["tpr"], strict=True)))
            for n, m in measured.items()
        ],
        list(measured),
    )
    calibrated = {n: m for n, m in measured.items() if m.get("calibration")}
    calibration = _chart(
        "Calibration",
        "predicted probability",
        "observed rate",
        [
            (n, [(b["predicted"], b["observed"]) for b in m["calibration"]])
            for n, m in calibrated.items()
        ],
        list(measured),
        zoom=True,
    )
    bands: list[str] = []
    for name, m in measured.items():
        band_rows = "".join(
            f"<tr><td>{html.escape(str(b.get('band', b.get('tier'))))}</td><td>{b['rows']}</td>"
            f"<td>{_fmt(b['conversion_rate'])}</td></tr>"
            for b in m.get("by_band", []) + m.get("by_tier", [])
        )
        bands.append(
            f"<details><summary>{html.escape(name)}: conversion by band and tier"
            f"</summary><table><tr><th>band / tier</th><th>rows</th>"
            f"<th>conversion rate</th></tr>{band_rows}</table></details>"
        )
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in report.get("warnings", []))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leadscore evaluation</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.legend{{list-style:none;padding:0}}
figure{{display:inline-block;max-width:340px;margin:0 1em 1em 0;vertical-align:top}}
figcaption{{font-size:90%}}dt{{font-weight:bold}}svg{{max-width:100%;height:auto}}</style>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body>
<h1>leadscore evaluation</h1>
<p>Data: {html.escape(str(report["source"]))}. Split: {html.escape(report["split"])}.
Trained on {report["train_rows"]:,} rows ({report["train_conversions"]:,} conversions), measured on
{report["test_rows"]:,} held-out rows ({report["test_conversions"]:,} conversions). Seed
{report["seed"]}.</p>
{f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else ""}
<h2>Which model to use</h2><p>{html.escape(advice(measured))}</p>
<h2>Models</h2><table>{header}{"".join(rows)}</table>
<p>Point models give points, not probabilities: their Brier score and calibration error are
n/a; their bands are score quintiles.</p>
<h2>What the measures mean</h2><dl>{MEANINGS}</dl>
<h2>Charts</h2>
<figure>{roc}<figcaption>How many of the converters (up) each model finds for how many of
the others it lets through (across), ranking the held-out rows by score: the higher and
further left the curve, the better; the dashed diagonal is a random order.</figcaption>
</figure>
<figure>{calibration}<figcaption>Predicted probability (across) against the share that
converted (up), in bands of rows: on the dashed diagonal, "30 %" means three in ten. Axes end
just above the largest value.</figcaption></figure>{_legend(list(measured))}
<h2>Conversion by band</h2>{"".join(bands)}
</body></html>
"""
