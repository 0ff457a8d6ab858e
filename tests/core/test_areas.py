"""Area days: slices of town by compass direction, each served on its own days."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replenish.core.areas import area_day, area_of

SHOP = (22.9917, 120.2148)  # Tainan


def test_the_slices_go_clockwise_from_north():
    step = 0.01
    north, east = (SHOP[0] + step, SHOP[1]), (SHOP[0], SHOP[1] + step)
    south, west = (SHOP[0] - step, SHOP[1]), (SHOP[0], SHOP[1] - step)
    assert [area_of(shop=SHOP, place=p, areas=4) for p in (north, east, south, west)] == [
        0, 1, 2, 3]
    assert [area_of(shop=SHOP, place=p, areas=2) for p in (north, east, south, west)] == [
        0, 0, 1, 1]


def test_a_drop_goes_on_the_last_area_day_before_the_last_safe_day():
    thursday = date(2026, 12, 3)
    area = thursday.toordinal() % 2
    assert area_day(last_safe=thursday, earliest=date(2026, 12, 1), area=area,
                    areas=2) == thursday
    assert area_day(last_safe=thursday, earliest=date(2026, 12, 1), area=1 - area,
                    areas=2) == thursday - timedelta(days=1)
    # the area's day before would be too soon for a text to reach them: the last safe day
    assert area_day(last_safe=thursday, earliest=thursday, area=1 - area,
                    areas=2) == thursday


def test_with_seven_areas_each_has_its_own_weekday():
    days = [area_day(last_safe=date(2026, 12, 20), earliest=date(2026, 12, 1), area=a,
                     areas=7) for a in range(7)]
    assert sorted(d.weekday() for d in days) == list(range(7))
    assert all(d.toordinal() % 7 == a for a, d in enumerate(days))


def test_no_areas_and_a_bad_area_are_told_apart():
    day = date(2026, 12, 3)
    assert area_day(last_safe=day, earliest=date(2026, 12, 1), area=5, areas=0) == day
    with pytest.raises(ValueError, match="area must be between 0 and 1"):
        area_day(last_safe=day, earliest=date(2026, 12, 1), area=2, areas=2)
    with pytest.raises(ValueError, match="areas must be at least 1"):
        area_of(shop=SHOP, place=SHOP, areas=0)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 1, 1)),
       st.integers(0, 20), st.integers(2, 14), st.data())
def test_the_day_is_never_late_nor_too_soon_and_no_later_area_day_was_missed(
        last_safe, lead, areas, data):
    area = data.draw(st.integers(0, areas - 1))
    earliest = last_safe - timedelta(days=lead)

    day = area_day(last_safe=last_safe, earliest=earliest, area=area, areas=areas)

    assert earliest <= day <= last_safe
    assert last_safe - day < timedelta(days=areas)
    if day != last_safe:
        assert day.toordinal() % areas == area
    elif last_safe.toordinal() % areas != area:  # no day of the area in reach at all
        assert not any((earliest + timedelta(days=i)).toordinal() % areas == area
                       for i in range(lead + 1))
    later = [last_safe - timedelta(days=i) for i in range((last_safe - day).days)]
    assert not any(d.toordinal() % areas == area for d in later)
