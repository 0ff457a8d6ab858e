"""The shop's calendar of busy days: families use more on public holidays, and most
around Lunar New Year. Pure (the ``holidays`` package's tables; no clock, no I/O).

``busy_periods`` turns the holidays of the shop's country between two dates into the
``busy`` periods the forecast takes (``depletion.forecast(busy=...)``): each holiday is
its local day, midnight to midnight, in UTC, at ``holiday_lift`` times the usual pace;
the Lunar New Year days (the eve, the festival and its days off) at ``new_year_lift``.
A pace of 1 leaves the days out, so ``holiday_lift = 1`` and ``new_year_lift = 1`` turn
this off. A country the package does not know has no busy days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

__all__ = ["busy_periods", "is_lunar_new_year"]


def is_lunar_new_year(name: str) -> bool:
    """Whether a holiday's (English) name is a Lunar New Year day."""
    return "New Year" in name and any(word in name for word in ("Chinese", "Lunar", "Spring"))


@cache
def _holidays(country: str, year: int) -> tuple[tuple[date, str], ...]:
    try:
        table = holidays.country_holidays(country, years=[year])
    except NotImplementedError:  # a country the package does not know
        return ()
    return tuple(sorted(table.items()))


def busy_periods(country: str, tz: ZoneInfo, start: date, end: date, *, holiday_lift: float,
                 new_year_lift: float) -> list[tuple[datetime, datetime, float]]:
    """Busy periods (UTC start, end, pace) for the holidays from ``start`` to ``end``
    (inclusive); consecutive days at the same pace are one period."""
    if holiday_lift <= 0 or new_year_lift <= 0:
        raise ValueError("holiday_lift and new_year_lift must be more than 0")
    out: list[tuple[datetime, datetime, float]] = []
    for year in range(start.year, end.year + 1):
        for day, name in _holidays(country.upper(), year):
            if not start <= day <= end:
                continue
            pace = new_year_lift if is_lunar_new_year(name) else holiday_lift
            if pace == 1.0:
                continue
            a = datetime.combine(day, time(0), tz).astimezone(UTC)
            b = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
            if out and out[-1][1] == a and out[-1][2] == pace:
                out[-1] = (out[-1][0], b, pace)
            elif out and out[-1][1] > a:  # two names on one day: the higher pace
                last = out[-1]
                out[-1] = (last[0], max(last[1], b), max(last[2], pace))
            else:
                out.append((a, b, pace))
    return out
