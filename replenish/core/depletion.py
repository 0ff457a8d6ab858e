"""When a tank runs out, the last safe day to deliver, and how much to bring.

From the last known level ``L`` (variance ``V``) and the learned rate ``N(m, s²)``,
the amount used in ``D`` days of consumption is ``N(m·D, s²·D² + σ²·D)`` where
``σ = daily_cv × max(m, prior mean)`` is the day-to-day wobble: a share of the pace,
the learned one or the first guess from the household's size, whichever is larger (a
family that eats more wobbles more; a pace learned low may be low for days away). Busy
days (holidays) add ``E`` days' worth of use, known only to ``± lift_spread × E``, which
adds ``(m · lift_spread · E)²`` to ``V``. The tank is empty by ``D`` with probability

    F(D) = Φ((m·D − L) / sqrt(s²·D² + σ²·D + V))

which increases with ``D``. Its quantiles solve a quadratic (``run_out_days``), so
p10/p50/p90 need no search. Consumption days turn into calendar time by skipping
hold periods, and calendar time into the shop's local dates.

* **order-by date**: the last local date a drop that arrives by ``delivery_by``
  (default 20:00, the shop's closing time) still keeps ``P(ran out before it)`` at most
  the plan's risk (``plan_risk``: ``first_risk`` until the pace is measured, ``risk``
  after).
* **drop size**: the room expected at the drop, rounded down to what the shop's bag
  sizes can make up, never below the minimum drop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from statistics import NormalDist
from zoneinfo import ZoneInfo

from replenish.core.consumption import (
    DAY,
    ForecastParams,
    Rate,
    RateState,
    effective_days,
    rate_of,
)

__all__ = [
    "Busy",
    "Forecast",
    "RunOut",
    "busy_extra_days",
    "calendar_after",
    "daily_wobble",
    "pace_periods",
    "drop_size",
    "expected_level",
    "forecast",
    "run_out_days",
    "runout_distribution",
    "use_days",
]

_NORMAL = NormalDist()


def run_out_days(p: float, *, level: float, level_var: float, rate: float, rate_sd: float,
                 daily_sd: float, horizon: float = 3650.0) -> float:
    """Consumption days until the tank is empty with probability ``p`` (capped at horizon)."""
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p!r}")
    if level <= 0:
        return 0.0
    z = _NORMAL.inv_cdf(p)
    m, a, b, c = rate, rate_sd**2, daily_sd**2, level_var
    if z == 0:
        return min(level / m, horizon)
    qa = m * m - z * z * a
    qb = -(2 * m * level + z * z * b)
    qc = level * level - z * z * c
    pivot = level / m  # where the mean use equals the level
    if z > 0:
        if qa <= 0:
            return horizon
        disc = qb * qb - 4 * qa * qc
        root = (-qb + math.sqrt(max(disc, 0.0))) / (2 * qa)
        return min(max(root, pivot), horizon)
    if qc <= 0:  # already empty with at least probability p
        return 0.0
    # one root in (0, pivot): f(0) = qc > 0 and f(pivot) < 0
    if abs(qa) < 1e-300:
        root = -qc / qb
    else:
        disc = max(qb * qb - 4 * qa * qc, 0.0)
        r1 = (-qb - math.sqrt(disc)) / (2 * qa)
        r2 = (-qb + math.sqrt(disc)) / (2 * qa)
        root = r1 if 0 <= r1 <= pivot else r2
    return min(max(root, 0.0), pivot, horizon)


Busy = Sequence[tuple[datetime, datetime, float]]  # (start, end, pace): use × pace


def pace_periods(holds: Sequence[tuple[datetime, datetime]], busy: Busy
                 ) -> tuple[tuple[datetime, datetime, float], ...]:
    """Holds (pace 0) and busy days (holidays: pace > 1) as sorted periods that do not
    overlap; a hold wins over a busy day, overlapping busy days take the highest pace."""
    return _pace_periods(tuple(holds), tuple(busy))


@lru_cache(maxsize=256)
def _pace_periods(holds: tuple[tuple[datetime, datetime], ...],
                  busy: tuple[tuple[datetime, datetime, float], ...]
                  ) -> tuple[tuple[datetime, datetime, float], ...]:
    cuts = sorted({t for s, e in holds for t in (s, e)} | {t for s, e, _ in busy for t in (s, e)})
    out: list[tuple[datetime, datetime, float]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if any(s <= a and b <= e for s, e in holds):
            pace = 0.0
        else:
            pace = max((p for s, e, p in busy if s <= a and b <= e), default=1.0)
        if pace == 1.0:
            continue
        if out and out[-1][1] == a and out[-1][2] == pace:
            out[-1] = (out[-1][0], b, pace)
        else:
            out.append((a, b, pace))
    return tuple(out)


def calendar_after(start: datetime, days: float,
                   holds: Sequence[tuple[datetime, datetime]] = (),
                   busy: Busy = ()) -> datetime:
    """The moment ``days`` of ordinary consumption after ``start``: hold periods use
    nothing, busy days (``busy``: start, end, pace) use ``pace`` days' worth a day."""
    if not busy:
        t = start
        left = days * DAY
        for h_start, h_end in sorted(holds):
            if h_end <= t:
                continue
            gap = max((h_start - t).total_seconds(), 0.0)
            if left <= gap:
                break
            left -= gap
            t = max(t, h_end)
        return t + timedelta(seconds=left)
    t, left = start, days * DAY
    for a, b, pace in pace_periods(holds, busy):
        if b <= t:
            continue
        gap = max((a - t).total_seconds(), 0.0)
        if left <= gap:
            break
        left, t = left - gap, max(t, a)
        span = (b - t).total_seconds()
        if pace > 0 and pace * span >= left:
            return t + timedelta(seconds=left / pace)
        left, t = left - pace * span, b
    return t + timedelta(seconds=left)


