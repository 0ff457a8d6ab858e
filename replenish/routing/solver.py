"""Solve a day: PyVRP's iterated local search over the encoded problem, read back.

``solve_day(problem, matrix)`` is pure apart from PyVRP's own stopwatch (the time
budget). ``plan_routes(problem, source)`` asks a distance source for the matrix first.

Determinism: the same seed gives the same search, so with ``max_iterations`` (which
stops the search before the time budget does) the answer is the same on every
machine. With only a time budget, a faster or less busy machine runs more iterations
and may find a better answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyvrp
from pyvrp import Activity, ScheduledActivity
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from replenish.routing.distances import DistanceSource, Matrix
from replenish.routing.model import Encoded, encode
from replenish.routing.plan import (
    CourierRoute,
    DayPlan,
    PlannedStop,
    UnplannedStop,
)
from replenish.routing.problem import DayProblem, RouteParams, Stop
from replenish.routing.reasons import explain

__all__ = ["plan_routes", "solve_day"]


def plan_routes(
    problem: DayProblem,
    source: DistanceSource,
    *,
    params: RouteParams | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> DayPlan:
    """The matrix from ``source`` (its warnings kept on the plan and routes), then solve."""
    matrix = source.matrix(problem.points())
    return solve_day(problem, matrix, params=params, time_limit_s=time_limit_s, seed=seed,
                     max_iterations=max_iterations)


def solve_day(
    problem: DayProblem,
    matrix: Matrix,
    *,
    params: RouteParams | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> DayPlan:
    """Routes for the day's couriers, and every stop left out with its reason.

    ``matrix`` rows are ``problem.points()``: the depot, then the stops in order.
    """
    if time_limit_s <= 0:
        raise ValueError(f"the time limit must be positive, got {time_limit_s!r}")
    if max_iterations is not None and max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations!r}")
    encoded = encode(problem, matrix, params or RouteParams())
    warnings = [*matrix.warnings, *encoded.warnings]
    visits: list[list[Activity]] = [[] for _ in problem.couriers]  # between the depots
    chosen: dict[int, pyvrp.Route] = {}
    runtime, iterations = 0.0, 0
    if encoded.data is not None:
        criterion: StoppingCriterion = MaxRuntime(time_limit_s)
        if max_iterations is not None:
            criterion = MultipleCriteria([MaxIterations(max_iterations), criterion])
        result = pyvrp.solve(encoded.data, criterion, seed=seed, collect_stats=False,
                             display=False)
        runtime, iterations = result.runtime, result.num_iterations
        free = [list(members) for members in encoded.type_couriers]
        for route in result.best.routes():
            courier = free[route.vehicle_type()].pop(0)
            if not route.is_feasible():  # never hand out a route that breaks a promise
                name = problem.couriers[courier].name
                warnings.append(f"no feasible route found for {name} within the time budget")
                continue
            chosen[courier] = route
            inside = list(route)[1:-1]
            visits[courier] = [Activity(a.type, a.idx) for a in inside]

    routes = tuple(
        _route(k, problem, encoded, matrix, chosen.get(k), tuple(matrix.warnings))
        for k in range(len(problem.couriers))
    )
    served = {encoded.client_stop[a.idx] for route in visits for a in route if a.is_client()}
    unplanned = sorted(
        (
            UnplannedStop(
                stop_id=stop.id, customer_id=stop.customer_id, quantity=stop.quantity,
                urgency=stop.urgency, mandatory=stop.mandatory,
                reason=explain(i, problem, encoded, visits),
            )
            for i, stop in enumerate(problem.stops)
            if i not in served
        ),
        key=lambda u: (not u.mandatory, -u.urgency, u.stop_id),
    )
    return DayPlan(routes=routes, unplanned=tuple(unplanned), warnings=tuple(warnings),
                   runtime_s=runtime, iterations=iterations, seed=seed)


def _route(
    k: int,
    problem: DayProblem,
    encoded: Encoded,
    matrix: Matrix,
    route: pyvrp.Route | None,
    warnings: tuple[str, ...],
) -> CourierRoute:
    courier = problem.couriers[k]
    if route is None or not route.num_clients():
        return CourierRoute(courier.id, courier.name, (), None, None, 0.0, 0, 0.0, 0, warnings)
    schedule = list(route.schedule())
    origin = encoded.origin

    def at(seconds: int) -> datetime:
        return origin + timedelta(seconds=seconds)

    def stop_of(activity: ScheduledActivity) -> Stop:
        return problem.stops[encoded.client_stop[activity.idx]]

    trip_load: dict[int, float] = {}
    for activity in schedule:
        if activity.is_client():
            quantity = stop_of(activity).quantity
            trip_load[activity.trip] = trip_load.get(activity.trip, 0.0) + quantity
    distance = matrix.distance_m
    metres, previous, on_board = 0, 0, 0.0
    stops: list[PlannedStop] = []
    for activity in schedule[1:]:
        if activity.is_depot():
            metres += int(distance[previous, 0])
            previous = 0
            continue
        stop = stop_of(activity)
        here = encoded.client_stop[activity.idx] + 1
        if previous == 0:
            on_board = trip_load[activity.trip]
        leg = int(distance[previous, here])
        metres += leg
        start = activity.start_time
        miss = 0
        if stop.window is not None:
            early, late = encoded.seconds(stop.window.start), encoded.seconds(stop.window.end)
            miss = max(early - start, start - late, 0)
        stops.append(PlannedStop(
            sequence=len(stops) + 1, trip=activity.trip + 1, stop_id=stop.id,
            customer_id=stop.customer_id, quantity=stop.quantity,
            arrival=at(start - activity.wait_duration), service_start=at(start),
            departure=at(activity.end_time), load_before=on_board,
            km_from_previous=leg / 1000, window_miss_s=miss,
        ))
        on_board -= stop.quantity
        previous = here
    leaves, returns = schedule[0].start_time, schedule[-1].start_time
    return CourierRoute(
        courier_id=courier.id, courier_name=courier.name, stops=tuple(stops),
        leaves=at(leaves), returns=at(returns), km=metres / 1000, duration_s=returns - leaves,
        load=sum(trip_load.values()), trips=route.num_trips(), warnings=warnings,
    )
