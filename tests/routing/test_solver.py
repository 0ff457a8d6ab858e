import random
from datetime import timedelta

import numpy as np
import pytest

from replenish.routing import (
    DayProblem,
    Matrix,
    RouteParams,
    UnplannedReason,
    solve_day,
)
from tests.routing.town import ROADS, SHOP, at, courier, served_by, solve, stop


def scattered(n, *, seed, quantity=(5, 30), radius=3000):
    rng = random.Random(seed)
    return [stop(i, rng.uniform(-radius, radius), rng.uniform(-radius, radius),
                 rng.randint(*quantity), urgency=round(rng.random(), 2))
            for i in range(1, n + 1)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_courier_carries_more_than_its_capacity(seed):
    stops = scattered(30, seed=seed)
    couriers = [courier(1, 120), courier(2, 150), courier(3, 90)]
    plan = solve(stops, couriers, seed=seed)
    capacity = {c.id: c.capacity for c in couriers}
    quantity = {s.id: s.quantity for s in stops}
    for route in plan.routes:
        assert route.load == sum(quantity[s.stop_id] for s in route.stops)
        assert route.load <= capacity[route.courier_id]
        if route.stops:
            assert route.stops[0].load_before == route.load
    # 30 stops of about 17 kg do not fit in 360 kg: the rest is listed, none lost
    assert plan.planned_count + len(plan.unplanned) == 30
    assert plan.unplanned
    assert {u.reason for u in plan.unplanned} == {UnplannedReason.NO_CAPACITY}


def test_every_stop_with_a_hard_window_is_served_within_it():
    rng = random.Random(7)
    stops = []
    for i in range(1, 25):
        start = at(rng.choice([8, 9, 10, 11, 13, 14, 15, 16]))
        stops.append(stop(i, rng.uniform(-4000, 4000), rng.uniform(-4000, 4000),
                          window=(start, start + timedelta(hours=1))))
    plan = solve(stops, [courier(1), courier(2)])
    window = {s.id: s.window for s in stops}
    assert plan.planned_count == 24
    for route in plan.routes:
        for s in route.stops:
            assert window[s.stop_id].start <= s.service_start <= window[s.stop_id].end
            assert s.arrival <= s.service_start
            assert s.window_miss_s == 0


def test_a_stop_whose_hard_window_nobody_can_reach_is_listed_as_outside_its_window():
    early = stop(1, north_m=9000, window=(at(7), at(8, 5)))  # 15 min away, gone by 08:05
    plan = solve([early, stop(2, east_m=500)], [courier(1)])
    assert served_by(plan) == {2: 1}
    (left,) = plan.unplanned
    assert (left.stop_id, left.reason) == (1, UnplannedReason.OUTSIDE_TIME_WINDOW)


def test_two_hard_windows_one_courier_cannot_both_keep_leave_one_out_for_the_window():
    # 10 km apart (1000 s driving) and both due at 10:00-10:05
    a = stop(1, north_m=5000, window=(at(10), at(10, 5)), urgency=0.9)
    b = stop(2, north_m=-5000, window=(at(10), at(10, 5)), urgency=0.2)
    plan = solve([a, b], [courier(1)])
    assert served_by(plan) == {1: 1}
    assert [(u.stop_id, u.reason) for u in plan.unplanned] == [
        (2, UnplannedReason.OUTSIDE_TIME_WINDOW)]


def test_when_the_day_cannot_fit_the_least_urgent_stops_are_left_out_and_listed():
    urgencies = [0.05, 0.9, 0.3, 0.7, 0.1, 0.5, 0.95, 0.2, 0.6, 0.4]
    stops = [stop(i, 300 * i, 200 * (i % 3), 10, urgency=u)
             for i, u in enumerate(urgencies, start=1)]
    plan = solve(stops, [courier(1, capacity=50)])
    planned = sorted(s.stop_id for s in plan.routes[0].stops)
    assert planned == [2, 4, 6, 7, 9]  # the five most urgent
    assert [u.urgency for u in plan.unplanned] == [0.4, 0.3, 0.2, 0.1, 0.05]
    assert all(u.reason is UnplannedReason.NO_CAPACITY for u in plan.unplanned)
    assert plan.unplanned[0].stop_id == 10 and plan.unplanned[0].customer_id == 110


def test_a_mandatory_stop_is_kept_before_any_urgent_one():
    stops = [stop(1, 4000, quantity=30, urgency=0.0, mandatory=True),
             stop(2, 500, quantity=30, urgency=1.0), stop(3, -500, quantity=30, urgency=1.0)]
    plan = solve(stops, [courier(1, capacity=60)])
    assert 1 in served_by(plan)
    assert len(plan.unplanned) == 1


def test_the_usual_courier_gets_the_stop_when_it_costs_little():
    # two couriers of 20 kg; two 10 kg stops north, two south: either courier could
    # take either side at the same distance, so only the preference decides
    for seed in range(4):
        stops = [stop(1, 3000, 100, preferred_courier_id=2),
                 stop(2, 3100, -100, preferred_courier_id=2),
                 stop(3, -3000, 100, preferred_courier_id=1),
                 stop(4, -3100, -100)]
        plan = solve(stops, [courier(1, 20), courier(2, 20)], seed=seed)
        assert served_by(plan) == {1: 2, 2: 2, 3: 1, 4: 1}


def test_the_usual_courier_is_not_sent_across_town_for_one_stop():
    # courier 2 usually serves stop 3, but it sits among courier 1's northern stops
    # while courier 2 works the south: 500 m of preference does not pay for 8 km
    north = [stop(1, 4000, 0, 40), stop(2, 4200, 300, 40), stop(3, 4100, 150, 10,
                                                                preferred_courier_id=2)]
    south = [stop(4, -4000, 0, 40, preferred_courier_id=2), stop(5, -4200, 300, 40,
                                                                 preferred_courier_id=2)]
    plan = solve(north + south, [courier(1, 100), courier(2, 100)])
    assert served_by(plan) == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2}


