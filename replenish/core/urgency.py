"""How urgent a drop is: the chance the tank runs out before a given day ends.

The forecast gives the run-out date as three quantiles (p10, p50, p90). Between them
the run-out time is read as a two-piece normal: its spread below the median from
p50 - p10, above it from p90 - p50 (z = 1.2816 for the 10th and 90th percentiles), so a
forecast that is surer on one side keeps that shape.
"""

from __future__ import annotations

from datetime import date
from statistics import NormalDist

__all__ = ["runout_chance"]

_Z90 = NormalDist().inv_cdf(0.9)


def runout_chance(by: date, *, p10: date, p50: date, p90: date) -> float:
    """The chance of running out on or before the end of day ``by`` (0..1).

    >>> runout_chance(date(2026, 12, 3), p10=date(2026, 12, 1), p50=date(2026, 12, 3),
    ...               p90=date(2026, 12, 5))
    0.62...
    """
    if not p10 <= p50 <= p90:
        raise ValueError(f"the quantiles must be in order: p10 {p10} <= p50 {p50} <= p90 {p90}")
    # a run-out "on day d" is any moment during it: measure from the middle of the days
    x = (by - p50).days + 0.5
    spread = (p50 - p10).days if x < 0 else (p90 - p50).days
    if spread <= 0:
        return 1.0 if x >= 0 else 0.0
    return NormalDist().cdf(x / (spread / _Z90))
