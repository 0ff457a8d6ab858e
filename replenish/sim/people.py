"""The simulated town's people: how much each household really uses, and how it answers.

The first piece of the simulated town (the simulation issue). Pure: no database, no
clock; everything follows from a seed, so a run is the same for the same seed. What the
planner may never see is here: each household's true daily use, which

* depends on the household (per-person use, times a personal factor drawn once,
  lognormal with a spread of 25%),
* varies day to day (lognormal noise, ``daily_cv``),
* rises on public holidays (``holiday_lift``) and more around Lunar New Year, the
  eve and the days off after it (``new_year_lift``; the ``holidays`` package's
  calendar for the shop's country),
* stops while the family is away (a trip of 3 to 14 days for some households),
* changes for good now and then (a baby arrives: +15%; a student leaves: -25%),

and how each household answers a text: at once, hours later, or never; with "later", a
different amount, or words the parser does not know.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import holidays

from replenish.core.calendar import is_lunar_new_year

__all__ = ["Answer", "AnswerKind", "Household", "TownParams", "daily_use", "make_households",
           "answer_prompt", "holiday_lift"]

PER_PERSON = {"adult": 0.15, "child": 0.08, "elder": 0.12}  # kg of rice a day


@dataclass(frozen=True)
class TownParams:
    personal_spread: float = 0.25  # sd of log(personal factor)
    daily_cv: float = 0.25
    holiday_lift: float = 1.2
    new_year_lift: float = 1.6
    trip_share: float = 0.3  # households that go away once in the run
    change_share: float = 0.15  # households whose use changes for good once
    answer_at_once: float = 0.55
    answer_later_hours: tuple[float, float] = (1.0, 10.0)
    never_answer: float = 0.1
    say_later: float = 0.08
    other_amount: float = 0.07
    unknown_words: float = 0.05


@dataclass(frozen=True)
class Household:
    id: int
    adults: int
    children: int
    elders: int
    personal: float  # the household's own factor on per-person use
    away: tuple[tuple[date, date], ...] = ()  # inclusive ranges
    changes: tuple[tuple[date, float], ...] = ()  # from that day on, use × factor
    seed: int = 0

    @property
    def size_rate(self) -> float:
        """Kg a day for a household of this size: what the shop can guess at sign-up."""
        return (self.adults * PER_PERSON["adult"] + self.children * PER_PERSON["child"]
                + self.elders * PER_PERSON["elder"])

    @property
    def base_rate(self) -> float:
        """Kg a day on an ordinary day, before any change."""
        return self.personal * self.size_rate

    def is_away(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.away)

    def factor_on(self, day: date) -> float:
        out = 1.0
        for since, factor in self.changes:
            if day >= since:
                out *= factor
        return out


def make_households(n: int, *, seed: int, start: date, days: int,
                    params: TownParams = TownParams()) -> list[Household]:
    """``n`` households for a run of ``days`` days from ``start``, the same for a seed."""
    if n < 0 or days < 1:
        raise ValueError("n must be 0 or more and days at least 1")
    rnd = random.Random(seed)
    town = []
    for i in range(1, n + 1):
        adults, children = rnd.randint(1, 3), rnd.choice([0, 0, 1, 2, 3])
        elders = rnd.choice([0, 0, 1, 2])
        personal = math.exp(rnd.gauss(0.0, params.personal_spread))
        away: tuple[tuple[date, date], ...] = ()
        if rnd.random() < params.trip_share and days > 20:
            leave = start + timedelta(days=rnd.randrange(5, days - 15))
            away = ((leave, leave + timedelta(days=rnd.randint(3, 14) - 1)),)
        changes: tuple[tuple[date, float], ...] = ()
        if rnd.random() < params.change_share and days > 30:
            when = start + timedelta(days=rnd.randrange(20, days - 10))
            changes = ((when, rnd.choice([1.15, 0.75])),)  # a baby; a student leaves
        town.append(Household(i, adults, children, elders, personal, away, changes,
                              seed=rnd.randrange(2**31)))
    return town


@cache
def _calendar(country: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=[year]).items())


def holiday_lift(day: date, *, country: str = "TW", params: TownParams = TownParams()) -> float:
    """How much more a family uses on ``day``: Lunar New Year most, other days off some."""
    name = _calendar(country, day.year).get(day)
    if name is None:
        return 1.0
    return params.new_year_lift if is_lunar_new_year(name) else params.holiday_lift


def daily_use(household: Household, day: date, *, country: str = "TW",
              params: TownParams = TownParams()) -> float:
    """Kg the household really uses on ``day`` (0 while away). Deterministic: the noise
    is drawn from the household's seed and the day."""
    if household.is_away(day):
        return 0.0
    rnd = random.Random(household.seed * 1_000_003 + day.toordinal())
    sigma = math.sqrt(math.log(1 + params.daily_cv ** 2))
    noise = math.exp(rnd.gauss(-sigma * sigma / 2, sigma))  # mean 1
    return (household.base_rate * household.factor_on(day) * noise
            * holiday_lift(day, country=country, params=params))


class AnswerKind(StrEnum):
    YES = "yes"
    LATER = "later"
    AMOUNT = "amount"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    after_hours: float
    text: str
    extra: dict[str, float] = field(default_factory=dict)


_YES = ("好", "好的", "YES", "ok", "1", "要", "可以 謝謝")
_LATER = ("later", "改天", "下週再送", "2")
_UNKNOWN = ("我兒子會去店裡拿", "上次的米有點碎", "請問價格多少", "my husband handles this",
            "米裡有蟲")


def answer_prompt(household: Household, prompt_id: int, *, quantity: float,
                  params: TownParams = TownParams()) -> Answer | None:
    """How the household answers prompt ``prompt_id`` (None: it never does). The same
    household and prompt always answer the same way."""
    rnd = random.Random(household.seed * 7_919 + prompt_id)
    if rnd.random() < params.never_answer:
        return None
    low, high = params.answer_later_hours
    hours = (rnd.uniform(0.02, 0.5) if rnd.random() < params.answer_at_once
             else rnd.uniform(low, high))
    roll = rnd.random()
    if roll < params.say_later:
        return Answer(AnswerKind.LATER, hours, rnd.choice(_LATER))
    roll -= params.say_later
    if roll < params.other_amount:
        amount = max(5.0, quantity + rnd.choice([-10.0, -5.0, 5.0, 10.0]))
        return Answer(AnswerKind.AMOUNT, hours, f"{amount:g}公斤", {"quantity": amount})
    roll -= params.other_amount
    if roll < params.unknown_words:
        return Answer(AnswerKind.UNKNOWN, hours, rnd.choice(_UNKNOWN))
    return Answer(AnswerKind.YES, hours, rnd.choice(_YES))
