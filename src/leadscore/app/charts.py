"""Charts as inline SVG for pages that must open anywhere (no scripts, no network): grouped
bars, horizontal bars and lines, each with axes, ticks, axis titles with units, a legend and a
title that screen readers read (``role="img"``). Text is escaped; values may be None (drawn as
a gap)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 64

Series = Mapping[str, Sequence[float | None]]


def nice_end(values: Sequence[float | None]) -> float:
    """A round axis end at or above every value: 1, 2 or 5 times a power of ten."""
    top = max([v for v in values if v is not None] + [0.0])
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover


def _number(value: float) -> str:
    """A tick or value label: whole numbers as such, others with what decimals they need."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"


def _frame(chart_id: str, title: str, body: list[str], y_title: str, x_title: str,
           y_end: float, y_format: str = "") -> str:  # fmt: skip
    inner_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" data-chart="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for k in range(5):  # y ticks and grid
        value = y_end * k / 4
        y = TOP + inner_h - inner_h * k / 4
        label = f"{value * 100:.0f}%" if y_format == "%" else _number(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')  # fmt: skip
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    parts += body
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" '
                 f'y2="{TOP + inner_h}" stroke="#333"/>')  # fmt: skip
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + inner_h}" '
                 f'y2="{TOP + inner_h}" stroke="#333"/>')  # fmt: skip
    parts.append(f'<text class="axis-title" transform="translate(14 {TOP + inner_h / 2}) '
                 f'rotate(-90)" text-anchor="middle">{escape(y_title)}</text>')  # fmt: skip
    parts.append(f'<text class="axis-title" x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" '
                 f'y="{HEIGHT - 6}" text-anchor="middle">{escape(x_title)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _legend(names: Sequence[str]) -> list[str]:
    parts, x = [], LEFT
    for index, name in enumerate(names):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="17">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def _x_labels(labels: Sequence[str], centre: list[float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / 12))  # at most 12 labels fit
    base = HEIGHT - BOTTOM + 14
    return [
        f'<text x="{x:.1f}" y="{base}" text-anchor="end" '
        f'transform="rotate(-35 {x:.1f} {base})">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, centre, strict=True))
        if i % every == 0
    ]


def bars(chart_id: str, title: str, labels: Sequence[str], series: Series, *,
         y_title: str, x_title: str, y_format: str = "") -> str:  # fmt: skip
    """Grouped vertical bars: one group per label, one bar per series."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y_end = nice_end([v for values in series.values() for v in values])
    group = inner_w / max(len(labels), 1)
    width = group * 0.8 / max(len(series), 1)
    body = _legend(list(series)) if len(series) > 1 else []
    for s, (name, values) in enumerate(series.items()):
        colour = COLOURS[s % len(COLOURS)]
        for i, value in enumerate(values):
            if value is None:
                continue
            h = inner_h * value / y_end
            x = LEFT + group * i + group * 0.1 + width * s
            body.append(f'<rect x="{x:.1f}" y="{TOP + inner_h - h:.1f}" width="{width:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"><title>{escape(name)}, '
                        f'{escape(labels[i])}: {_number(value)}</title></rect>')  # fmt: skip
    centre = [LEFT + group * (i + 0.5) for i in range(len(labels))]
    return _frame(chart_id, title, body + _x_labels(labels, centre), y_title, x_title, y_end,
                  y_format)  # fmt: skip


def lines(chart_id: str, title: str, labels: Sequence[str], series: Series, *,
          y_title: str, x_title: str, y_end: float | None = None, y_format: str = "",
          reference: tuple[str, float] | None = None,
          marks: Sequence[tuple[int, str]] = ()) -> str:  # fmt: skip
    """Lines over the labels (weeks, months); ``reference`` draws a dashed level (a target);
    ``marks`` put a triangle above the x axis at a label's index, its text as a tooltip
    (what happened that day)."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for vs in series.values() for v in vs] + ([reference[1]] if reference else [])
    end = y_end or nice_end(values)
    step = inner_w / max(len(labels) - 1, 1)
    centre = [LEFT + step * i for i in range(len(labels))]
    if len(labels) == 1:  # one point: in the middle, not on the axis
        centre = [LEFT + inner_w / 2]
    body = _legend(list(series) + ([reference[0]] if reference else []))
    for s, (_, points) in enumerate(series.items()):
        colour = COLOURS[s % len(COLOURS)]
        path, pen = [], "M"
        for x, value in zip(centre, points, strict=True):
            if value is None:
                pen = "M"
                continue
            y = TOP + inner_h - inner_h * min(value, end) / end
            path.append(f"{pen}{x:.1f},{y:.1f}")
            pen = "L"
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>')  # fmt: skip
    if reference is not None:
        colour = COLOURS[len(series) % len(COLOURS)]
        y = TOP + inner_h - inner_h * min(reference[1], end) / end
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{colour}" stroke-dasharray="6 4"/>')  # fmt: skip
    base = TOP + inner_h
    for index, text in marks:
        x = centre[index]
        body.append(f'<path class="mark" d="M{x:.1f},{base - 9:.1f} l-4,7 h8 z" fill="#555">'
                    f"<title>{escape(text)}</title></path>")  # fmt: skip
    return _frame(chart_id, title, body + _x_labels(labels, centre), y_title, x_title, end,
                  y_format)  # fmt: skip


def hbars(chart_id: str, title: str, labels: Sequence[str], series: Series, *,
          x_title: str) -> str:  # fmt: skip
    """Horizontal grouped bars (long labels: sources, content), longest list kept short."""
    height = TOP + 20 + 22 * max(len(labels), 1) * max(len(series), 1) + 40
    left = 180
    inner_w = WIDTH - left - RIGHT
    end = nice_end([v for vs in series.values() for v in vs])
    parts = [
        f'<svg class="chart" data-chart="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" viewBox="0 0 {WIDTH} {height}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        *_legend(list(series)),
    ]
    row = 22 * max(len(series), 1)
    for k in range(5):
        x = left + inner_w * k / 4
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - 40}" '
                     f'stroke="#ddd"/><text x="{x:.1f}" y="{height - 26}" '
                     f'text-anchor="middle">{_number(end * k / 4)}</text>')  # fmt: skip
    for i, label in enumerate(labels):
        y0 = TOP + 10 + row * i
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{left - 6}" y="{y0 + row / 2 + 4:.1f}" '
                     f'text-anchor="end">{escape(short)}</text>')  # fmt: skip
        for s, (name, values) in enumerate(series.items()):
            value = values[i] or 0
            w = inner_w * value / end
            tip = f"{escape(name)}, {escape(label)}: {_number(value)}"
            parts.append(f'<rect x="{left}" y="{y0 + 22 * s + 3:.1f}" width="{w:.1f}" '
                         f'height="16" fill="{COLOURS[s % len(COLOURS)]}"><title>{tip}'
                         "</title></rect>")  # fmt: skip
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{TOP}" y2="{height - 40}" '
                 'stroke="#333"/>')  # fmt: skip
    parts.append(f'<line class="axis" x1="{left}" x2="{WIDTH - RIGHT}" y1="{height - 40}" '
                 f'y2="{height - 40}" stroke="#333"/>')  # fmt: skip
    parts.append(f'<text class="axis-title" x="{left + inner_w / 2}" y="{height - 6}" '
                 f'text-anchor="middle">{escape(x_title)}</text></svg>')  # fmt: skip
    return "".join(parts)
