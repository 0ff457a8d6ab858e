"""A tank's level over time as an inline SVG, built from plain data (no database, no clock).

``tank_chart`` draws, on x = time (``days`` before ``now`` up to just past the p90
run-out date, at most 1.5 × ``days`` ahead) and y = the level from 0 to the tank's
capacity, in the product's unit:

* **readings** as dots (one ``<circle>`` per reading inside the window);
* the level **measured before a drop** (the courier's tape, kept on the drop, not as a
  reading) as a small filled square at the foot of the drop's step;
* **the expected level** between events as a thin line: from each known level (a
  reading, or the level after a drop) it falls at the tank's *current* learned ``rate``
  per day until the next event, and never below 0. It is a reconstruction for the eye,
  not the forecast engine's history: the rate is today's, and holds are not skipped;
* **delivered drops** as vertical steps: from the measured level before the drop (or,
  when nobody measured it, the expected level at that moment) up by the quantity
  (capped at the capacity), or to the measured level after when there is one;
* **the forecast** from the moment it was made (``forecast.at``): the median line from
  ``level_now`` down to 0 on the p50 run-out date, and a shaded band, the triangle from
  ``level_now`` at that moment to 0 on the p10 and on the p90 run-out date;
* a dashed vertical marker at the **order-by date** with its label, and one at **now**;
* axis ticks: dates as MM/DD, levels with the unit, and the capacity (the rim) dashed.

Dates (run-out, order-by) are the shop's local dates; each is drawn at noon of that day
in ``tz``. Every text is escaped. The ``<svg>`` has a ``viewBox`` and no fixed size,
so it scales to the width of a phone; ``role="img"`` and ``aria-label`` (``summary``)
describe it to a screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from html import escape

__all__ = ["ChartDrop", "ChartForecast", "ChartReading", "Labels", "at_noon", "tank_chart"]

DAY_S = 86400.0


@dataclass(frozen=True)
class ChartReading:
    at: datetime  # aware
    level: float


@dataclass(frozen=True)
class ChartDrop:
    at: datetime  # aware: when it was poured
    quantity: float
    level_before: float | None = None  # None: not measured
    level_after: float | None = None


@dataclass(frozen=True)
class ChartForecast:
    at: datetime  # aware: when the forecast was made
    level_now: float
    rate: float  # per day
    runout_p10: date
    runout_p50: date
    runout_p90: date
    order_by: date | None = None


@dataclass(frozen=True)
class Labels:
    """The chart's words, already translated by the caller."""

    summary: str = ""  # the aria-label, e.g. "runs out around 12/24"
    order_by: str = "order by"
    now: str = "now"


