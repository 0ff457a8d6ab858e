"""A small town to route in: the shop at the centre, stops placed in metres from it."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from replenish.routing import (
    Courier,
    DayPlan,
    DayProblem,
    Depot,
    HaversineSource,
    RouteParams,
    Stop,
    TimeWindow,
    solve_day,
)

TAINAN = ZoneInfo("Asia/Taipei")
DAY = datetime(2026, 11, 25, tzinfo=TAINAN)
SHOP_LAT, SHOP_LON = 22.99, 120.21
METRES_PER_DEGREE = 111_195.08
# crow-fly metres, driven at 36 km/h (10 m/s): a kilometre is 100 s
ROADS = HaversineSource(detour_factor=1.0, speed_kmh=36.0)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


SHOP = Depot(lat=SHOP_LAT, lon=SHOP_LON, opens=at(8), closes=at(18))


def courier(id: int, capacity: float = 300, *, start: datetime | None = None,
            end: datetime | None = None, **more: Any) -> Courier:
    return Courier(id=id, name=f"courier {id}", capacity=capacity,
                   shift_start=start or at(8), shift_end=end or at(18), **more)


def stop(id: int, north_m: float = 0.0, east_m: float = 0.0, quantity: float = 10, *,
         window: tuple[datetime, datetime] | None = None, hard: bool = True,
         service_s: int = 120, **more: Any) -> Stop:
    lat = SHOP_LAT + north_m / METRES_PER_DEGREE
    lon = SHOP_LON + east_m / (METRES_PER_DEGREE * math.cos(math.radians(SHOP_LAT)))
    return Stop(id=id, customer_id=100 + id, lat=lat, lon=lon, quantity=quantity,
                service_s=service_s, window=TimeWindow(*window, hard=hard) if window else None,
                **more)


def solve(stops: list[Stop], couriers: list[Courier], *, seconds: float = 0.3,
          seed: int = 0, params: RouteParams | None = None,
          max_iterations: int | None = None) -> DayPlan:
    problem = DayProblem(SHOP, tuple(couriers), tuple(stops))
    return solve_day(problem, ROADS.matrix(problem.points()), params=params,
                     time_limit_s=seconds, seed=seed, max_iterations=max_iterations)


def served_by(plan: DayPlan) -> dict[int, int]:
    """stop id -> courier id"""
    return {s.stop_id: r.courier_id for r in plan.routes for s in r.stops}
