import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replenish.core.tank import TankGeometry

dims = st.floats(min_value=1, max_value=500, allow_nan=False)
density = st.floats(min_value=0.01, max_value=5, allow_nan=False)


def test_wangs_cylinder_holds_75_litres_and_60_kg_of_rice():
    tank = TankGeometry.cylinder(diameter_cm=40, height_cm=60)
    assert tank.litres == pytest.approx(75.398, abs=1e-3)
    assert tank.capacity(units_per_litre=0.8) == pytest.approx(60.319, abs=1e-3)


def test_a_box_is_width_times_depth_times_height():
    tank = TankGeometry.box(width_cm=30, depth_cm=40, height_cm=50)
    assert tank.litres == pytest.approx(60.0)


def test_twenty_cm_of_rice_is_a_third_of_a_sixty_cm_tank():
    tank = TankGeometry.cylinder(diameter_cm=40, height_cm=60)
    assert tank.level_from_depth(20, units_per_litre=0.8) == pytest.approx(60.319 / 3, abs=1e-3)


def test_a_tank_entered_by_capacity_converts_depth_only_with_a_height():
    assert TankGeometry.direct(capacity=50, height_cm=100).level_from_depth(
        25, units_per_litre=1) == pytest.approx(12.5)
    with pytest.raises(ValueError, match="height_cm"):
        TankGeometry.direct(capacity=50).level_from_depth(25, units_per_litre=1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"diameter_cm": -40, "height_cm": 60}, "diameter_cm"),
        ({"diameter_cm": 40, "height_cm": 0}, "height_cm"),
        ({"diameter_cm": math.nan, "height_cm": 60}, "diameter_cm"),
    ],
)
def test_a_non_positive_dimension_is_refused_by_name(kwargs, field):
    with pytest.raises(ValueError, match=field):
        TankGeometry.cylinder(**kwargs)


def test_a_depth_above_the_rim_is_a_misread_tape():
    with pytest.raises(ValueError, match="more than the tank's height"):
        TankGeometry.cylinder(diameter_cm=40, height_cm=60).level_from_depth(
            61, units_per_litre=0.8)


@given(d=dims, h=dims, upl=density, frac=st.floats(min_value=0, max_value=1))
def test_depth_and_level_round_trip(d, h, upl, frac):
    tank = TankGeometry.cylinder(diameter_cm=d, height_cm=h)
    depth = h * frac
    level = tank.level_from_depth(depth, units_per_litre=upl)
    assert 0 <= level <= tank.capacity(units_per_litre=upl) * (1 + 1e-12)
    assert tank.depth_from_level(level, units_per_litre=upl) == pytest.approx(depth, abs=1e-9)


@given(w=dims, dp=dims, h=dims, upl=density)
def test_capacity_is_litres_times_density(w, dp, h, upl):
    tank = TankGeometry.box(width_cm=w, depth_cm=dp, height_cm=h)
    assert tank.capacity(units_per_litre=upl) == pytest.approx(w * dp * h / 1000 * upl)