def test_the_same_seed_gives_the_same_plan():
    stops = scattered(40, seed=5, quantity=(5, 15))
    couriers = [courier(1, 150), courier(2, 150), courier(3, 150)]
    first = solve(stops, couriers, seed=11, seconds=30, max_iterations=300)
    second = solve(stops, couriers, seed=11, seconds=30, max_iterations=300)
    assert first.iterations == second.iterations == 300
    assert first.routes == second.routes
    assert first.unplanned == second.unplanned


def test_a_soft_window_is_kept_when_waiting_costs_nothing():
    wish = stop(1, 2000, window=(at(11), at(11, 30)), hard=False)
    plan = solve([wish, stop(2, -1000)], [courier(1)])
    (served,) = [s for s in plan.routes[0].stops if s.stop_id == 1]
    assert at(11) <= served.service_start <= at(11, 30)
    assert served.window_miss_s == 0


def test_a_soft_window_that_cannot_be_kept_is_missed_rather_than_the_stop_dropped():
    a = stop(1, north_m=5000, window=(at(10), at(10, 5)), hard=False)
    b = stop(2, north_m=-5000, window=(at(10), at(10, 5)), hard=False)
    plan = solve([a, b], [courier(1)])
    assert plan.unplanned == ()
    misses = sorted(s.window_miss_s for s in plan.routes[0].stops)
    assert misses[0] == 0
    assert 1000 <= misses[1] <= 1400  # 1000 s driving + 120 s at the first door


def test_missing_a_soft_window_by_a_lot_costs_more_than_missing_one_by_a_little():
    # from 09:00, near then far (far is 2 min late) or far then near (near is 10 min
    # late): the same 12 km either way, so only the lateness penalty decides
    near = stop(1, north_m=1000, window=(at(9), at(9, 10)), hard=False)
    far = stop(2, north_m=6000, window=(at(9), at(9, 10)), hard=False)
    params = RouteParams(soft_window_step_s=300, soft_window_steps=4)
    for seed in range(3):
        plan = solve([far, near], [courier(1, start=at(9))], params=params, seed=seed)
        assert [s.stop_id for s in plan.routes[0].stops] == [1, 2]
        assert [s.window_miss_s for s in plan.routes[0].stops] == [0, 120]


def test_a_stop_larger_than_any_courier_can_carry_is_listed_as_too_large():
    plan = solve([stop(1, 1000, quantity=400), stop(2, 500)], [courier(1, 300)])
    assert [(u.stop_id, u.reason) for u in plan.unplanned] == [(1, UnplannedReason.TOO_LARGE)]


def test_a_stop_too_far_for_any_shift_is_listed_as_unreachable():
    far = stop(1, north_m=200_000)  # 200 km: 5.5 hours each way at 36 km/h
    plan = solve([far], [courier(1)])
    assert plan.unplanned[0].reason is UnplannedReason.UNREACHABLE
    assert plan.iterations == 0  # nothing left to solve


