"""What the route builder answers: a route per courier, and the stops left out (with why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["CourierRoute", "DayPlan", "PlannedStop", "UnplannedReason", "UnplannedStop"]


class UnplannedReason(StrEnum):
    """Why a stop is not on any route, as best the planner can tell."""

    NO_COURIER = "no courier"  # nobody works within the shop's hours that day
    TOO_LARGE = "too large"  # more than any courier can carry
    OUTSIDE_TIME_WINDOW = "outside time window"  # no courier can be there within its window
    UNREACHABLE = "unreachable"  # too far to go and come back within any shift
    NO_CAPACITY = "no capacity"  # every courier who could go is full
    NO_STOPS_LEFT = "no stops left"  # couriers with room have their maximum of stops
    NO_TIME = "no time"  # couriers with room have no time left to fit it in
    NOT_PLACED = "not placed"  # it would fit somewhere: a longer time budget may place it


@dataclass(frozen=True)
class PlannedStop:
    """One stop on a route, in the order the courier drives.

    ``arrival`` at the door, ``service_start`` after any wait for the window to open,
    ``departure`` after the service time. ``trip``: 1, or 2 and more after loading
    again at the shop. ``load_before``: quantity on board on arrival.
    ``window_miss_s``: seconds outside a soft window (0 when on time).
    """

    sequence: int
    trip: int
    stop_id: int
    customer_id: int
    quantity: float
    arrival: datetime
    service_start: datetime
    departure: datetime
    load_before: float
    km_from_previous: float
    window_miss_s: int = 0

    @property
    def wait_s(self) -> int:
        return int((self.service_start - self.arrival).total_seconds())


@dataclass(frozen=True)
class CourierRoute:
    """A courier's day: leave the shop, the stops in order, back to the shop.

    ``leaves``: when loading starts at the shop (the first trip); ``returns``: back at
    the shop after the last. ``load``: everything delivered, over all trips. An idle
    courier has no stops, ``leaves`` and ``returns`` None and zero totals.
    """

    courier_id: int
    courier_name: str
    stops: tuple[PlannedStop, ...]
    leaves: datetime | None
    returns: datetime | None
    km: float
    duration_s: int
    load: float
    trips: int
    warnings: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.stops


@dataclass(frozen=True)
class UnplannedStop:
    """A stop on no route, for the owner to act on (never dropped silently)."""

    stop_id: int
    customer_id: int
    quantity: float
    urgency: float
    mandatory: bool
    reason: UnplannedReason


@dataclass(frozen=True)
class DayPlan:
    """The day's routes (one per courier, in the problem's order) and the stops left out,
    most urgent first."""

    routes: tuple[CourierRoute, ...]
    unplanned: tuple[UnplannedStop, ...]
    warnings: tuple[str, ...]
    runtime_s: float
    iterations: int
    seed: int

    @property
    def km(self) -> float:
        return sum(route.km for route in self.routes)

    @property
    def planned_count(self) -> int:
        return sum(len(route.stops) for route in self.routes)

    def route_of(self, courier_id: int) -> CourierRoute:
        for route in self.routes:
            if route.courier_id == courier_id:
                return route
        raise KeyError(courier_id)
