"""The simulation's report: a table for the terminal, and SVG plots. Pure: plain data in,
text out (the command writes the files).

* ``table`` puts the policies side by side, one row per measure.
* ``trace_svg`` draws one household's true level (the line the planner never sees), the
  planner's expected level each night with its p10..p90 band, and the drops.
* ``compare_svg`` draws run-outs, km and texts per drop per policy as bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

__all__ = ["ROWS", "TraceData", "compare_svg", "table", "trace_svg"]

# (key in the metrics, label, format)
ROWS: tuple[tuple[str, str, str], ...] = (
    ("runouts", "run-outs (times a tank ran dry)", "{:d}"),
    ("runouts_per_1000_household_months", "run-outs per 1,000 household-months", "{:.2f}"),
    ("runout_household_days", "household-days without rice", "{:d}"),
    ("households_that_ran_out", "households that ran out at least once", "{:d}"),
    ("runouts_after_untold_trip", "  of the run-outs: after a trip nobody told of", "{:d}"),
    ("drops", "drops", "{:d}"),
    ("mean_drop_kg", "mean drop (kg)", "{:.2f}"),
    ("mean_level_at_drop", "mean level at drop (share of tank)", "{:.3f}"),
    ("not_home", "visits with nobody home", "{:d}"),
    ("too_full", "visits where nothing fitted", "{:d}"),
    ("sms_sent", "texts to customers", "{:d}"),
    ("sms_per_drop", "texts per drop", "{:.2f}"),
    ("asks_per_drop", "prompts, heads-ups, reminders per drop", "{:.2f}"),
    ("unanswered_prompts", "prompts never answered", "{:d}"),
    ("owner_calls_booked", "drops booked by the owner's phone calls", "{:d}"),
    ("km", "courier km", "{:.1f}"),
    ("courier_hours", "courier hours", "{:.1f}"),
    ("seconds", "wall time (s)", "{:.1f}"),
)


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def table(results: Sequence[Mapping[str, Any]]) -> str:
    """The policies side by side (one column each, in the given order)."""
    header = ["", *(str(r.get("policy", "?")) for r in results)]
    rows = [[label, *(_cell(r.get(key), fmt) for r in results)] for key, label, fmt in ROWS]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                       for i, cell in enumerate(row)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass(frozen=True)
class TraceData:
    title: str
    capacity: float
    days: Sequence[date]
    level: Sequence[float]
    expected: Sequence[float | None]
    low: Sequence[float | None]
    high: Sequence[float | None]
    drops: Sequence[tuple[date, float]]


W, H, LEFT, RIGHT, TOP, BOTTOM = 900, 300, 50, 15, 30, 30


def _points(xs: Sequence[float], ys: Sequence[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def trace_svg(t: TraceData) -> str:
    """One household's year: true level, the planner's belief with its band, the drops."""
    n = len(t.days)
    if n == 0:
        return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}"></svg>'
    span = max(n - 1, 1)
    top = max(t.capacity, max(t.level, default=0.0)) or 1.0

    def x(i: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * i / span

    def y(v: float) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - v / top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" '
             f'font-family="sans-serif" font-size="11" role="img" '
             f'aria-label="{escape(t.title)}">',
             f'<text x="{LEFT}" y="16" font-size="13">{escape(t.title)}</text>',
             f'<line x1="{LEFT}" y1="{y(t.capacity):.1f}" x2="{W - RIGHT}" '
             f'y2="{y(t.capacity):.1f}" stroke="#999" stroke-dasharray="4 3"/>',
             f'<text x="{W - RIGHT}" y="{y(t.capacity) - 3:.1f}" text-anchor="end" '
             f'fill="#666">full {t.capacity:.1f} kg</text>',
             f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{W - RIGHT}" y2="{y(0):.1f}" '
             'stroke="#333"/>']
    band = [(i, lo, hi) for i, (lo, hi) in enumerate(zip(t.low, t.high, strict=True))
            if lo is not None and hi is not None]
    if band:
        upper = [(x(i), y(hi)) for i, _, hi in band]
        lower = [(x(i), y(lo)) for i, lo, _ in reversed(band)]
        parts.append('<polygon fill="#9ecae1" fill-opacity="0.45" stroke="none" points="'
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower) + '"/>')
    seen = [(i, v) for i, v in enumerate(t.expected) if v is not None]
    if seen:
        parts.append('<polyline fill="none" stroke="#3182bd" stroke-dasharray="5 3" '
                     f'points="{_points([x(i) for i, _ in seen], [y(v) for _, v in seen])}"/>')
    parts.append('<polyline fill="none" stroke="#d62728" stroke-width="1.6" '
                 f'points="{_points([x(i) for i in range(n)], [y(v) for v in t.level])}"/>')
    index = {d: i for i, d in enumerate(t.days)}
    for day, kg in t.drops:
        if day in index:
            parts.append(f'<circle cx="{x(index[day]):.1f}" cy="{y(0) - 4:.1f}" r="3" '
                         f'fill="#2ca02c"><title>{day}: {kg:g} kg</title></circle>')
    for i, day in enumerate(t.days):
        if day.day == 1:
            parts.append(f'<text x="{x(i):.1f}" y="{H - 10}" text-anchor="middle" '
                         f'fill="#666">{day:%m/%d}</text>')
    for v in (0.0, t.capacity / 2):
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end" '
                     f'fill="#666">{v:.0f}</text>')
    parts.append(f'<text x="{W - RIGHT}" y="16" text-anchor="end" fill="#666">'
                 'red: true level · blue dashed: forecast, band p10–p90 · green: drops</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def compare_svg(results: Sequence[Mapping[str, Any]]) -> str:
    """Bars per policy: run-outs, household-days without rice, km, texts per drop."""
    measures = (("runouts", "run-outs"), ("runout_household_days", "days without rice"),
                ("km", "courier km"), ("sms_per_drop", "texts per drop"))
    width, height, panel = 900, 260, 900 / len(measures)
    colours = ("#3182bd", "#9ecae1", "#fd8d3c", "#bdbdbd", "#31a354")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             'font-family="sans-serif" font-size="11" role="img" '
             'aria-label="policies compared">']
    for m, (key, label) in enumerate(measures):
        values = [float(r.get(key) or 0.0) for r in results]
        top = max(values, default=0.0) or 1.0
        x0 = m * panel + 20
        bar = (panel - 40) / max(len(results), 1)
        parts.append(f'<text x="{x0}" y="16" font-size="13">{escape(label)}</text>')
        for i, (r, v) in enumerate(zip(results, values, strict=True)):
            h = (height - 80) * v / top
            bx = x0 + i * bar
            parts.append(f'<rect x="{bx:.1f}" y="{height - 50 - h:.1f}" width="{bar - 6:.1f}" '
                         f'height="{h:.1f}" fill="{colours[i % len(colours)]}"/>')
            parts.append(f'<text x="{bx + (bar - 6) / 2:.1f}" y="{height - 54 - h:.1f}" '
                         f'text-anchor="middle">{v:g}</text>')
            parts.append(f'<text x="{bx + (bar - 6) / 2:.1f}" y="{height - 36}" '
                         f'text-anchor="middle" font-size="9">'
                         f'{escape(str(r.get("policy", "?")))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
