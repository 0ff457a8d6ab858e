"""Why the solver left a stop out, told after the solve from the routes it built.

Stops nobody could serve at all were screened out before the solve
(``model._screen``: no courier, too large, unreachable, outside its hard window). For
the others, the stop is tried at every position of every courier's route (and as a
new trip when the courier may reload), with PyVRP's own ``Route`` doing the sums:

* a position that breaks nothing: it would have fitted, and the time budget ran out
  first (``not placed``);
* every position overloads a trip: ``no capacity``;
* every position within capacity exceeds the courier's maximum of stops:
  ``no stops left``;
* otherwise time is what is missing: ``outside time window`` for a stop with a hard
  window, ``no time`` without one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pyvrp import Activity, ActivityType, Route

from replenish.routing.model import Encoded
from replenish.routing.plan import UnplannedReason
from replenish.routing.problem import DayProblem

__all__ = ["explain"]

_RELOAD = Activity(ActivityType.DEPOT, 0)


def explain(
    i: int, problem: DayProblem, encoded: Encoded, routes: Sequence[Sequence[Activity]]
) -> UnplannedReason:
    """The reason stop ``i`` is unplanned; ``routes[k]`` is courier ``k``'s activities
    between leaving and coming back (clients, and the shop for a reload)."""
    if i in encoded.screened:
        return encoded.screened[i]
    data = encoded.data
    assert data is not None  # the stop was modelled, so there is a model
    visit = Activity(ActivityType.CLIENT, encoded.widest_client[i])
    within_capacity = within_stops = False
    for k, vehicle_type in encoded.courier_type.items():
        if encoded.capacity[k] < encoded.demand[i]:
            continue
        reloads = problem.couriers[k].max_reloads
        for trial in _insertions(list(routes[k]), visit, reloads):
            route = Route(data, trial, vehicle_type)
            excess = route.excess_load()
            if excess[0]:
                continue
            within_capacity = True
            if len(excess) > 1 and excess[1]:
                continue
            within_stops = True
            if not route.has_time_warp():
                return UnplannedReason.NOT_PLACED
    if not within_capacity:
        return UnplannedReason.NO_CAPACITY
    if not within_stops:
        return UnplannedReason.NO_STOPS_LEFT
    window = problem.stops[i].window
    if window is not None and window.hard:
        return UnplannedReason.OUTSIDE_TIME_WINDOW
    return UnplannedReason.NO_TIME


def _insertions(
    route: list[Activity], visit: Activity, reloads: int
) -> Iterator[list[Activity]]:
    for position in range(len(route) + 1):
        yield [*route[:position], visit, *route[position:]]
    used = sum(activity.is_depot() for activity in route)
    if route and used < reloads:  # a trip of its own, first or last
        yield [visit, _RELOAD, *route]
        yield [*route, _RELOAD, visit]
