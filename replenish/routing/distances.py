"""Distance and travel-time matrices: the protocol, and the haversine default.

A ``DistanceSource`` turns points into a ``Matrix``: road metres and driving seconds
between every pair, plus warnings the caller keeps on the route (a source that had to
fall back says so). Index 0 is the depot by convention of the caller
(``DayProblem.points()``); the source does not care.

* ``HaversineSource`` (the default, no server): great-circle metres × a road-detour
  factor, driven at a constant speed.
* ``OsrmSource`` (``replenish.routing.osrm``): OSRM's table API, falling back to
  haversine with a warning when OSRM fails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_M",
    "DistanceSource",
    "HaversineSource",
    "Matrix",
    "Point",
    "haversine_m",
]

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Point:
    """A place on the map, in degrees (WGS 84)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude must be within [-90, 90], got {self.lat!r}")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude must be within [-180, 180], got {self.lon!r}")


@dataclass(frozen=True, eq=False)
class Matrix:
    """Metres and seconds from row to column (integers, as the solver wants them).

    ``warnings`` are for people: "OSRM failed, haversine used". The arrays are copied
    and made read-only.
    """

    distance_m: IntMatrix
    duration_s: IntMatrix
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        distance = np.array(self.distance_m, dtype=np.int64)
        duration = np.array(self.duration_s, dtype=np.int64)
        if distance.ndim != 2 or distance.shape[0] != distance.shape[1]:
            raise ValueError(f"distance matrix must be square, got shape {distance.shape}")
        if duration.shape != distance.shape:
            raise ValueError(
                f"duration matrix shape {duration.shape} differs from distance {distance.shape}"
            )
        if (distance < 0).any() or (duration < 0).any():
            raise ValueError("distances and durations must not be negative")
        distance.flags.writeable = False
        duration.flags.writeable = False
        object.__setattr__(self, "distance_m", distance)
        object.__setattr__(self, "duration_s", duration)
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def size(self) -> int:
        return int(self.distance_m.shape[0])


class DistanceSource(Protocol):
    """Anything that can give a matrix for a list of points."""

    def matrix(self, points: Sequence[Point]) -> Matrix: ...


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _haversine_array(points: Sequence[Point]) -> npt.NDArray[np.float64]:
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
    dlat = lat[None, :] - lat[:, None]
    dlon = lon[None, :] - lon[:, None]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return result


@dataclass(frozen=True)
class HaversineSource:
    """Straight-line metres × ``detour_factor``, driven at ``speed_kmh``.

    Town roads are rarely straight: 1.3 is a common rule of thumb for the ratio of road
    to crow-fly distance in a built-up area. The speed is an average door to door
    (traffic, parking), not a speed limit.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 25.0

    def __post_init__(self) -> None:
        if self.detour_factor < 1.0:
            raise ValueError(f"detour factor must be at least 1, got {self.detour_factor!r}")
        if self.speed_kmh <= 0:
            raise ValueError(f"speed must be positive, got {self.speed_kmh!r}")

    def describe(self) -> str:
        return f"haversine × {self.detour_factor:g} at {self.speed_kmh:g} km/h"

    def matrix(self, points: Sequence[Point]) -> Matrix:
        if not points:
            empty = np.zeros((0, 0), dtype=np.int64)
            return Matrix(empty, empty)
        metres = _haversine_array(points) * self.detour_factor
        seconds = metres / (self.speed_kmh / 3.6)
        return Matrix(np.rint(metres).astype(np.int64), np.rint(seconds).astype(np.int64))
