"""The nightly forecast for many tanks at once: the same math as ``depletion``, on arrays.

``forecast_many`` takes one array per ``RateState`` field (what the database keeps
per tank) and returns arrays of the forecast. It equals ``depletion.forecast`` tank
by tank (tests/core/test_batch.py checks this) except that hold periods are not
applied here: tanks with holds go through the scalar ``depletion.forecast``. Busy
periods (holidays, the same for every tank) are: ``busy=`` as in ``forecast``.
Times are float seconds since the Unix epoch (UTC); dates come back as numpy
``datetime64[D]`` in the shop's zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from statistics import NormalDist
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from replenish.core.consumption import DAY, ForecastParams
from replenish.core.depletion import pace_periods

__all__ = ["StateArrays", "ForecastArrays", "forecast_many", "local_dates"]

F = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StateArrays:
    """Per-tank state as parallel arrays (NaN where a value is absent)."""

    capacity: F
    prior_mean: F
    prior_sd: F
    eta: F
    lam: F
    t_ref: F  # epoch seconds; NaN when no data was ever folded
    level: F
    level_var: F
    level_at: F
    pending_at: F  # NaN when nothing is pending
    pending_y: F
    pending_var: F
    pending_z: F
    intervals: F  # intervals learned (``RateState.intervals``)


@dataclass(frozen=True)
class ForecastArrays:
    rate: F
    rate_sd: F
    level_now: F
    runout_p10: F  # epoch seconds
    runout_p50: F
    runout_p90: F
    order_by: npt.NDArray[np.datetime64]
    drop_size: F
    drop_fits: npt.NDArray[np.bool_]


def _posterior(s: StateArrays, now: float, params: ForecastParams) -> tuple[F, F]:
    has_ref = ~np.isnan(s.t_ref)
    age = np.where(has_ref, np.maximum(now - np.nan_to_num(s.t_ref), 0.0) / DAY, 0.0)
    factor = 0.5 ** (age / params.half_life_days)
    eta_d = s.eta * factor
    lam_d = s.lam * factor
    p0 = 1.0 / s.prior_sd**2
    eta = s.prior_mean * p0 + eta_d
    lam = p0 + lam_d
    pend = ~np.isnan(s.pending_at) & (np.nan_to_num(s.pending_z) > 0)  # faster use only
    if pend.any():
        ref = np.where(has_ref, np.maximum(np.nan_to_num(s.t_ref), now), now)
        p_age = np.maximum(ref - np.nan_to_num(s.pending_at), 0.0) / DAY
        absz = np.abs(np.nan_to_num(s.pending_z))
        damp = np.where(absz > 0, np.minimum(1.0, params.outlier_z / np.where(absz > 0, absz, 1)),
                        1.0)
        w = np.where(pend, 0.5 ** (p_age / params.half_life_days) * damp, 0.0)
        var = np.where(pend, s.pending_var, 1.0)
        eta = eta + w * np.nan_to_num(s.pending_y) / var
        lam = lam + w / var
    return eta / lam, 1.0 / lam


def _run_out_days(p: float, level: F, level_var: F, m: F, s: F, b: F,
                  horizon: float) -> F:
    z = NormalDist().inv_cdf(p)
    a = s**2
    qa = m * m - z * z * a
    qb = -(2 * m * level + z * z * b)
    qc = level * level - z * z * level_var
    pivot = level / m
    with np.errstate(divide="ignore", invalid="ignore"):
        if z == 0:
            out = pivot
        elif z > 0:
            disc = np.maximum(qb * qb - 4 * qa * qc, 0.0)
            root = (-qb + np.sqrt(disc)) / (2 * qa)
            out = np.where(qa <= 0, horizon, np.maximum(root, pivot))
        else:
            disc = np.maximum(qb * qb - 4 * qa * qc, 0.0)
            small = np.abs(qa) < 1e-300
            r1 = (-qb - np.sqrt(disc)) / (2 * qa)
            r2 = (-qb + np.sqrt(disc)) / (2 * qa)
            quad = np.where((r1 >= 0) & (r1 <= pivot), r1, r2)
            root = np.where(small, -qc / qb, quad)
            root = np.minimum(np.maximum(root, 0.0), pivot)
            out = np.where(qc <= 0, 0.0, root)
    out = np.minimum(out, horizon)
    return np.where(level <= 0, 0.0, out)


def _local_seconds(epoch_seconds: F, tz: ZoneInfo) -> F:
    """Wall-clock seconds since 1970-01-01 00:00 local, for UTC moments."""
    hours = np.floor(epoch_seconds / 3600.0)
    unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array([
        _offset(datetime.fromtimestamp(h * 3600.0, UTC), tz) for h in unique
    ])
    return np.asarray(epoch_seconds + offsets[inverse], dtype=np.float64)


def _offset(moment: datetime, tz: ZoneInfo) -> float:
    delta = moment.astimezone(tz).utcoffset()
    assert delta is not None
    return delta.total_seconds()


def local_dates(epoch_seconds: F, tz: ZoneInfo) -> npt.NDArray[np.datetime64]:
    """Local calendar dates of UTC moments, exact across daylight-saving changes."""
    local = _local_seconds(epoch_seconds, tz)
    return np.floor(local / DAY).astype("int64").astype("datetime64[D]")


def _busy_epochs(busy: Sequence[tuple[datetime, datetime, float]]
                 ) -> list[tuple[float, float, float]]:
    """Busy periods as sorted, non-overlapping epoch-second spans (``depletion``'s rule:
    the highest pace where two overlap)."""
    return [(a.timestamp(), b.timestamp(), pace) for a, b, pace in pace_periods((), busy)]


def _calendar_after(start: F, days: F, periods: list[tuple[float, float, float]]) -> F:
    """``depletion.calendar_after`` on arrays, for busy periods (no holds)."""
    t, left = start.copy(), days * DAY
    out = np.full_like(start, np.nan)
    done = np.zeros(start.shape, dtype=bool)
    for a, b, pace in periods:
        active = ~done & (b > t)
        gap = np.maximum(a - t, 0.0)
        before = active & (left <= gap)
        out[before], done[before] = t[before] + left[before], True
        going = active & ~before
        left[going] -= gap[going]
        t[going] = np.maximum(t[going], a)
        span = b - t
        inside = going & (pace * span >= left)
        out[inside], done[inside] = t[inside] + left[inside] / pace, True
        rest = going & ~inside
        left[rest] -= pace * span[rest]
        t[rest] = b
    return np.where(done, out, t + left)


def _use_days(start: F, end: F, periods: list[tuple[float, float, float]]) -> F:
    """``depletion.use_days`` on arrays, for busy periods (no holds)."""
    total = np.maximum(end - start, 0.0)
    for a, b, pace in periods:
        overlap = np.maximum(np.minimum(end, b) - np.maximum(start, a), 0.0)
        total = total + (pace - 1.0) * overlap
    return np.asarray(np.maximum(total, 0.0) / DAY, dtype=np.float64)


def forecast_many(s: StateArrays, *, now: datetime, tz: ZoneInfo, bag_sizes: Sequence[float],
                  min_drop: float, params: ForecastParams,
                  delivery_by: time = time(20, 0),
                  busy: Sequence[tuple[datetime, datetime, float]] = ()) -> ForecastArrays:
    """Forecast every tank in ``s`` (all of one product: one bag list and minimum)."""
    periods = _busy_epochs(busy)
    t_now = now.timestamp()
    mean, var = _posterior(s, t_now, params)
    rate = np.maximum(mean, 0.02 * s.prior_mean)
    rate_sd = np.sqrt(var)
    daily_sd = params.daily_cv * np.maximum(rate, s.prior_mean)  # depletion.daily_wobble
    horizon = params.horizon_days

    def moment(p: float) -> F:
        days = _run_out_days(p, s.level, s.level_var, rate, rate_sd, daily_sd**2, horizon)
        if not periods:
            return s.level_at + days * DAY
        at = _calendar_after(s.level_at, days, periods)
        if params.lift_spread <= 0:
            return at
        # depletion._quantile_moment: what busy days add up to ``at`` is a guess too
        extra = np.maximum(_use_days(s.level_at, at, periods)
                           - np.maximum(at - s.level_at, 0.0) / DAY, 0.0)
        level_var = s.level_var + (rate * params.lift_spread * extra) ** 2
        days = _run_out_days(p, s.level, level_var, rate, rate_sd, daily_sd**2, horizon)
        return np.where(extra > 0, _calendar_after(s.level_at, days, periods), at)

    p10, p50, p90, risky = moment(0.1), moment(0.5), moment(0.9), moment(params.risk)
    first = s.intervals == 0 if params.learn else np.zeros_like(s.intervals, dtype=bool)
    if params.first_risk < params.risk and first.any():  # depletion.plan_risk
        risky = np.where(first, moment(params.first_risk), risky)
    # the order-by date: the risky moment's local date, or the day before if it falls
    # before the delivery hour
    local = _local_seconds(risky, tz)
    risky_day = np.floor(local / DAY)
    cut = delivery_by.hour * 3600 + delivery_by.minute * 60 + delivery_by.second
    day = np.where(local - risky_day * DAY >= cut, risky_day, risky_day - 1).astype("int64")
    order_by = day.astype("datetime64[D]")
    arrive = np.maximum(_epoch_of_local(order_by, delivery_by, tz), t_now)
    arrive = np.maximum(arrive, s.level_at)
    used_then = rate * _use_days(s.level_at, arrive, periods)
    level_then = np.clip(s.level - used_then, 0.0, s.capacity)
    room = s.capacity - level_then
    sizes = _drop_sizes(room, bag_sizes, min_drop)
    used_now = rate * _use_days(s.level_at, np.full_like(s.level_at, t_now), periods)
    return ForecastArrays(
        rate=rate, rate_sd=rate_sd,
        level_now=np.clip(s.level - used_now, 0.0, s.capacity),
        runout_p10=p10, runout_p50=p50, runout_p90=p90,
        order_by=order_by, drop_size=sizes, drop_fits=sizes <= room + 1e-9,
    )


def _epoch_of_local(days: npt.NDArray[np.datetime64], at: time, tz: ZoneInfo) -> F:
    """Epoch seconds of the local wall time ``at`` on each local date."""
    as_int = days.astype("datetime64[D]").astype("int64")
    unique, inverse = np.unique(as_int, return_inverse=True)
    epoch0 = datetime(1970, 1, 1).date()
    starts = np.array([
        datetime.combine(epoch0 + timedelta(days=int(d)), at, tzinfo=tz).timestamp()
        for d in unique
    ])
    return np.asarray(starts[inverse], dtype=np.float64)


def _drop_sizes(room: F, bag_sizes: Sequence[float], min_drop: float) -> F:
    """``depletion.drop_size`` for many rooms at once (the same thousandths grid)."""
    limit = np.floor(np.maximum(room, 0.0) * 1000 + 1e-6).astype(np.int64)
    sizes = sorted({round(s * 1000) for s in bag_sizes if s > 0})
    if sizes and sizes[0] == 0:
        raise ValueError("bag sizes must be at least 0.001 of the product's unit")
    if not sizes:
        made = limit / 1000.0
    else:
        g = sizes[0]
        for size in sizes[1:]:
            g = math.gcd(g, size)
        steps = limit // g
        units = [size // g for size in sizes]
        top = int(steps.max()) if len(steps) else 0
        reach = np.zeros(top + 1, dtype=bool)
        reach[0] = True
        for i in range(1, top + 1):
            reach[i] = any(u <= i and reach[i - u] for u in units)
        best = np.maximum.accumulate(np.where(reach, np.arange(top + 1), 0))
        made = best[steps] * g / 1000.0
    return np.asarray(np.maximum(made, min_drop), dtype=np.float64)