def test_a_courier_with_a_stop_limit_stops_there():
    stops = [stop(i, 200 * i) for i in range(1, 6)]
    plan = solve(stops, [courier(1, max_stops=3)])
    assert len(plan.routes[0].stops) == 3
    assert {u.reason for u in plan.unplanned} == {UnplannedReason.NO_STOPS_LEFT}


def test_a_short_shift_leaves_stops_out_for_lack_of_time():
    stops = [stop(i, 150 * i, 0, 1, service_s=600) for i in range(1, 11)]
    plan = solve(stops, [courier(1, start=at(9), end=at(10))])
    assert 3 <= plan.planned_count <= 5  # about 10 minutes a door
    assert {u.reason for u in plan.unplanned} == {UnplannedReason.NO_TIME}
    assert plan.routes[0].returns <= at(10)


def test_a_courier_who_may_reload_goes_back_to_the_shop_between_trips():
    stops = [stop(i, 400 * i, 0, 10) for i in range(1, 7)]
    plan = solve(stops, [courier(1, 30, max_reloads=1)],
                 params=RouteParams(loading_s=300))
    route = plan.routes[0]
    assert plan.unplanned == ()
    assert route.trips == 2
    for trip in (1, 2):
        on_trip = [s for s in route.stops if s.trip == trip]
        assert on_trip[0].load_before == sum(s.quantity for s in on_trip) <= 30
    assert route.load == 60


def test_without_reloads_the_same_courier_takes_one_trip():
    stops = [stop(i, 400 * i, 0, 10) for i in range(1, 7)]
    plan = solve(stops, [courier(1, 30)])
    assert plan.planned_count == 3 and plan.routes[0].trips == 1


def test_times_and_kilometres_add_up_along_a_route():
    stops = [stop(1, 1000), stop(2, 2000, service_s=300), stop(3, 2000, 1000)]
    plan = solve(stops, [courier(1)])
    route = plan.routes[0]
    matrix = ROADS.matrix(DayProblem(SHOP, (courier(1),), tuple(stops)).points())
    order = [s.stop_id for s in route.stops]
    legs = list(zip([0, *order], [*order, 0], strict=True))
    assert route.km == pytest.approx(sum(matrix.distance_m[a, b] for a, b in legs) / 1000)
    assert route.km == pytest.approx(sum(s.km_from_previous for s in route.stops)
                                     + matrix.distance_m[order[-1], 0] / 1000)
    service = {s.id: s.service_s for s in stops}
    for previous, s in zip([None, *route.stops], route.stops, strict=False):
        assert s.departure - s.service_start == timedelta(seconds=service[s.stop_id])
        if previous is not None:
            drive = int(matrix.duration_s[previous.stop_id, s.stop_id])
            assert s.arrival == previous.departure + timedelta(seconds=drive)
    assert route.duration_s == (route.returns - route.leaves).total_seconds()
    assert [s.sequence for s in route.stops] == [1, 2, 3]


def test_idle_couriers_get_an_empty_route_and_the_plan_keeps_the_problem_order():
    plan = solve([stop(1, 500)], [courier(7), courier(3)])
    assert [r.courier_id for r in plan.routes] == [7, 3]
    idle = [r for r in plan.routes if r.is_empty]
    assert len(idle) == 1 and idle[0].leaves is None and idle[0].km == 0


def test_a_courier_working_outside_the_shops_hours_gets_no_route_and_a_warning():
    plan = solve([stop(1, 500)], [courier(1, start=at(19), end=at(22))])
    assert plan.unplanned[0].reason is UnplannedReason.NO_COURIER
    assert any("outside the shop's hours" in w for w in plan.warnings)


def test_an_empty_day_is_a_plan_with_idle_couriers():
    plan = solve([], [courier(1)])
    assert plan.routes[0].is_empty and plan.unplanned == () and plan.km == 0


def test_a_matrix_of_the_wrong_size_is_refused():
    problem = DayProblem(SHOP, (courier(1),), (stop(1, 500),))
    with pytest.raises(ValueError, match="the depot, then each stop"):
        solve_day(problem, Matrix(np.zeros((3, 3)), np.zeros((3, 3))), time_limit_s=0.1)


def test_bad_input_is_refused_where_it_is_made():
    with pytest.raises(ValueError, match="urgency"):
        stop(1, urgency=1.5)
    with pytest.raises(ValueError, match="quantity"):
        stop(1, quantity=0)
    with pytest.raises(ValueError, match="shift"):
        courier(1, start=at(10), end=at(9))
    with pytest.raises(ValueError, match="unique"):
        DayProblem(SHOP, (courier(1), courier(1)), ())
