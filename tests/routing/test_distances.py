import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replenish.routing import HaversineSource, Matrix, Point, haversine_m

points = st.builds(Point, st.floats(-80, 80), st.floats(-179, 179))


def test_one_degree_along_a_meridian_is_111_km():
    assert haversine_m(Point(0, 0), Point(1, 0)) == pytest.approx(111_195.08, abs=0.01)
    assert haversine_m(Point(22.5, 120.2), Point(23.5, 120.2)) == pytest.approx(111_195.08,
                                                                               abs=0.01)


def test_nashville_to_los_angeles_matches_the_textbook_example():
    # BNA (36.12, -86.67) to LAX (33.94, -118.40): 2887.26 km on a sphere of radius
    # 6372.8 km; on the mean radius 6371.0088 km that is 2887.26 × 6371.0088 / 6372.8
    expected = 2_887_259.95 * 6371.0088 / 6372.8
    assert haversine_m(Point(36.12, -86.67), Point(33.94, -118.40)) == pytest.approx(
        expected, rel=1e-6)


def test_a_point_is_at_no_distance_from_itself_and_antipodes_are_half_round():
    assert haversine_m(Point(22.99, 120.21), Point(22.99, 120.21)) == 0
    half = math.pi * 6_371_008.8
    assert haversine_m(Point(0, 0), Point(0, 180)) == pytest.approx(half)


@given(points, points, points)
def test_haversine_is_symmetric_and_keeps_the_triangle_inequality(a, b, c):
    assert haversine_m(a, b) == pytest.approx(haversine_m(b, a))
    assert haversine_m(a, c) <= haversine_m(a, b) + haversine_m(b, c) + 1e-6


def test_the_matrix_adds_the_road_detour_and_drives_at_the_given_speed():
    shop, north = Point(22.99, 120.21), Point(23.0, 120.21)  # 1111.95 m apart
    matrix = HaversineSource(detour_factor=1.3, speed_kmh=25.0).matrix([shop, north])
    crow = haversine_m(shop, north)
    assert matrix.distance_m.tolist() == [[0, round(1.3 * crow)], [round(1.3 * crow), 0]]
    assert matrix.duration_s[0, 1] == round(1.3 * crow / (25 / 3.6))  # 208 s
    assert matrix.duration_s[0, 1] == 208
    assert matrix.warnings == ()


def test_a_detour_below_one_or_a_speed_of_zero_is_refused():
    with pytest.raises(ValueError, match="detour"):
        HaversineSource(detour_factor=0.9)
    with pytest.raises(ValueError, match="speed"):
        HaversineSource(speed_kmh=0)


def test_a_matrix_must_be_square_and_not_negative():
    with pytest.raises(ValueError, match="square"):
        Matrix(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="negative"):
        Matrix(np.array([[0, -1], [1, 0]]), np.zeros((2, 2)))


def test_a_matrix_cannot_be_changed_after_it_is_made():
    matrix = HaversineSource().matrix([Point(0, 0), Point(0, 1)])
    with pytest.raises(ValueError):
        matrix.distance_m[0, 1] = 5


def test_a_point_off_the_map_is_refused():
    with pytest.raises(ValueError, match="latitude"):
        Point(91, 0)
    with pytest.raises(ValueError, match="longitude"):
        Point(0, 181)
