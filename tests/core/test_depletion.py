from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from statistics import NormalDist
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replenish.core.consumption import (
    ForecastParams,
    Household,
    ReadingEvent,
    fold,
    prior_rate,
    rate_of,
    start_state,
)
from replenish.core.depletion import (
    calendar_after,
    drop_size,
    forecast,
    run_out_days,
)
from replenish.core.types import MemberKind

RICE = {MemberKind.ADULT: 0.15, MemberKind.CHILD: 0.08, MemberKind.ELDER: 0.12}
TAIPEI = ZoneInfo("Asia/Taipei")
CAP = 60.3
T0 = datetime(2026, 11, 20, 2, tzinfo=UTC)  # 10:00 in Tainan
PARAMS = ForecastParams()


def tank_with(level, household, *, events=()):
    prior = prior_rate(household, RICE)
    state = start_state(prior, capacity=CAP)
    return fold(state, [ReadingEvent(T0, level, 0.02 * CAP), *events], params=PARAMS)


def rice_forecast(state, now=T0, **kw):
    return forecast(state, now=now, tz=TAIPEI, bag_sizes=[5, 10], min_drop=5,
                    params=PARAMS, **kw)


@st.composite
def households_with_one_more(draw):
    adults, children, elders = (draw(st.integers(0, 6)) for _ in range(3))
    if adults + children + elders == 0:
        adults = 1
    small = Household(adults=adults, children=children, elders=elders)
    kind = draw(st.sampled_from(["adults", "children", "elders"]))
    big = Household(**{**small.__dict__, kind: getattr(small, kind) + 1})
    return small, big


@settings(max_examples=100, deadline=None)
@given(households_with_one_more(), st.floats(min_value=1, max_value=CAP))
def test_bigger_households_run_out_sooner(pair, level):
    small, big = pair
    f_small = rice_forecast(tank_with(level, small))
    f_big = rice_forecast(tank_with(level, big))
    assert f_big.runout.p50 <= f_small.runout.p50
    assert f_big.order_by <= f_small.order_by


@settings(max_examples=200, deadline=None)
@given(
    level=st.floats(min_value=0, max_value=CAP),
    adults=st.integers(1, 8),
    days_later=st.floats(min_value=0, max_value=400),
)
def test_quantiles_are_ordered_and_levels_stay_in_the_tank(level, adults, days_later):
    f = rice_forecast(tank_with(level, Household(adults=adults)),
                      now=T0 + timedelta(days=days_later))
    assert f.runout.p10 <= f.runout.p50 <= f.runout.p90
    assert 0 <= f.level_now <= CAP
    assert f.drop_size >= 5


@settings(max_examples=300, deadline=None)
@given(
    p=st.floats(min_value=0.01, max_value=0.99),
    level=st.floats(min_value=0.1, max_value=100),
    rate=st.floats(min_value=0.05, max_value=5),
    rate_cv=st.floats(min_value=0.01, max_value=0.3),
    level_sd=st.floats(min_value=0, max_value=5),
)
def test_run_out_days_inverts_the_run_out_probability(p, level, rate, rate_cv, level_sd):
    daily_sd = 0.25 * rate
    d = run_out_days(p, level=level, level_var=level_sd**2, rate=rate, rate_sd=rate * rate_cv,
                     daily_sd=daily_sd)
    if 0 < d < 3650:
        sd = (rate**2 * rate_cv**2 * d * d + daily_sd**2 * d + level_sd**2) ** 0.5
        assert NormalDist().cdf((rate * d - level) / sd) == pytest.approx(p, abs=1e-6)


def test_a_family_of_five_with_half_a_tank_runs_out_in_about_seven_weeks():
    f = rice_forecast(tank_with(30.0, Household(adults=2, children=2, elders=1)))
    days = (f.runout.p50 - T0).total_seconds() / 86400
    assert days == pytest.approx(30.0 / 0.58, rel=1e-6)
    assert f.order_by < f.runout.local_date("p10")


@pytest.mark.parametrize(("measured", "risk"), [(False, PARAMS.first_risk), (True, PARAMS.risk)])
def test_the_order_by_date_keeps_the_risk_of_running_out_below_the_setting(measured, risk):
    """Until a tank's pace has been measured once, the plan keeps to ``first_risk``: the
    head count's guess misses by more than its sd says (a family may eat twice it)."""
    family = Household(adults=2, children=2, elders=1)
    earlier = [ReadingEvent(T0 - timedelta(days=20), 41.6, 0.02 * CAP)] if measured else []
    state = fold(start_state(prior_rate(family, RICE), capacity=CAP),
                 [*earlier, ReadingEvent(T0, 30.0, 0.02 * CAP)], params=PARAMS)
    f = rice_forecast(state)
    rate = rate_of(state, now=T0, params=PARAMS)
    assert (rate.intervals > 0) == measured
    arrive = datetime.combine(f.order_by, time(20), tzinfo=TAIPEI)  # forecast's delivery_by
    later = arrive + timedelta(days=1)

    def p_out(at):
        d = (at - T0).total_seconds() / 86400
        sd = (rate.sd**2 * d * d + (0.25 * max(rate.mean, rate.prior.mean)) ** 2 * d
              + (0.02 * CAP) ** 2) ** 0.5
        return NormalDist().cdf((rate.mean * d - 30.0) / sd)
    assert p_out(arrive) <= risk < p_out(later)


