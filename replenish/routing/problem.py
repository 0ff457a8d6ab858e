"""What the route builder is given: the shop, its couriers, the day's stops, the knobs.

All times are datetimes passed in by the caller (all aware or all naive, one day's
worth); nothing here reads a clock. Quantities are in the product's unit (kg, L,
cylinders), the same unit for the couriers' capacity and the stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from replenish.routing.distances import Point

__all__ = ["Courier", "DayProblem", "Depot", "RouteParams", "Stop", "TimeWindow"]


@dataclass(frozen=True)
class TimeWindow:
    """When a customer wants the knock on the door (the service starts within it).

    ``hard``: the customer asked for it, the route keeps it or leaves the stop out.
    Soft: a wish; arriving outside it costs a penalty (``RouteParams``) but is allowed.
    """

    start: datetime
    end: datetime
    hard: bool = True

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a time window must not end ({self.end}) before it starts "
                             f"({self.start})")


@dataclass(frozen=True)
class Depot:
    """The shop: where every route starts and ends, and its opening hours."""

    lat: float
    lon: float
    opens: datetime
    closes: datetime

    def __post_init__(self) -> None:
        Point(self.lat, self.lon)  # validates the coordinates
        if self.closes <= self.opens:
            raise ValueError("the shop must close after it opens")

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)


@dataclass(frozen=True)
class Courier:
    """A courier (a vehicle, to the solver) working that day.

    ``capacity``: what the vehicle carries on one trip. ``max_reloads``: how many times
    the courier may come back to the shop to load again (0: one trip a day).
    ``max_stops``: the most doors in a day, if limited.
    """

    id: int
    name: str
    capacity: float
    shift_start: datetime
    shift_end: datetime
    max_stops: int | None = None
    max_reloads: int = 0

    def __post_init__(self) -> None:
        if self.capacity <= 0:
            raise ValueError(f"courier {self.id}: capacity must be positive, got "
                             f"{self.capacity!r}")
        if self.shift_end <= self.shift_start:
            raise ValueError(f"courier {self.id}: the shift must end after it starts")
        if self.max_stops is not None and self.max_stops < 1:
            raise ValueError(f"courier {self.id}: max stops must be at least 1, got "
                             f"{self.max_stops!r}")
        if self.max_reloads < 0:
            raise ValueError(f"courier {self.id}: max reloads must not be negative")


@dataclass(frozen=True)
class Stop:
    """One booked drop at a customer's door.

    ``urgency``: the chance the customer runs out before the next day a drop is
    possible (0..1); the solver leaves the least urgent stops out when the day is full.
    ``mandatory``: leave it out only if it cannot be fitted at all.
    ``service_s``: seconds at the door; ``None`` takes ``RouteParams.default_service_s``.
    ``preferred_courier_id``: the customer's usual courier; a courier who is not
    working that day is no preference.
    """

    id: int
    customer_id: int
    lat: float
    lon: float
    quantity: float
    service_s: int | None = None
    window: TimeWindow | None = None
    preferred_courier_id: int | None = None
    urgency: float = 0.0
    mandatory: bool = False

    def __post_init__(self) -> None:
        Point(self.lat, self.lon)
        if self.quantity <= 0:
            raise ValueError(f"stop {self.id}: quantity must be positive, got {self.quantity!r}")
        if self.service_s is not None and self.service_s < 0:
            raise ValueError(f"stop {self.id}: service time must not be negative")
        if not 0.0 <= self.urgency <= 1.0:
            raise ValueError(f"stop {self.id}: urgency must be within [0, 1], got "
                             f"{self.urgency!r}")

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)


@dataclass(frozen=True)
class DayProblem:
    """One shop, one day: the depot, the couriers working, the stops booked."""

    depot: Depot
    couriers: tuple[Courier, ...]
    stops: tuple[Stop, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "couriers", tuple(self.couriers))
        object.__setattr__(self, "stops", tuple(self.stops))
        for kind, ids in (("courier", [c.id for c in self.couriers]),
                          ("stop", [s.id for s in self.stops])):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{kind} ids must be unique")

    def points(self) -> list[Point]:
        """The depot, then every stop in order: the rows of the matrix the solver wants."""
        return [self.depot.point, *(stop.point for stop in self.stops)]


@dataclass(frozen=True)
class RouteParams:
    """How the day is modelled (the settings ``routing.*`` map onto these).

    Costs are in metres of driving, the solver's one currency:

    * ``preferred_courier_penalty_m``: serving a stop whose customer has another usual
      courier costs as much as driving this much further.
    * ``soft_window_penalty_m_per_hour``: each hour outside a soft window costs this
      many metres, charged in steps of ``soft_window_step_s`` up to
      ``soft_window_steps`` steps; further out is charged one more step (a cap).
    * ``urgency_weight``: a stop's prize is ``base × (1 + urgency_weight × urgency)``,
      where ``base`` covers any detour, so every stop that fits is served and the
      least urgent are the first left out. Mandatory stops get
      ``mandatory_factor`` times the largest prize.
    * ``loading_s``: seconds at the shop loading before each trip (also before the
      first).
    * ``quantity_scale``: quantities are sent to the solver as integers of
      1/``quantity_scale`` units (grams for kg).
    """

    default_service_s: int = 300
    loading_s: int = 0
    preferred_courier_penalty_m: int = 500
    soft_window_penalty_m_per_hour: int = 3000
    soft_window_step_s: int = 1800
    soft_window_steps: int = 3
    urgency_weight: float = 10.0
    mandatory_factor: int = 100
    quantity_scale: int = 1000

    def __post_init__(self) -> None:
        for name in ("default_service_s", "loading_s", "preferred_courier_penalty_m",
                     "soft_window_penalty_m_per_hour", "soft_window_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.soft_window_step_s <= 0:
            raise ValueError("soft_window_step_s must be positive")
        if self.urgency_weight < 0:
            raise ValueError("urgency_weight must not be negative")
        if self.mandatory_factor < 1 or self.quantity_scale < 1:
            raise ValueError("mandatory_factor and quantity_scale must be at least 1")
