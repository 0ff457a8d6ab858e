"""The simulated town's rice tanks: the true level in each kitchen, day by day.

Pure: no database, no clock. The planner never reads anything here; the simulated
courier does, with a tape (``measured_depth``), and the report counts from it. A day's
use is spread evenly over the waking hours (06:00 to 22:00), so a drop poured at 15:00
finds the tank lower than one poured at 09:00, and a family whose tank runs dry at
18:00 is short for the rest of that day: a run-out day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

__all__ = ["DAY_START_HOUR", "DAY_END_HOUR", "Kitchen", "RiceTank", "Tally", "day_fraction",
           "measured_depth", "pick_tank"]

DAY_START_HOUR, DAY_END_HOUR = 6.0, 22.0
RICE_KG_PER_LITRE = 0.8


def day_fraction(hour: float) -> float:
    """How much of a day's use is gone by ``hour`` (local, 0 to 24)."""
    span = DAY_END_HOUR - DAY_START_HOUR
    return min(max((hour - DAY_START_HOUR) / span, 0.0), 1.0)


@dataclass(frozen=True)
class RiceTank:
    """A round rice tank: what the shop registers (diameter and height, in cm)."""

    diameter_cm: float
    height_cm: float

    @property
    def capacity(self) -> float:
        """Kg of rice it holds when full."""
        litres = math.pi * (self.diameter_cm / 2) ** 2 * self.height_cm / 1000
        return litres * RICE_KG_PER_LITRE


def pick_tank(kg_a_day: float, rnd: random.Random) -> RiceTank:
    """A tank that suits the household: one that lasts 20 to 40 days of its use, from
    the sizes shops sell (25 to 45 cm across, 30 to 60 cm high)."""
    wanted = kg_a_day * rnd.uniform(20.0, 40.0)
    sizes = [RiceTank(d, h) for d in (25, 30, 35, 40, 45) for h in (30, 35, 40, 45, 50, 55, 60)]
    return min(sizes, key=lambda t: (abs(t.capacity - wanted), t.diameter_cm))


def measured_depth(level: float, tank: RiceTank, rnd: random.Random) -> float:
    """The depth a courier reads off the tape for ``level`` kg: to half a centimetre,
    with a hand that is off by about 0.3 cm."""
    true_cm = level / tank.capacity * tank.height_cm
    seen = true_cm + rnd.gauss(0.0, 0.3)
    return min(max(round(seen * 2) / 2, 0.0), tank.height_cm)


@dataclass
class Tally:
    """What one household went through: run-outs, drops and the level found at each."""

    runouts: int = 0  # times the tank ran dry (a spell of short days counts once)
    runout_starts: list[date] = field(default_factory=list)
    runout_days: int = 0  # days with less rice than the family wanted
    short_kg: float = 0.0
    drops: int = 0
    delivered_kg: float = 0.0
    level_shares: list[float] = field(default_factory=list)  # level found / capacity
    not_home: int = 0
    too_full: int = 0


@dataclass
class Kitchen:
    """One household's tank through the run: the true level, and today's pours.

    Call ``begin_day`` with the day's use, ``level_at``/``pour`` during the day (hours
    in local time, in order), and ``end_day`` at midnight."""

    tank: RiceTank
    level: float
    tally: Tally = field(default_factory=Tally)
    _day: date | None = None
    _use: float = 0.0
    _start: float = 0.0
    _at: float = 0.0  # the day fraction the level is as of
    _short: float = 0.0
    _out_yesterday: bool = False

    def begin_day(self, day: date, use: float) -> None:
        self._day, self._use, self._start, self._at, self._short = day, use, self.level, 0.0, 0.0

    def begin_at(self, day: date, use: float, hour: float) -> None:
        """Begin on ``day`` part-way, at ``hour``: the level is as of then (the shop's
        sign-up reading), and only the rest of the day's use is still to come."""
        self.begin_day(day, use)
        self._at = day_fraction(hour)

    def _run_to(self, hour: float) -> None:
        f = max(day_fraction(hour), self._at)
        used = self._use * (f - self._at)
        if used > self.level:
            self._short += used - self.level
            self.level = 0.0
        else:
            self.level -= used
        self._at = f

    def level_at(self, hour: float) -> float:
        """The true level at ``hour`` today (kg)."""
        self._run_to(hour)
        return self.level

    def pour(self, hour: float, kg: float) -> float:
        """Pour up to ``kg`` at ``hour``; what went in (the rest does not fit)."""
        self._run_to(hour)
        if kg <= 0:
            return 0.0
        share = self.level / self.tank.capacity
        poured = min(kg, self.tank.capacity - self.level)
        self.level += poured
        self.tally.drops += 1
        self.tally.delivered_kg += poured
        self.tally.level_shares.append(share)
        return poured

    def end_day(self) -> bool:
        """Close the day; whether the family was short of rice on it."""
        self._run_to(24.0)
        short = self._short > 1e-9
        if short:
            self.tally.runout_days += 1
            self.tally.short_kg += self._short
            if not self._out_yesterday:
                self.tally.runouts += 1
                if self._day is not None:
                    self.tally.runout_starts.append(self._day)
        self._out_yesterday = short
        return short