def test_a_new_tank_is_planned_sooner_than_the_same_tank_once_its_pace_is_known():
    family = Household(adults=2, children=2, elders=1)
    new = rice_forecast(tank_with(30.0, family))
    no_first = forecast(tank_with(30.0, family), now=T0, tz=TAIPEI, bag_sizes=[5, 10],
                        min_drop=5, params=replace(PARAMS, first_risk=PARAMS.risk))
    assert new.order_by < no_first.order_by
    assert new.runout == no_first.runout  # only the plan is safer, not the forecast


def test_a_hold_pushes_the_run_out_back_by_its_length():
    state = tank_with(30.0, Household(adults=2, children=2, elders=1))
    away = (T0 + timedelta(days=3), T0 + timedelta(days=17))
    plain, held = rice_forecast(state), rice_forecast(state, holds=[away])
    assert held.runout.p50 - plain.runout.p50 == timedelta(days=14)


def test_no_delivery_days_move_the_order_by_date_before_them():
    state = tank_with(30.0, Household(adults=2, children=2, elders=1))
    plain = rice_forecast(state)
    blocked = rice_forecast(state, no_delivery=[(plain.order_by - timedelta(days=2),
                                                 plain.order_by + timedelta(days=5))])
    assert blocked.order_by == plain.order_by - timedelta(days=3)


def test_calendar_time_skips_holds():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    hold = (datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC))
    assert calendar_after(start, 5, [hold]) == datetime(2026, 1, 13, tzinfo=UTC)
    assert calendar_after(start, 1, [hold]) == datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("room", "bags", "minimum", "expected"),
    [
        (27.3, [5, 10], 5, 25),
        (3.0, [5, 10], 5, 5),
        (17.0, [10, 25], 10, 10),
        (37.0, [10, 25], 10, 35),
        (2.9, [1], 2, 2),
        (7.5, [2.5], 2.5, 7.5),
        (12.9, [], 1, 12.9),
    ],
)
def test_the_drop_size_rounds_down_to_bags_but_not_below_the_minimum(room, bags, minimum,
                                                                     expected):
    assert drop_size(room, bag_sizes=bags, min_drop=minimum) == pytest.approx(expected)


@given(st.floats(min_value=0, max_value=500),
       st.lists(st.sampled_from([1, 2.5, 3, 5, 10, 25]), min_size=1, max_size=3))
def test_a_drop_never_exceeds_the_room_unless_the_minimum_forces_it(room, bags):
    size = drop_size(room, bag_sizes=bags, min_drop=min(bags))
    assert size <= room + 1e-9 or size == min(bags)
    assert size > room - min(bags) - 1e-9 or size == min(bags)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=6), st.floats(min_value=0.3, max_value=1.5))
def test_more_readings_narrow_the_run_out_interval(n, true_rate):
    def width_after(k):
        t, level, events = T0, 50.0, [ReadingEvent(T0, 50.0, 0.02 * CAP)]
        for _ in range(k):
            t += timedelta(days=20)
            level -= true_rate * 20
            events.append(ReadingEvent(t, level, 0.02 * CAP))
            level = 50.0
            events.append(ReadingEvent(t + timedelta(hours=1), level, 0.02 * CAP))
        state = tank_with(50.0, Household(adults=3), events=events[1:])
        f = rice_forecast(state, now=t + timedelta(hours=2))
        return f.runout.p90 - f.runout.p10

    assert width_after(n + 1) <= width_after(n)


def test_the_order_by_date_makes_room_for_a_bigger_feast_than_the_lift_says():
    family = Household(adults=2, children=2, elders=1)  # 0.58 kg a day, learned well:
    readings = [ReadingEvent(T0 - timedelta(days=10 * k), 20.0 + 5.8 * k, 0.02 * CAP)
                for k in range(6, -1, -1)]  # the same pace for 60 days
    state = fold(start_state(prior_rate(family, RICE), capacity=CAP), readings, params=PARAMS)
    feast = [(T0 + timedelta(days=10), T0 + timedelta(days=17), 2.0)]  # a week: 7 days more
    later = [(T0 + timedelta(days=60), T0 + timedelta(days=67), 2.0)]  # after it runs out
    sure = replace(PARAMS, lift_spread=0.0)

    def order_by(busy, params):
        return forecast(state, now=T0, tz=TAIPEI, bag_sizes=[5, 10], min_drop=5,
                        params=params, busy=busy)

    spread, trusted = order_by(feast, PARAMS), order_by(feast, sure)
    assert spread.order_by < trusted.order_by  # the feast's extra use is a guess too
    assert spread.runout.p50 == trusted.runout.p50  # the median does not move
    assert order_by(later, PARAMS).order_by == order_by(later, sure).order_by  # no feast in
    assert order_by((), PARAMS).order_by == order_by((), sure).order_by  # reach: no change