def use_days(start: datetime, end: datetime, holds: Sequence[tuple[datetime, datetime]] = (),
             busy: Busy = ()) -> float:
    """Ordinary days' worth of use between ``start`` and ``end`` (holds none, busy days
    their pace); the inverse of ``calendar_after``."""
    if not busy:
        return effective_days(start, end, holds)
    if end <= start:
        return 0.0
    total = (end - start).total_seconds()
    for a, b, pace in pace_periods(holds, busy):
        lo, hi = max(start, a), min(end, b)
        if hi > lo:
            total += (pace - 1.0) * (hi - lo).total_seconds()
    return max(total, 0.0) / DAY


def expected_level(state: RateState, rate: Rate, at: datetime,
                   holds: Sequence[tuple[datetime, datetime]] = (), busy: Busy = ()) -> float:
    """The level expected at ``at``: never below zero or above capacity."""
    if state.level is None or state.level_at is None:
        raise ValueError("no level is known for this tank yet")
    used = rate.mean * use_days(state.level_at, at, holds, busy)
    return min(max(state.level - used, 0.0), state.capacity)


@lru_cache(maxsize=4096)
def _makeable(bag_sizes: tuple[float, ...], room: float) -> float:
    """The largest sum of bags (any count of each size) that is <= ``room``."""
    scale = 1000  # work in thousandths (grams, millilitres) to stay exact
    sizes = sorted({round(s * scale) for s in bag_sizes if s > 0})
    if sizes and sizes[0] == 0:
        raise ValueError("bag sizes must be at least 0.001 of the product's unit")
    limit = math.floor(room * scale + 1e-6)
    if not sizes or limit < sizes[0]:
        return 0.0
    g = sizes[0]
    for s in sizes[1:]:
        g = math.gcd(g, s)
    steps = limit // g
    units = [s // g for s in sizes]
    reach = bytearray(steps + 1)
    reach[0] = 1
    for i in range(1, steps + 1):
        for u in units:
            if u <= i and reach[i - u]:
                reach[i] = 1
                break
    best = max(i for i in range(steps + 1) if reach[i])
    return best * g / scale


def drop_size(room: float, *, bag_sizes: Sequence[float], min_drop: float) -> float:
    """What to bring: ``room`` rounded down to bag sizes, not below ``min_drop``."""
    if not bag_sizes:
        made = math.floor(max(room, 0.0) * 1000 + 1e-6) / 1000
    else:
        made = _makeable(tuple(sorted(bag_sizes)), max(room, 0.0))
    return max(made, min_drop)


def plan_risk(rate: Rate, params: ForecastParams) -> float:
    """The risk a drop is planned at: ``first_risk`` until the tank's pace has been
    measured once (with learning on), ``risk`` after."""
    if params.learn and rate.intervals == 0:
        return min(params.first_risk, params.risk)
    return params.risk


def daily_wobble(rate: Rate, params: ForecastParams) -> float:
    """The day-to-day wobble σ of the module docstring (product units a day)."""
    return params.daily_cv * max(rate.mean, rate.prior.mean)


@dataclass(frozen=True)
class RunOut:
    """Run-out moments (UTC) and their local dates, for p10/p50/p90."""

    p10: datetime
    p50: datetime
    p90: datetime
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if not self.p10 <= self.p50 <= self.p90:
            raise ValueError("run-out quantiles must be ordered p10 <= p50 <= p90")

    def local_date(self, which: str) -> date:
        moment: datetime = getattr(self, which)
        return moment.astimezone(self.tz).date()


def runout_distribution(state: RateState, rate: Rate, *, tz: ZoneInfo,
                        params: ForecastParams,
                        holds: Sequence[tuple[datetime, datetime]] = (),
                        busy: Busy = ()) -> RunOut:
    """The run-out date distribution from the last known level."""
    moments = [_quantile_moment(state, rate, p, params, holds, busy) for p in (0.1, 0.5, 0.9)]
    return RunOut(p10=moments[0], p50=moments[1], p90=moments[2], tz=tz)


def busy_extra_days(start: datetime, end: datetime,
                    holds: Sequence[tuple[datetime, datetime]] = (), busy: Busy = ()) -> float:
    """Ordinary days' worth of use that busy days add between ``start`` and ``end``."""
    if not busy:
        return 0.0
    return max(use_days(start, end, holds, busy) - use_days(start, end, holds), 0.0)


def _quantile_moment(state: RateState, rate: Rate, p: float, params: ForecastParams,
                     holds: Sequence[tuple[datetime, datetime]],
                     busy: Busy = ()) -> datetime:
    level, level_at = state.level, state.level_at
    if level is None or level_at is None:
        raise ValueError("no level is known for this tank yet")

    def moment(level_var: float) -> datetime:
        days = run_out_days(p, level=level, level_var=level_var, rate=rate.mean,
                            rate_sd=rate.sd, daily_sd=daily_wobble(rate, params),
                            horizon=params.horizon_days)
        return calendar_after(level_at, days, holds, busy)

    at = moment(state.level_var)
    # what busy days add is a guess too (lift_spread): the extra they add up to the
    # moment found counts as that much more uncertain use, once
    extra = busy_extra_days(level_at, at, holds, busy) if params.lift_spread > 0 else 0.0
    if extra > 0:
        at = moment(state.level_var + (rate.mean * params.lift_spread * extra) ** 2)
    return at


@dataclass(frozen=True)
class Forecast:
    """One tank's forecast as of ``now``."""

    rate: Rate
    level_now: float
    capacity: float
    runout: RunOut
    order_by: date
    drop_size: float
    drop_fits: bool


def forecast(state: RateState, *, now: datetime, tz: ZoneInfo, bag_sizes: Sequence[float],
             min_drop: float, params: ForecastParams | None = None,
             holds: Sequence[tuple[datetime, datetime]] = (),
             no_delivery: Sequence[tuple[date, date]] = (),
             delivery_by: time = time(20, 0), busy: Busy = ()) -> Forecast:
    """Rate, level now, run-out distribution, order-by date and drop size for one tank.

    ``holds`` are no-consumption periods (UTC); ``no_delivery`` are local date ranges
    (inclusive) on which no drop may be made: the order-by date moves before them.
    ``busy`` are periods of faster use (UTC start, end, pace: public holidays, Lunar
    New Year), from ``core.calendar.busy_periods``.
    """
    params = params or ForecastParams()
    rate = rate_of(state, now=now, params=params)
    runout = runout_distribution(state, rate, tz=tz, params=params, holds=holds, busy=busy)
    risky = _quantile_moment(state, rate, plan_risk(rate, params), params, holds, busy)
    local = risky.astimezone(tz)
    order_by = local.date() if local.time() >= delivery_by else local.date() - timedelta(days=1)
    for start, end in sorted(no_delivery, reverse=True):
        if start <= order_by <= end:
            order_by = start - timedelta(days=1)
    # the room when the drop arrives: on the order-by date, or now if that is past
    arrive = max(datetime.combine(order_by, delivery_by, tzinfo=tz), now)
    level_then = expected_level(state, rate, max(arrive, state.level_at or arrive), holds, busy)
    room = state.capacity - level_then
    size = drop_size(room, bag_sizes=bag_sizes, min_drop=min_drop)
    return Forecast(rate=rate, level_now=expected_level(state, rate, now, holds, busy),
                    capacity=state.capacity, runout=runout, order_by=order_by,
                    drop_size=size, drop_fits=size <= room + 1e-9)
