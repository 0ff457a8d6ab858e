"""Days away a family tells the courier at the door, put on the calendar.

A trip nobody told the shop of looks just like slow eating: the tank is fuller than the
forecast expected, and the pace learned from it is too slow, so the next drop comes
late. The courier can ask at the door ("were you away since <the day of the last
visit>?"; the sheet shows that day), and the answer is a number of days, not dates.
``told_away`` places them on the latest days before the visit that no hold covers yet.
Where in the interval they fall matters little to the forecast, which learns from the
interval's consumption days (the same wherever the days are; a household change inside
the interval is the exception); days the shop already held count toward the answer.

Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

__all__ = ["told_away"]

MAX_DAYS = 366


def told_away(days: int, *, since: date, visit: date,
              held: Sequence[tuple[date, date]] = ()) -> list[tuple[date, date]]:
    """The date ranges (inclusive, in order) to hold for ``days`` days away between the
    last level seen on ``since`` and the courier's visit on ``visit`` (the days strictly
    between them). ``held`` are the customer's holds (inclusive ranges); the days they
    cover in that span count toward ``days``.

    Raises ValueError, naming the field, for a negative number or more days than the span
    has."""
    if days < 0 or days > MAX_DAYS:
        raise ValueError(f"days away must be a whole number from 0 to {MAX_DAYS}, got {days}")
    span = [since + timedelta(days=i) for i in range(1, (visit - since).days)]
    if days > len(span):
        raise ValueError(
            f"days away: {days} is more than the {len(span)} days between the last "
            f"visit on {since.isoformat()} and today; give at most {len(span)}")
    free = [d for d in span if not any(start <= d <= end for start, end in held)]
    extra = days - (len(span) - len(free))
    chosen = sorted(free[len(free) - extra:]) if extra > 0 else []
    ranges: list[tuple[date, date]] = []
    for day in chosen:
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges
