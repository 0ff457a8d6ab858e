"""How fast a household uses a product: a prior from the household, learned from levels.

The model (docs/forecasting.md works it through for a family of five):

* The daily rate ``r`` has a normal prior ``N(m0, s0²)``: ``m0`` is the sum over the
  household of (members of each kind × the product's per-person daily use), times the
  "eats at home" factor; ``s0 = prior_cv × m0``.
* Between two known levels, ``used = level after the earlier event − level before the
  later one`` over ``d`` days of consumption (hold days do not count). The interval
  says ``y = used / d ≈ r`` with variance ``(daily_sd² d + err0² + err1²) / d²``.
* Intervals are combined with the prior in information form, each weighted by
  ``0.5 ** (age / half_life_days)`` so that recent intervals count more.
* An interval that ends at an unknown level is *censored*: a drop of ``q`` into a tank
  whose level was not measured says the tank had room (``used ≥ L0 − (capacity − q)``);
  a reading of zero (or one within its measurement error of zero: the tape cannot
  tell a nearly empty tank from one empty for days) says the tank may have run empty
  at some point before (``used ≥ L0 − level`` in at most ``d`` days). Both give a
  lower bound on ``r``, applied by moment matching (the truncated-normal update),
  never taken at face value.
* An interval far from the current estimate (``|z| > outlier_z``) is held as *pending*:
  if the next interval agrees with the estimate, it was an outlier (a party, a top-up
  from another shop) and counts with its weight damped by ``outlier_z / |z|``;
  if the next interval deviates the same way, habits changed: the history before them
  is discounted by ``change_discount`` and both count in full.
* A visit that found nobody home (``NotHomeEvent``) marks the open interval: the family
  may have been away, eating nothing, so when it closes slower than believed it counts
  only as a lower bound (a trip nobody told the shop of is not learned as slow eating).
* A household change re-centres the prior and rescales the history to the new prior
  (the household keeps its habits relative to the prior), discounted by
  ``household_discount``.

Everything is sequential: ``observe(state, event)`` folds one event into a small
``RateState``. Folding a tank's whole history gives the same state as updating it
event by event as they arrive, which is what the nightly job relies on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from replenish.core.censoring import mills, truncated_normal
from replenish.core.household import Household, Prior, prior_rate

__all__ = [
    "DropEvent",
    "ForecastParams",
    "Household",
    "HouseholdEvent",
    "NotHomeEvent",
    "Prior",
    "Rate",
    "RateState",
    "ReadingEvent",
    "OutOfOrderError",
    "effective_days",
    "merge_holds",
    "estimate_rate",
    "fold",
    "observe",
    "prior_rate",
    "rate_of",
    "start_state",
]

DAY = 86400.0
_MIN_DAYS = 0.5  # intervals shorter than this teach nothing about the rate


def _check(name: str, value: float, *, low: float, high: float = math.inf,
           low_open: bool = False) -> None:
    if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        upper = "" if high == math.inf else f" and <= {high:g}"
        raise ValueError(f"{name} must be {bound}{upper}, got {value!r}")


@dataclass(frozen=True)
class ForecastParams:
    """Knobs of the forecast (the ``[forecast]`` section of settings.toml)."""

    risk: float = 0.002
    first_risk: float = 0.001  # until a tank's pace has been measured once
    half_life_days: float = 45.0
    prior_cv: float = 0.35
    daily_cv: float = 0.25
    outlier_z: float = 3.0
    slow_outlier_z: float = 2.0  # slower than expected: held back from this many sd
    household_discount: float = 0.1
    change_discount: float = 0.05
    horizon_days: float = 3650.0
    lift_spread: float = 0.5  # what a busy day adds is known to ± this share of it
    learn: bool = True  # False: levels are tracked, the rate stays the household's prior

    def __post_init__(self) -> None:
        _check("risk", self.risk, low=0, high=0.5, low_open=True)
        _check("first_risk", self.first_risk, low=0, high=0.5, low_open=True)
        _check("half_life_days", self.half_life_days, low=0, low_open=True)
        _check("prior_cv", self.prior_cv, low=0, low_open=True)
        _check("daily_cv", self.daily_cv, low=0, low_open=True)
        _check("outlier_z", self.outlier_z, low=0, low_open=True)
        _check("slow_outlier_z", self.slow_outlier_z, low=0, low_open=True)
        _check("household_discount", self.household_discount, low=0, high=1, low_open=True)
        _check("change_discount", self.change_discount, low=0, high=1, low_open=True)
        _check("horizon_days", self.horizon_days, low=1)
        _check("lift_spread", self.lift_spread, low=0, high=1)


# --- events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingEvent:
    """A level seen at ``at`` (product units), with its measurement error (sd)."""

    at: datetime
    level: float
    error: float


@dataclass(frozen=True)
class DropEvent:
    """A delivery of ``quantity``; ``level_before``/``level_after`` are None when unknown."""

    at: datetime
    quantity: float
    level_before: float | None
    level_after: float | None
    error: float


@dataclass(frozen=True)
class HouseholdEvent:
    """The household changed at ``at``: this is its new prior."""

    at: datetime
    prior: Prior


@dataclass(frozen=True)
class NotHomeEvent:
    """A visit at ``at`` found nobody home: the family may be away, and the interval it
    falls in may hold days of eating nothing."""

    at: datetime


Event = ReadingEvent | DropEvent | HouseholdEvent | NotHomeEvent


@dataclass(frozen=True)
class Pending:
    """An interval that disagrees with the estimate, waiting for the next one to judge it."""

    at: datetime
    y: float
    var: float
    z: float


@dataclass(frozen=True)
class RateState:
    """Everything the forecast remembers about one tank between events.

    ``eta``/``lam`` are the data's information (Σ w·y/v and Σ w/v) valued at ``t_ref``;
    ``level``/``level_var`` the last level estimate at ``level_at``.
    """

    capacity: float
    prior: Prior
    eta: float = 0.0
    lam: float = 0.0
    t_ref: datetime | None = None
    level: float | None = None
    level_var: float = 0.0
    level_at: datetime | None = None
    pending: Pending | None = None
    intervals: int = 0
    outliers: tuple[datetime, ...] = ()
    changes: tuple[datetime, ...] = ()
    notes: tuple[str, ...] = field(default=())
    maybe_away: bool = False  # a visit since ``level_at`` found nobody home


@dataclass(frozen=True)
class Rate:
    """The learned daily use: ``mean`` ± ``sd`` (product units a day)."""

    mean: float
    sd: float
    prior: Prior
    intervals: int
    outliers: tuple[datetime, ...] = ()
    changes: tuple[datetime, ...] = ()
    pending: bool = False

    def __post_init__(self) -> None:
        if not (self.mean > 0 and self.sd > 0):
            raise ValueError(f"a rate needs a positive mean and sd, got {self.mean}, {self.sd}")


def start_state(prior: Prior, *, capacity: float) -> RateState:
    _check("capacity", capacity, low=0, low_open=True)
    return RateState(capacity=capacity, prior=prior)


# --- time ---------------------------------------------------------------------------------


def merge_holds(holds: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Hold periods sorted, with overlapping or touching ones merged."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(holds):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def effective_days(start: datetime, end: datetime,
                   holds: Sequence[tuple[datetime, datetime]] = ()) -> float:
    """Days of consumption between ``start`` and ``end``: hold periods consume nothing."""
    if end <= start:
        return 0.0
    total = (end - start).total_seconds()
    for h_start, h_end in merge_holds(holds):
        lo, hi = max(start, h_start), min(end, h_end)
        if hi > lo:
            total -= (hi - lo).total_seconds()
    return max(total, 0.0) / DAY


def _decay(state: RateState, at: datetime, params: ForecastParams) -> RateState:
    if state.t_ref is None:
        return replace(state, t_ref=at)
    days = (at - state.t_ref).total_seconds() / DAY
    if days <= 0:
        return state
    factor = 0.5 ** (days / params.half_life_days)
    return replace(state, eta=state.eta * factor, lam=state.lam * factor, t_ref=at)


def _weight_at(t: datetime, ref: datetime, params: ForecastParams) -> float:
    days = max((ref - t).total_seconds() / DAY, 0.0)
    return float(0.5 ** (days / params.half_life_days))


# --- the posterior ------------------------------------------------------------------------


def _posterior(state: RateState, *, with_pending: bool,
               params: ForecastParams) -> tuple[float, float]:
    """Mean and variance of the rate (information form), optionally with a damped pending.

    Only a pending interval of *faster* use counts before the next one judges it: one of
    slower use (a trip nobody told the shop about, a week of eating out) would make the
    forecast later than it should be, and a late forecast is the one that runs a family
    out. If it was real, the next interval confirms it as a change of habits (§5)."""
    p0 = 1.0 / state.prior.sd**2
    eta = state.prior.mean * p0 + state.eta
    lam = p0 + state.lam
    pend = state.pending
    if with_pending and pend is not None and pend.z > 0 and state.t_ref is not None:
        w = _weight_at(pend.at, state.t_ref, params) * _damping(pend.z, params)
        eta += w * pend.y / pend.var
        lam += w / pend.var
    return eta / lam, 1.0 / lam


def _damping(z: float, params: ForecastParams) -> float:
    return min(1.0, params.outlier_z / abs(z)) if z else 1.0


def _add(state: RateState, at: datetime, y: float, var: float, weight: float,
         params: ForecastParams) -> RateState:
    assert state.t_ref is not None
    w = weight * _weight_at(at, state.t_ref, params)
    return replace(state, eta=state.eta + w * y / var, lam=state.lam + w / var,
                   intervals=state.intervals + 1)


def _daily_sd(state: RateState, params: ForecastParams) -> float:
    return params.daily_cv * state.prior.mean


def _learn_interval(state: RateState, at: datetime, used: float, days: float,
                    end_error: float, params: ForecastParams) -> RateState:
    """Fold one fully observed interval, with the outlier / habit-change logic."""
    y = used / days
    var = (_daily_sd(state, params) ** 2 * days + state.level_var + end_error**2) / days**2
    mean, post_var = _posterior(state, with_pending=False, params=params)
    z = (y - mean) / math.sqrt(post_var + var)
    pend = state.pending
    if -params.slow_outlier_z <= z <= params.outlier_z:
        if pend is not None:  # the pending interval was a one-off
            state = replace(_one_off(state, pend, params), pending=None)
        return _add(state, at, y, var, 1.0, params)
    if pend is not None and (pend.z > 0) == (z > 0):  # two in a row: habits changed
        state = replace(state, eta=state.eta * params.change_discount,
                        lam=state.lam * params.change_discount, pending=None,
                        changes=state.changes + (pend.at,))
        state = _add(state, pend.at, pend.y, pend.var, 1.0, params)
        return _add(state, at, y, var, 1.0, params)
    if pend is not None:  # opposite directions: the earlier one was a one-off
        state = _one_off(state, pend, params)
    return replace(state, pending=Pending(at=at, y=y, var=var, z=z))


def _one_off(state: RateState, pend: Pending, params: ForecastParams) -> RateState:
    """Settle a pending interval the next one showed was a one-off. Faster (a party,
    guests): it counts, damped. Slower: most likely days away nobody told us of, so it
    says only that they eat at least that fast (a lower bound, §4 of the docs)."""
    if pend.z > 0:
        state = _add(state, pend.at, pend.y, pend.var, _damping(pend.z, params), params)
    else:
        state = _learn_lower_bound(state, pend.y, pend.var)
    return replace(state, outliers=state.outliers + (pend.at,))


def _learn_lower_bound(state: RateState, bound: float, var: float) -> RateState:
    """Moment-match the posterior to ``r ≥ bound`` seen through noise ``var``.

    The result is written back as data information, so later decay treats it
    like any other interval.
    """
    p0 = 1.0 / state.prior.sd**2
    eta_all = state.prior.mean * p0 + state.eta
    lam_all = p0 + state.lam
    m, s2 = eta_all / lam_all, 1.0 / lam_all
    sigma = math.sqrt(s2 + var)
    z = (m - bound) / sigma
    lam_ratio = mills(z)
    m_new = m + s2 * lam_ratio / sigma
    s2_new = s2 * (1.0 - (s2 / sigma**2) * lam_ratio * (lam_ratio + z))
    s2_new = max(s2_new, s2 * 1e-3)
    lam_new = 1.0 / s2_new
    eta_new = m_new * lam_new
    return replace(state, eta=eta_new - state.prior.mean * p0, lam=lam_new - p0)


# --- folding events -----------------------------------------------------------------------


class OutOfOrderError(ValueError):
    """An event older than what the state has already folded: refold the whole history."""


def observe(state: RateState, event: Event, *, params: ForecastParams,
            holds: Sequence[tuple[datetime, datetime]] = ()) -> RateState:
    """Fold one event into the state. Events must come in time order.

    Raises OutOfOrderError for an event older than the last one folded.
    """
    last = max((t for t in (state.t_ref, state.level_at) if t is not None), default=None)
    if last is not None and event.at < last:
        raise OutOfOrderError(
            f"event at {event.at.isoformat()} is older than the state ({last.isoformat()})")
    state = _decay(state, event.at, params)
    if isinstance(event, HouseholdEvent):
        return _change_household(state, event, params, holds)
    if isinstance(event, NotHomeEvent):
        return state if state.level_at is None else replace(state, maybe_away=True)
    cap = state.capacity
    if isinstance(event, ReadingEvent):
        level = min(max(event.level, 0.0), cap)
        state = _close_interval(state, event.at, level, event.error, params, holds)
        return replace(state, level=level, level_var=event.error**2, level_at=event.at,
                       maybe_away=False)
    # a drop
    if event.level_before is not None:
        before = min(max(event.level_before, 0.0), cap)
        state = _close_interval(state, event.at, before, event.error, params, holds)
        before_var = event.error**2
    else:
        state, before, before_var = _close_unknown(state, event, params, holds)
    if event.level_after is not None:
        after = min(max(event.level_after, 0.0), cap)
        after_var = event.error**2
    else:
        after, after_var = before + event.quantity, before_var
        if after > cap:
            state = replace(state, notes=state.notes[-4:] + (
                f"{event.at.date()}: drop of {event.quantity:g} did not fit", ))
            after = cap
    return replace(state, level=after, level_var=after_var, level_at=event.at,
                   maybe_away=False)


def _close_interval(state: RateState, at: datetime, level: float, error: float,
                    params: ForecastParams,
                    holds: Sequence[tuple[datetime, datetime]]) -> RateState:
    if state.level is None or state.level_at is None or not params.learn:
        return state
    days = effective_days(state.level_at, at, holds)
    if days < _MIN_DAYS:
        return state
    start = state.level
    if level <= error:  # empty, or too near it for the tape to tell (within one
        # measurement error): it may have run out some time before, so it used at least
        # ``start - level`` in at most ``days``
        var = (_daily_sd(state, params) ** 2 * days + state.level_var) / days**2
        bound = (start - level) / days
        mean, _ = _posterior(state, with_pending=False, params=params)
        if bound > mean:  # it ran out sooner than we believed possible: what we knew was
            # wrong (a trip taken for slow eating, a change nobody told us); keep as
            # little of it as after a change of habits, so the bound can move the rate
            state = replace(state, eta=state.eta * params.change_discount,
                            lam=state.lam * params.change_discount,
                            changes=state.changes + (at,))
        return _learn_lower_bound(state, bound, var)
    if state.maybe_away:  # nobody was home on a visit in this interval: they may have
        # been away, eating nothing, so a slower pace than believed says only "at least";
        # so does any pace while nothing has been measured (the head count's guess is no
        # yardstick: a family eating twice it, away a week, looks only a little fast)
        y = (start - level) / days
        mean, _ = _posterior(state, with_pending=False, params=params)
        if y < mean or state.intervals == 0:
            var = (_daily_sd(state, params) ** 2 * days + state.level_var + error**2) / days**2
            return _learn_lower_bound(state, y, var)
    return _learn_interval(state, at, start - level, days, error, params)


def _close_unknown(state: RateState, event: DropEvent, params: ForecastParams,
                   holds: Sequence[tuple[datetime, datetime]]
                   ) -> tuple[RateState, float, float]:
    """A drop whose level before was not measured: censored learning, estimated level."""
    cap = state.capacity
    room = cap - event.quantity
    if state.level is None or state.level_at is None:
        # first ever event: assume the drop filled what was there up to at most full
        return state, max(room, 0.0) / 2, (max(room, 0.0) / 2) ** 2 / 3
    level = state.level
    days = effective_days(state.level_at, event.at, holds)
    if days >= _MIN_DAYS and room < level and params.learn:
        var = (_daily_sd(state, params) ** 2 * days + state.level_var + event.error**2) / days**2
        state = _learn_lower_bound(state, (level - room) / days, var)
    mean, rate_var = _posterior(state, with_pending=True, params=params)
    pred = level - mean * days
    pred_var = state.level_var + rate_var * days**2 + _daily_sd(state, params) ** 2 * days
    lo, hi = 0.0, max(room, 0.0)
    before, before_var = truncated_normal(pred, max(pred_var, 1e-12), lo, hi)
    return state, before, before_var


def _change_household(state: RateState, event: HouseholdEvent, params: ForecastParams,
                      holds: Sequence[tuple[datetime, datetime]]) -> RateState:
    """A new household from ``event.at``: until then the old pace ate from the tank, so
    the level is carried forward to that moment at the old pace (with the spread that
    adds), then what was learned is rescaled to the new household and discounted."""
    if state.level is not None and state.level_at is not None and event.at > state.level_at:
        days = effective_days(state.level_at, event.at, holds)
        mean, var = _posterior(state, with_pending=True, params=params)
        mean = max(mean, 0.02 * state.prior.mean)  # as ``rate_of`` floors it
        pred_var = state.level_var + var * days**2 + _daily_sd(state, params) ** 2 * days
        level, level_var = truncated_normal(state.level - mean * days, max(pred_var, 1e-12),
                                            0.0, state.capacity)  # between empty and full
        state = replace(state, level=level, level_var=level_var, level_at=event.at)
    c = event.prior.mean / state.prior.mean
    d = params.household_discount
    pend = state.pending
    if pend is not None:
        pend = replace(pend, y=pend.y * c, var=pend.var * c * c)
    old, _ = _posterior(state, with_pending=False, params=params)
    state = replace(state, prior=event.prior, eta=state.eta / c * d,
                    lam=state.lam / (c * c) * d, pending=pend,
                    changes=state.changes + (event.at,))
    # The head count moves the pace from ``old`` to ``c·old``, but the real step is rarely
    # that size, and ten percent of a well-learned pace, rescaled, would pin the rate. So
    # the new pace is no surer than half that step as one sd, capped at a first guess at
    # the larger of the two paces and at half the new pace (wider, the slow tail has no
    # p90 run-out), the cap never below the new household's own first guess. (Capped at
    # that first guess alone, a couple told one of them left was planned as if it surely
    # ate half, and ran out when it had not.) Wider than the new prior is kept as negative
    # information, which fades back to the prior as the history does.
    mean, var = _posterior(state, with_pending=False, params=params)
    p0 = 1.0 / event.prior.sd**2
    widest = min((event.prior.sd / event.prior.mean * max(old, mean, 0.0)) ** 2,
                 (max(mean, 0.0) / 2) ** 2)
    want = min(var + (abs(1.0 - c) * max(old, 0.0) / 2) ** 2, max(widest, 1.0 / p0))
    if want > var:
        return replace(state, eta=mean / want - event.prior.mean * p0, lam=1.0 / want - p0)
    return state


def fold(state: RateState, events: Iterable[Event], *, params: ForecastParams,
         holds: Sequence[tuple[datetime, datetime]] = ()) -> RateState:
    """Fold events in time order (ties: household change, then drops, then visits that
    found nobody home, then readings: a level seen at such a visit closes the interval
    the absence was in)."""
    for event in sorted(events, key=_event_order):
        state = observe(state, event, params=params, holds=holds)
    return state


def _event_order(event: Event) -> tuple[datetime, int]:
    rank = (0 if isinstance(event, HouseholdEvent) else 1 if isinstance(event, DropEvent)
            else 2 if isinstance(event, NotHomeEvent) else 3)
    return event.at, rank


def rate_of(state: RateState, *, now: datetime, params: ForecastParams) -> Rate:
    """The rate as of ``now``: history decayed to ``now``, a pending interval damped."""
    state = _decay(state, now, params) if state.t_ref is not None else state
    mean, var = _posterior(state, with_pending=True, params=params)
    floor = 0.02 * state.prior.mean
    return Rate(mean=max(mean, floor), sd=math.sqrt(var), prior=state.prior,
                intervals=state.intervals, outliers=state.outliers, changes=state.changes,
                pending=state.pending is not None)


def estimate_rate(prior: Prior, events: Iterable[Event], *, capacity: float, now: datetime,
                  params: ForecastParams | None = None,
                  holds: Sequence[tuple[datetime, datetime]] = ()) -> Rate:
    """Learn a tank's daily use from its history (the whole fold, then ``rate_of``)."""
    params = params or ForecastParams()
    state = fold(start_state(prior, capacity=capacity), events, params=params, holds=holds)
    return rate_of(state, now=now, params=params)
