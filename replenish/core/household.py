"""The household and the prior it gives: daily use before any level is seen."""

from __future__ import annotations

import math
from dataclasses import dataclass

from replenish.core.types import MemberKind

__all__ = ["Household", "Prior", "prior_rate"]


def _check_open(name: str, value: float, *, high: float = math.inf) -> None:
    if not math.isfinite(value) or value <= 0 or value > high:
        upper = "" if high == math.inf else f" and <= {high:g}"
        raise ValueError(f"{name} must be > 0{upper}, got {value!r}")


@dataclass(frozen=True)
class Household:
    """Who eats at home. ``eats_at_home`` scales everyone (0.5: half the meals out)."""

    adults: int = 0
    children: int = 0
    elders: int = 0
    eats_at_home: float = 1.0

    def __post_init__(self) -> None:
        for name in ("adults", "children", "elders"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        if self.size == 0:
            raise ValueError("a household needs at least one adult, child or elder")
        _check_open("eats_at_home", self.eats_at_home, high=1)

    @property
    def size(self) -> int:
        return self.adults + self.children + self.elders


@dataclass(frozen=True)
class Prior:
    """Daily use before any level is seen: ``mean`` ± ``sd`` product units a day."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _check_open("prior mean", self.mean)
        _check_open("prior sd", self.sd)


def prior_rate(household: Household, per_person: dict[MemberKind, float], *,
               cv: float = 0.35) -> Prior:
    """Expected daily use of a household from the product's per-person priors."""
    mean = household.eats_at_home * (
        household.adults * per_person[MemberKind.ADULT]
        + household.children * per_person[MemberKind.CHILD]
        + household.elders * per_person[MemberKind.ELDER]
    )
    if mean <= 0:
        raise ValueError("the product's per-person priors give this household no use at all")
    return Prior(mean=mean, sd=cv * mean)
