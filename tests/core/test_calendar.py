"""The busy-days calendar: holidays and Lunar New Year as faster use."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replenish.core.calendar import busy_periods, is_lunar_new_year
from replenish.core.depletion import calendar_after, use_days

TAIPEI = ZoneInfo("Asia/Taipei")
T0 = datetime(2027, 1, 20, 2, tzinfo=UTC)


def test_taiwan_lunar_new_year_2027_is_one_busy_week_at_the_new_year_pace():
    busy = busy_periods("TW", TAIPEI, date(2027, 1, 15), date(2027, 3, 10), holiday_lift=1.1,
                        new_year_lift=1.5)
    new_year = [p for p in busy if p[2] == 1.5]
    assert new_year == [(datetime(2027, 2, 3, 16, tzinfo=UTC),  # Feb 4, 00:00 in Taipei
                         datetime(2027, 2, 10, 16, tzinfo=UTC), 1.5)]
    assert all(p[2] == 1.1 for p in busy if p not in new_year)  # Peace Memorial Day


def test_a_pace_of_one_and_an_unknown_country_give_no_busy_days():
    assert busy_periods("TW", TAIPEI, date(2027, 1, 1), date(2027, 12, 31), holiday_lift=1.0,
                        new_year_lift=1.0) == []
    assert busy_periods("XX", TAIPEI, date(2027, 1, 1), date(2027, 12, 31), holiday_lift=1.1,
                        new_year_lift=1.5) == []
    with pytest.raises(ValueError, match="more than 0"):
        busy_periods("TW", TAIPEI, date(2027, 1, 1), date(2027, 2, 1), holiday_lift=0,
                     new_year_lift=1.5)


def test_only_lunar_new_year_names_count_as_the_new_year():
    assert is_lunar_new_year("Chinese New Year's Eve") and is_lunar_new_year("Lunar New Year")
    assert not is_lunar_new_year("New Year's Day")


def test_busy_days_bring_the_run_out_moment_forward_by_the_extra_use():
    busy = [(T0 + timedelta(days=2), T0 + timedelta(days=6), 1.5)]  # 4 days = 6 days of use
    assert calendar_after(T0, 10, busy=busy) == T0 + timedelta(days=8)
    assert calendar_after(T0, 1, busy=busy) == T0 + timedelta(days=1)  # before it starts
    assert calendar_after(T0, 3.5, busy=busy) == T0 + timedelta(days=3)  # inside it


def test_a_hold_wins_over_a_busy_day_it_overlaps():
    busy = [(T0, T0 + timedelta(days=4), 2.0)]
    holds = [(T0 + timedelta(days=2), T0 + timedelta(days=6))]  # away: nothing is used
    assert use_days(T0, T0 + timedelta(days=8), holds, busy) == pytest.approx(4 + 2)
    assert calendar_after(T0, 6, holds, busy) == T0 + timedelta(days=8)


@settings(max_examples=200, deadline=None)
@given(days=st.floats(min_value=0, max_value=60), start=st.floats(0, 20),
       length=st.floats(0.1, 10), pace=st.floats(0.2, 3))
def test_use_days_undoes_calendar_after(days, start, length, pace):
    busy = [(T0 + timedelta(days=start), T0 + timedelta(days=start + length), pace)]
    end = calendar_after(T0, days, busy=busy)
    assert use_days(T0, end, busy=busy) == pytest.approx(days, abs=1e-6)