@dataclass(frozen=True)
class _Frame:
    start: datetime
    end: datetime
    capacity: float
    left: float
    right: float
    top: float
    bottom: float

    def x(self, at: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        return self.left + (at - self.start).total_seconds() / span * (self.right - self.left)

    def y(self, level: float) -> float:
        level = min(max(level, 0.0), self.capacity)
        return self.bottom - level / self.capacity * (self.bottom - self.top)


def at_noon(day: date, tz: tzinfo) -> datetime:
    """Where a local date is drawn: noon of that day in the shop's zone."""
    return datetime.combine(day, time(12), tzinfo=tz)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    for step in (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if step >= raw:
            return float(step)
    return float(round(raw))


def _expected_line(readings: Sequence[ChartReading], drops: Sequence[ChartDrop],
                   rate: float, capacity: float, until: datetime,
                   frame: _Frame) -> tuple[list[str], list[str], list[tuple[float, float]]]:
    """The falling line between events (path pieces), the drop steps (paths), and where
    a level was measured before a drop (x, y)."""
    events: list[tuple[datetime, int, ChartReading | ChartDrop]] = [
        (r.at, 0, r) for r in readings] + [(d.at, 1, d) for d in drops]
    events.sort(key=lambda e: (e[0], e[1]))
    line: list[str] = []
    steps: list[str] = []
    measured: list[tuple[float, float]] = []
    known: tuple[datetime, float] | None = None

    def expected(at: datetime) -> float | None:
        if known is None:
            return None
        return max(known[1] - rate * (at - known[0]).total_seconds() / DAY_S, 0.0)

    def fall_to(at: datetime) -> None:
        if known is None:
            return
        t0, level0 = known
        if rate > 0 and level0 > 0:
            empty_at = t0 + timedelta(days=level0 / rate)
            if empty_at < at:  # reaches 0, then stays there
                line.append(f"L{frame.x(empty_at):.1f},{frame.y(0):.1f}")
        line.append(f"L{frame.x(at):.1f},{frame.y(expected(at) or 0.0):.1f}")

    for at, _, event in events:
        if isinstance(event, ChartReading):
            fall_to(at)
            known = (at, event.level)
            line.append(f"M{frame.x(at):.1f},{frame.y(event.level):.1f}")
            continue
        guess = expected(at)
        before = event.level_before if event.level_before is not None else guess
        fall_to(at)
        if before is None:  # a first-ever event with nothing measured
            before = 0.0
        after = (event.level_after if event.level_after is not None
                 else min(before + event.quantity, capacity))
        x = frame.x(at)
        steps.append(f"M{x:.1f},{frame.y(before):.1f}V{frame.y(after):.1f}")
        if event.level_before is not None:
            measured.append((x, frame.y(before)))
        known = (at, after)
        line.append(f"M{x:.1f},{frame.y(after):.1f}")
    fall_to(until)
    return line, steps, measured


def tank_chart(*, readings: Sequence[ChartReading], drops: Sequence[ChartDrop],
               forecast: ChartForecast | None, capacity: float, unit: str, now: datetime,
               tz: tzinfo = UTC, days: int = 120, width: int = 420, height: int = 250,
               labels: Labels | None = None, clip_id: str = "plot") -> str:
    """The SVG (a string) of one tank's level: see the module's docstring for what is drawn.

    ``drops`` are the delivered ones (planned drops have not changed the level).
    Without a forecast only the history is drawn, up to ``now``. ``clip_id`` names the
    plot's clip path: give each chart on a page its own.
    """
    labels = labels or Labels()
    clip = escape(clip_id)
    start = now - timedelta(days=days)
    end = now + timedelta(days=7)
    if forecast is not None:
        for day in (forecast.runout_p90, forecast.order_by):
            if day is not None:
                end = max(end, at_noon(day, tz) + timedelta(days=3))
        end = min(end, now + timedelta(days=days * 1.5))  # a far p90 would squash the past
    top = max([capacity, *(r.level for r in readings), 1e-9])
    frame = _Frame(start=start, end=end, capacity=top, left=40.0, right=width - 10.0,
                   top=24.0, bottom=height - 24.0)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(labels.summary)}" class="tank-chart" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f"<title>{escape(labels.summary)}</title>",
        f'<defs><clipPath id="{clip}"><rect x="{frame.left:.1f}" y="{frame.top - 1:.1f}" '
        f'width="{frame.right - frame.left:.1f}" height="{frame.bottom - frame.top + 2:.1f}"/>'
        "</clipPath></defs>",
    ]
    # the level axis: 0..capacity, with the unit on top
    step = _nice_step(top, 4)
    level = 0.0
    while level <= top + 1e-9:
        if level == 0 or abs(capacity - level) > 0.12 * top:  # room for the rim's label
            y = frame.y(level)
            out.append(f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{y:.1f}" '
                       f'y2="{y:.1f}" stroke="#e6e6e6"/>')
            out.append(f'<text x="{frame.left - 4:.1f}" y="{y + 4:.1f}" text-anchor="end" '
                       f'fill="#666">{_fmt(level)}</text>')
        level += step
    out.append(f'<text x="{frame.left - 4:.1f}" y="{frame.top - 8:.1f}" text-anchor="end" '
               f'fill="#666">{escape(unit)}</text>')
    # the rim: the tank's capacity
    yc = frame.y(capacity)
    out.append(f'<line class="capacity" x1="{frame.left:.1f}" x2="{frame.right:.1f}" '
               f'y1="{yc:.1f}" y2="{yc:.1f}" stroke="#bbb" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{frame.left - 4:.1f}" y="{yc + 4:.1f}" text-anchor="end" '
               f'fill="#666">{_fmt(capacity)}</text>')
    # the time axis: MM/DD at local midnights, about six of them
    span_days = (end - start).total_seconds() / DAY_S
    every = next((d for d in (7, 14, 21, 28, 42, 56, 91) if span_days / d <= 7), 182)
    day = (start.astimezone(tz) + timedelta(days=1)).date()
    while (tick := datetime.combine(day, time(0), tzinfo=tz)) <= end:
        x = frame.x(tick)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.bottom:.1f}" '
                   f'y2="{frame.bottom + 4:.1f}" stroke="#999"/>')
        out.append(f'<text x="{x:.1f}" y="{frame.bottom + 16:.1f}" text-anchor="middle" '
                   f'fill="#666">{tick.strftime("%m/%d")}</text>')
        day += timedelta(days=every)
    out.append(f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{frame.bottom:.1f}" '
               f'y2="{frame.bottom:.1f}" stroke="#999"/>')
    out.append(f'<g clip-path="url(#{clip})">')
    # the forecast: the p10-p90 band, then the median line
    if forecast is not None:
        x0, y0 = frame.x(forecast.at), frame.y(forecast.level_now)
        x10 = frame.x(at_noon(forecast.runout_p10, tz))
        x50 = frame.x(at_noon(forecast.runout_p50, tz))
        x90 = frame.x(at_noon(forecast.runout_p90, tz))
        out.append(f'<polygon class="band" points="{x0:.1f},{y0:.1f} {x10:.1f},'
                   f'{frame.bottom:.1f} {x90:.1f},{frame.bottom:.1f}" fill="#f0a04b" '
                   f'fill-opacity="0.25" stroke="none"/>')
        out.append(f'<line class="median" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x50:.1f}" '
                   f'y2="{frame.bottom:.1f}" stroke="#d46b08" stroke-width="2" '
                   f'stroke-dasharray="6 3"/>')
    # the history: the expected level, the drops as steps, the readings as dots
    until = forecast.at if forecast is not None else now
    rate = forecast.rate if forecast is not None else 0.0
    line, steps, measured = _expected_line(readings, drops, rate, capacity, until, frame)
    if line:
        out.append(f'<path class="expected" d="{"".join(line)}" fill="none" '
                   f'stroke="#2f5d50" stroke-width="1.5"/>')
    for d in steps:
        out.append(f'<path class="drop" d="{d}" stroke="#2f5d50" stroke-width="3"/>')
    for x, y in measured:
        if frame.left <= x <= frame.right:
            out.append(f'<rect class="measured" x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" '
                       f'height="6" fill="#2f5d50"/>')
    out.append("</g>")
    for r in readings:
        if start <= r.at <= end:
            out.append(f'<circle cx="{frame.x(r.at):.1f}" cy="{frame.y(r.level):.1f}" r="4" '
                       f'fill="#fff" stroke="#2f5d50" stroke-width="2"/>')
    # markers: now, and the order-by date
    xn = frame.x(now)
    out.append(f'<line class="now" x1="{xn:.1f}" x2="{xn:.1f}" y1="{frame.top:.1f}" '
               f'y2="{frame.bottom:.1f}" stroke="#999" stroke-dasharray="2 3"/>')
    out.append(f'<text x="{xn:.1f}" y="{frame.top - 8:.1f}" text-anchor="middle" '
               f'fill="#666">{escape(labels.now)}</text>')
    if forecast is not None and forecast.order_by is not None:
        xo = frame.x(at_noon(forecast.order_by, tz))
        if frame.left <= xo <= frame.right:
            label = f"{labels.order_by} {forecast.order_by.strftime('%m/%d')}"
            anchor = "end" if xo > (frame.left + frame.right) / 2 else "start"
            dx = -4 if anchor == "end" else 4
            out.append(f'<line class="order-by" x1="{xo:.1f}" x2="{xo:.1f}" '
                       f'y1="{frame.top:.1f}" y2="{frame.bottom:.1f}" stroke="#cf1322" '
                       f'stroke-width="1.5" stroke-dasharray="5 3"/>')
            out.append(f'<text class="order-by" x="{xo + dx:.1f}" y="{frame.top + 10:.1f}" '
                       f'text-anchor="{anchor}" fill="#cf1322">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
