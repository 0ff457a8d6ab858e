import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from replenish.core.batch import StateArrays, forecast_many, local_dates
from replenish.core.consumption import (
    DropEvent,
    ForecastParams,
    Prior,
    RateState,
    ReadingEvent,
    fold,
    start_state,
)
from replenish.core.depletion import forecast

PARAMS = ForecastParams()
T0 = datetime(2026, 1, 1, 3, tzinfo=UTC)


def random_state(rnd: random.Random) -> RateState:
    cap = rnd.uniform(20, 120)
    mean = rnd.uniform(0.1, 2.0)
    state = start_state(Prior(mean, 0.35 * mean), capacity=cap)
    t, level, true = T0, rnd.uniform(0, cap), mean * rnd.uniform(0.5, 2.5)
    events = [ReadingEvent(t, level, 0.02 * cap)]
    for _ in range(rnd.randint(0, 14)):
        days = rnd.uniform(1, 60)
        t += timedelta(days=days)
        level = max(level - true * days * rnd.uniform(0.5, 1.8), 0.0)
        if rnd.random() < 0.5:
            events.append(ReadingEvent(t, level, 0.02 * cap))
        else:
            q = rnd.uniform(5, cap)
            known = level if rnd.random() < 0.6 else None
            events.append(DropEvent(t, q, known, None, 0.02 * cap))
            level = min(level + q, cap)
    return fold(state, events, params=PARAMS)


def as_arrays(states: list[RateState]) -> StateArrays:
    def col(f):
        return np.array([f(s) for s in states], dtype=np.float64)

    def ts(d):
        return d.timestamp() if d is not None else math.nan

    return StateArrays(
        capacity=col(lambda s: s.capacity), prior_mean=col(lambda s: s.prior.mean),
        prior_sd=col(lambda s: s.prior.sd), eta=col(lambda s: s.eta), lam=col(lambda s: s.lam),
        t_ref=col(lambda s: ts(s.t_ref)), level=col(lambda s: s.level),
        level_var=col(lambda s: s.level_var), level_at=col(lambda s: ts(s.level_at)),
        pending_at=col(lambda s: ts(s.pending.at) if s.pending else math.nan),
        pending_y=col(lambda s: s.pending.y if s.pending else math.nan),
        pending_var=col(lambda s: s.pending.var if s.pending else math.nan),
        pending_z=col(lambda s: s.pending.z if s.pending else math.nan),
        intervals=col(lambda s: s.intervals),
    )


def busy_around(now):
    """Lunar-New-Year-like busy days before and after ``now``, one overlapping another."""
    return [(now - timedelta(days=9), now - timedelta(days=2), 1.5),
            (now + timedelta(days=5), now + timedelta(days=12), 1.6),
            (now + timedelta(days=10), now + timedelta(days=11), 2.0),
            (now + timedelta(days=40), now + timedelta(days=41, hours=7), 1.1)]


@pytest.mark.parametrize(("zone", "with_busy"), [("Asia/Taipei", False),
                                                 ("America/Chicago", False),
                                                 ("Asia/Taipei", True)])
def test_the_batch_forecast_equals_the_tank_by_tank_forecast(zone, with_busy):
    tz = ZoneInfo(zone)
    rnd = random.Random(7)
    states = [random_state(rnd) for _ in range(400)]
    now = max(s.level_at for s in states) + timedelta(days=2)
    busy = busy_around(now) if with_busy else []
    many = forecast_many(as_arrays(states), now=now, tz=tz, bag_sizes=[5, 10], min_drop=5,
                         params=PARAMS, busy=busy)
    if with_busy:  # the busy days matter for the tanks whose run-out reaches them
        plain = forecast_many(as_arrays(states), now=now, tz=tz, bag_sizes=[5, 10],
                              min_drop=5, params=PARAMS)
        assert (many.runout_p50 < plain.runout_p50 - 3600).sum() > 5
    for i, state in enumerate(states):
        one = forecast(state, now=now, tz=tz, bag_sizes=[5, 10], min_drop=5, params=PARAMS,
                       busy=busy)
        assert many.rate[i] == pytest.approx(one.rate.mean, rel=1e-9)
        assert many.rate_sd[i] == pytest.approx(one.rate.sd, rel=1e-9)
        assert many.level_now[i] == pytest.approx(one.level_now, abs=1e-9)
        assert many.runout_p50[i] == pytest.approx(one.runout.p50.timestamp(), abs=1e-3)
        assert many.runout_p10[i] == pytest.approx(one.runout.p10.timestamp(), abs=1e-3)
        assert many.runout_p90[i] == pytest.approx(one.runout.p90.timestamp(), abs=1e-3)
        assert many.order_by[i].item() == one.order_by
        assert many.drop_size[i] == pytest.approx(one.drop_size)


def test_local_dates_follow_daylight_saving():
    chicago = ZoneInfo("America/Chicago")
    moments = [datetime(2026, 3, 8, 5, 30, tzinfo=UTC), datetime(2026, 3, 9, 4, 30, tzinfo=UTC)]
    got = local_dates(np.array([m.timestamp() for m in moments]), chicago)
    assert [d.item() for d in got] == [m.astimezone(chicago).date() for m in moments]


def test_batch_drop_sizes_equal_the_scalar_ones():
    from replenish.core.batch import _drop_sizes
    from replenish.core.depletion import drop_size

    rooms = np.array([0.0, 2.9, 4.999, 5.0, 12.34, 27.3, 37.0, 99.99, 150.0])
    for bags, minimum in (([5, 10], 5), ([10, 25], 10), ([2.5], 2.5), ([], 1), ([1], 2)):
        got = _drop_sizes(rooms, bags, minimum)
        want = [drop_size(r, bag_sizes=bags, min_drop=minimum) for r in rooms]
        assert got.tolist() == pytest.approx(want)
