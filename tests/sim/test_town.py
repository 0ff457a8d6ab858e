"""The true tanks in the simulated kitchens: levels, pours and run-out days."""

import random
from datetime import date

from replenish.sim.town import Kitchen, RiceTank, day_fraction, measured_depth, pick_tank

TANK = RiceTank(30, 40)  # about 22.6 kg
DAY = date(2027, 3, 1)


def test_a_days_use_is_spread_over_the_waking_hours():
    assert day_fraction(3) == 0 and day_fraction(14) == 0.5 and day_fraction(23) == 1


def test_a_tank_that_runs_dry_in_the_afternoon_makes_a_run_out_day_counted_once_per_spell():
    kitchen = Kitchen(TANK, level=1.0)
    for offset in range(3):
        kitchen.begin_day(date(2027, 3, 1 + offset), use=1.6)
        assert kitchen.end_day() is True
    assert kitchen.tally.runouts == 1 and kitchen.tally.runout_days == 3
    assert round(kitchen.tally.short_kg, 6) == round(3 * 1.6 - 1.0, 6)


def test_a_drop_before_the_tank_is_empty_prevents_the_run_out_and_records_the_level_found():
    kitchen = Kitchen(TANK, level=1.0)
    kitchen.begin_day(DAY, use=1.6)
    poured = kitchen.pour(10.0, 10.0)  # a quarter of the day's use is gone by 10:00
    assert poured == 10.0 and kitchen.end_day() is False
    assert kitchen.tally.drops == 1
    assert abs(kitchen.tally.level_shares[0] - 0.6 / TANK.capacity) < 1e-9
    assert abs(kitchen.level - (0.6 + 10.0 - 1.2)) < 1e-9


def test_a_kitchen_begun_at_ten_still_eats_the_rest_of_that_day():
    kitchen = Kitchen(TANK, level=10.0)  # the level the shop saw at sign-up, 10:00
    kitchen.begin_at(DAY, use=1.6, hour=10.0)
    assert kitchen.level_at(10.0) == 10.0
    kitchen.end_day()
    assert abs(kitchen.level - (10.0 - 0.75 * 1.6)) < 1e-9


def test_a_pour_stops_at_the_rim():
    kitchen = Kitchen(TANK, level=TANK.capacity - 3)
    kitchen.begin_day(DAY, use=0.0)
    assert kitchen.pour(9.0, 10.0) == 3.0 and kitchen.level == TANK.capacity


def test_the_courier_reads_the_tape_to_half_a_centimetre_within_the_tank():
    rnd = random.Random(3)
    depths = [measured_depth(TANK.capacity / 2, TANK, rnd) for _ in range(200)]
    assert all(d * 2 == int(d * 2) and 0 <= d <= 40 for d in depths)
    assert 19 <= sum(depths) / len(depths) <= 21


def test_a_household_gets_a_tank_that_lasts_it_three_to_six_weeks():
    rnd = random.Random(1)
    for rate in (0.3, 0.6, 1.0):
        days = pick_tank(rate, rnd).capacity / rate
        assert 15 <= days <= 45
