"""Daily routes for couriers: a day's booked drops in, an ordered route per courier out.

Pure: no database and no clock (times are passed in); the only I/O is the distance
source's (OSRM over HTTP, when configured).

    problem = DayProblem(depot, couriers, stops)
    source = distance_source(osrm_url=None)          # haversine × 1.3 at 25 km/h
    plan = plan_routes(problem, source, time_limit_s=10, seed=0)
    plan.routes          # one CourierRoute per courier, stops in driving order
    plan.unplanned       # stops left out, most urgent first, each with its reason
    plan.warnings        # e.g. "OSRM failed (...); used haversine ... instead"

Modules: ``problem`` (the input), ``plan`` (the output), ``distances`` (the
``DistanceSource`` protocol, ``Matrix``, haversine), ``osrm`` (OSRM's table API),
``model`` (the PyVRP encoding), ``solver`` (``solve_day``, ``plan_routes``),
``reasons`` (why a stop was left out). See docs/routing.md.

Errors: invalid input raises ``ValueError`` at construction (``Stop``, ``Courier``,
``Matrix`` ...) or in ``solve_day`` (a matrix of the wrong size). Distance sources do
not raise on a failing server: they fall back and warn (``osrm.OsrmError`` stays
inside).
"""

from __future__ import annotations

from replenish.routing.distances import (
    DistanceSource,
    HaversineSource,
    Matrix,
    Point,
    haversine_m,
)
from replenish.routing.osrm import OsrmSource
from replenish.routing.plan import (
    CourierRoute,
    DayPlan,
    PlannedStop,
    UnplannedReason,
    UnplannedStop,
)
from replenish.routing.problem import (
    Courier,
    DayProblem,
    Depot,
    RouteParams,
    Stop,
    TimeWindow,
)
from replenish.routing.solver import plan_routes, solve_day

__all__ = [
    "Courier",
    "CourierRoute",
    "DayPlan",
    "DayProblem",
    "Depot",
    "DistanceSource",
    "HaversineSource",
    "Matrix",
    "OsrmSource",
    "PlannedStop",
    "Point",
    "RouteParams",
    "Stop",
    "TimeWindow",
    "UnplannedReason",
    "UnplannedStop",
    "distance_source",
    "haversine_m",
    "plan_routes",
    "solve_day",
]


def distance_source(
    *,
    osrm_url: str | None = None,
    detour_factor: float = 1.3,
    speed_kmh: float = 25.0,
    timeout_s: float = 10.0,
    max_table_size: int = 100,
) -> DistanceSource:
    """The settings' choice: OSRM when ``osrm_url`` is set (haversine as its fallback),
    haversine otherwise."""
    haversine = HaversineSource(detour_factor=detour_factor, speed_kmh=speed_kmh)
    if not osrm_url:
        return haversine
    return OsrmSource(osrm_url, timeout_s=timeout_s, max_table_size=max_table_size,
                      fallback=haversine)
