"""The shop, forecast and product sections (``[shop]``, ``[forecast]``, ``[products.*]``)."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from replenish.core.types import Locale, Unit
from replenish.settings.base import (
    Fraction,
    Positive,
    _Frozen,
    validate_currency,
    validate_region,
    validate_timezone,
)

__all__ = ["ForecastSettings", "MeasurementErrorParams", "PriorParams", "ProductParams",
           "ShopParams", "default_products"]


class ShopParams(_Frozen):
    """Defaults for a new shop (each shop can change its own copy later)."""

    name: str = Field(default="My shop", min_length=1)
    timezone: str = "Asia/Taipei"
    locale: Locale = Locale.ZH_TW
    region: str = "TW"
    currency: str = "TWD"
    open: time = time(8, 0)
    close: time = time(20, 0)
    address: str = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    _tz = field_validator("timezone")(validate_timezone)
    _region = field_validator("region")(validate_region)
    _currency = field_validator("currency")(validate_currency)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> ShopParams:
        if self.open >= self.close:
            raise ValueError(
                f"business hours open at {self.open:%H:%M} but close at {self.close:%H:%M}; "
                "open must be earlier than close"
            )
        return self


class MeasurementErrorParams(_Frozen):
    """Standard error of one reading, as a fraction of the tank's capacity, per source."""

    courier: Fraction = 0.02
    owner: Fraction = 0.04
    customer: Fraction = 0.12


class ForecastSettings(_Frozen):
    """Knobs of the forecast engine (see docs/ for the math)."""

    risk: float = Field(default=0.002, gt=0, lt=0.5)
    first_risk: float = Field(default=0.001, gt=0, lt=0.5)  # until a pace is measured
    half_life_days: Positive = 45.0
    prior_cv: Positive = 0.35
    daily_cv: Positive = 0.25
    outlier_z: Positive = 3.0
    slow_outlier_z: Positive = 2.0
    household_discount: float = Field(default=0.1, gt=0, le=1)
    change_discount: float = Field(default=0.05, gt=0, le=1)
    learn: bool = True
    holiday_lift: float = Field(default=1.1, gt=0, le=5)
    new_year_lift: float = Field(default=1.5, gt=0, le=5)
    lift_spread: float = Field(default=0.5, ge=0, le=1)
    measurement_error: MeasurementErrorParams = MeasurementErrorParams()


class PriorParams(_Frozen):
    """Daily use per person, in the product's unit, before anything is learned.

    More than 0 for everyone: a household whose prior is zero could never be forecast.
    """

    adult: Positive
    child: Positive
    elder: Positive


class ProductParams(_Frozen):
    """A product a shop sells, as seeded into a new shop."""

    name: str = Field(min_length=1)
    unit: Unit
    units_per_litre: Positive
    bag_sizes: tuple[Annotated[float, Field(ge=0.001)], ...] = Field(min_length=1)
    min_drop: Positive
    priors: PriorParams
    aliases: tuple[str, ...] = ()


def default_products() -> dict[str, ProductParams]:
    return {
        "rice": ProductParams(
            name="Rice",
            unit=Unit.KG,
            units_per_litre=0.8,
            bag_sizes=(5, 10),
            min_drop=5,
            priors=PriorParams(adult=0.15, child=0.08, elder=0.12),
            aliases=("rice", "米", "白米", "蓬萊米"),
        ),
        "water": ProductParams(
            name="Drinking water (5-gallon jug)",
            unit=Unit.UNIT,
            units_per_litre=round(1 / 18.9, 5),
            bag_sizes=(1,),
            min_drop=2,
            priors=PriorParams(adult=0.1, child=0.06, elder=0.08),
            aliases=("water", "jug", "水", "桶裝水", "飲用水"),
        ),
        "cooking_oil": ProductParams(
            name="Cooking oil",
            unit=Unit.L,
            units_per_litre=1.0,
            bag_sizes=(1, 3),
            min_drop=3,
            priors=PriorParams(adult=0.03, child=0.015, elder=0.025),
            aliases=("oil", "cooking oil", "油", "食用油", "沙拉油"),
        ),
        "propane": ProductParams(
            name="Propane (100-lb cylinder)",
            unit=Unit.UNIT,
            units_per_litre=round(1 / 108, 5),
            bag_sizes=(1,),
            min_drop=1,
            priors=PriorParams(adult=0.004, child=0.002, elder=0.003),
            aliases=("propane", "gas", "瓦斯", "桶裝瓦斯", "液化氣"),
        ),
    }
