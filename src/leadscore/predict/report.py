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


def _xy(x: float, y: float) -> str:
    return f"{PAD + x * (SIZE - 2 * PAD):.1f},{SIZE - PAD - y * (SIZE - 2 * PAD):.1f}"


def _chart(
    title: str,
    x_label: str,
    y_label: str,
    lines: list[tuple[str, list[tuple[float, float]]]],
    order: list[str],
) -> str:
    parts = [
        f'<svg width="{SIZE}" height="{SIZE}" role="img" aria-label="{html.escape(title)}">',
        f'<rect x="{PAD}" y="{PAD}" width="{SIZE - 2 * PAD}" height="{SIZE - 2 * PAD}" '
        'fill="none" stroke="#999"/>',
        f'<text x="{SIZE / 2}" y="16" text-anchor="middle">{html.escape(title)}</text>',
        f'<text x="{SIZE / 2}" y="{SIZE - 6}" text-anchor="middle">{x_label}</text>',
        f'<text x="10" y="{SIZE / 2}" transform="rotate(-90 10 {SIZE / 2})" '
        f'text-anchor="middle">{y_label}</text>',
    ]
    parts.append(f'<polyline points="{_xy(0, 0)} {_xy(1, 1)}" stroke="#ccc" fill="none"/>')
    for name, points in lines:
        colour = COLOURS[order.index(name) % len(COLOURS)]
        coords = " ".join(_xy(min(max(x, 0), 1), min(max(y, 0), 1)) for x, y in points)
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
td:first-child,th:first-child{{text-align:left}}.legend{{list-style:none;padding:0}}</style>
</head><body>
<h1>leadscore evaluation</h1>
<p>Data: {html.escape(str(report["source"]))}. Split: {html.escape(report["split"])}.
Trained on {report["train_rows"]:,} rows ({report["train_conversions"]:,} conversions), measured on
{report["test_rows"]:,} held-out rows ({report["test_conversions"]:,} conversions). Seed
{report["seed"]}.</p>
{f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else ""}
<h2>Models</h2><table>{header}{"".join(rows)}</table>
<p>Point models give points, not probabilities: their Brier score and calibration error are
n/a; their bands are score quintiles.</p>
<h2>Charts</h2>{roc} {calibration}{_legend(list(measured))}
<h2>Conversion by band</h2>{"".join(bands)}
</body></html>
"""
