"""Area days: the town around the shop cut into slices, each slice served on its own days.

A shop with ``areas = N`` (N ≥ 2) cuts the map around the shop into N equal slices by
compass direction, clockwise from north, and serves slice ``k`` on the days whose
ordinal (``date.toordinal()``) is ``k`` modulo N: with 2, one half of town on one day
and the other half the next; with 7, each slice on its own weekday. A day's stops then
lie in one part of town, and the couriers drive less.

A drop goes on the last day of its customer's area that is neither later than the
last safe day (the order-by date) nor earlier than the first day a drop can still be
made; when there is no such day, on the last safe day as before. So a drop comes at
most ``N − 1`` days early, never late.

Pure: no database, no clock.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

__all__ = ["area_day", "area_of"]


def area_of(*, shop: tuple[float, float], place: tuple[float, float], areas: int) -> int:
    """The slice (0 .. areas − 1) that ``place`` (lat, lon) lies in, seen from ``shop``:
    slice 0 starts due north and they go clockwise. The shop's own spot is in slice 0."""
    if areas < 1:
        raise ValueError(f"areas must be at least 1, got {areas!r}")
    north = place[0] - shop[0]
    east = (place[1] - shop[1]) * math.cos(math.radians(shop[0]))
    bearing = math.atan2(east, north) % (2 * math.pi)
    return min(int(bearing / (2 * math.pi) * areas), areas - 1)


def area_day(*, last_safe: date, earliest: date, area: int, areas: int) -> date:
    """The day to bring a drop for a customer in ``area``: the last day of that area in
    ``earliest .. last_safe``, else ``last_safe`` (``areas`` < 2: always ``last_safe``)."""
    if areas < 2 or last_safe < earliest:
        return last_safe
    if not 0 <= area < areas:
        raise ValueError(f"area must be between 0 and {areas - 1}, got {area!r}")
    back = (last_safe.toordinal() - area) % areas
    day = last_safe - timedelta(days=back)
    return day if day >= earliest else last_safe
