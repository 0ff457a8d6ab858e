"""The shop, the products it sells and its couriers."""

import re
from datetime import datetime, time
from typing import Annotated, Any, Self

import sqlalchemy as sa
from pydantic import Field as PydanticField
from pydantic import ValidationInfo, field_validator, model_validator
from sqlmodel import Field, SQLModel

from replenish.core.types import Locale, Unit
from replenish.db.columns import UTCDateTime, text_enum, utcnow
from replenish.db.values import normalize_phone
from replenish.settings import (
    ProductParams,
    ShopParams,
    validate_currency,
    validate_region,
    validate_timezone,
)

# a bag or drop size: at least a thousandth of the unit (1 g, 1 mL)
PositiveFloat = Annotated[float, PydanticField(ge=0.001)]

# --- Shop ---------------------------------------------------------------------------------


class ShopBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64)
    locale: Locale = Field(sa_type=text_enum(Locale))
    region: str = Field(max_length=2)
    currency: str = Field(max_length=3)
    open_time: time
    close_time: time
    # where routes start and end (the depot); None until the owner sets it
    address: str = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    _tz = field_validator("timezone")(validate_timezone)
    _region = field_validator("region")(validate_region)
    _currency = field_validator("currency")(validate_currency)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> Self:
        if self.open_time >= self.close_time:
            raise ValueError(
                f"the shop opens at {self.open_time:%H:%M} but closes at "
                f"{self.close_time:%H:%M}; open_time must be earlier than close_time"
            )
        return self


class ShopCreate(ShopBase):
    @classmethod
    def from_params(cls, params: ShopParams, **changes: Any) -> "ShopCreate":
        """A new shop from the ``[shop]`` settings, with optional changes (``name=...``)."""
        data = {
            "name": params.name,
            "timezone": params.timezone,
            "locale": params.locale,
            "region": params.region,
            "currency": params.currency,
            "open_time": params.open,
            "close_time": params.close,
            "address": params.address,
            "lat": params.lat,
            "lon": params.lon,
        }
        return cls.model_validate(data | changes)


class ShopUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    locale: Locale | None = None
    region: str | None = None
    currency: str | None = None
    open_time: time | None = None
    close_time: time | None = None
    address: str | None = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Shop(ShopBase, table=True):
    __tablename__ = "shops"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ShopPublic(ShopBase):
    id: int
    created_at: datetime


# --- Product ------------------------------------------------------------------------------


class ProductBase(SQLModel):
    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    unit: Unit = Field(sa_type=text_enum(Unit))
    units_per_litre: float = Field(gt=0)
    bag_sizes: list[PositiveFloat] = Field(min_length=1, sa_type=sa.JSON)
    min_drop: float = Field(gt=0)
    prior_adult: float = Field(gt=0)  # more than 0: a zero prior cannot be forecast
    prior_child: float = Field(gt=0)
    prior_elder: float = Field(gt=0)

    @field_validator("key")
    @classmethod
    def _key_is_an_identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError(
                "a product key is lowercase letters, digits and '_' (such as 'rice' or "
                "'cooking_oil')"
            )
        return value


class ProductCreate(ProductBase):
    @classmethod
    def from_params(cls, key: str, params: ProductParams) -> "ProductCreate":
        """A product row from a ``[products.<key>]`` settings block."""
        return cls.model_validate(
            {
                "key": key,
                "name": params.name,
                "aliases": list(params.aliases),
                "unit": params.unit,
                "units_per_litre": params.units_per_litre,
                "bag_sizes": list(params.bag_sizes),
                "min_drop": params.min_drop,
                "prior_adult": params.priors.adult,
                "prior_child": params.priors.child,
                "prior_elder": params.priors.elder,
            }
        )


class ProductUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    aliases: list[str] | None = None
    unit: Unit | None = None
    units_per_litre: float | None = Field(default=None, gt=0)
    bag_sizes: list[PositiveFloat] | None = Field(default=None, min_length=1)
    min_drop: float | None = Field(default=None, gt=0)
    prior_adult: float | None = Field(default=None, gt=0)
    prior_child: float | None = Field(default=None, gt=0)
    prior_elder: float | None = Field(default=None, gt=0)


class Product(ProductBase, table=True):
    __tablename__ = "products"
    __table_args__ = (sa.UniqueConstraint("shop_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)


class ProductPublic(ProductBase):
    id: int
    shop_id: int


# --- Courier ------------------------------------------------------------------------------


def _phone_in_region(value: str, info: ValidationInfo) -> str:
    """Field validator: normalise to E.164 using ``context={"region": ...}`` when given."""
    region = (info.context or {}).get("region")
    return normalize_phone(value, region=region)


class CourierBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(max_length=32)
    capacity: float = Field(default=300.0, gt=0)  # what one trip carries, product's unit
    shift_start: time = time(8, 0)
    shift_end: time = time(18, 0)
    max_reloads: int = Field(default=2, ge=0, le=20)  # back to the shop to load again
    active: bool = True  # works and gets routes

    @model_validator(mode="after")
    def _shift_ends_after_it_starts(self) -> Self:
        if self.shift_start >= self.shift_end:
            raise ValueError(f"the shift starts at {self.shift_start:%H:%M} but ends at "
                             f"{self.shift_end:%H:%M}; shift_start must be earlier than "
                             "shift_end")
        return self


class CourierCreate(CourierBase):
    pass


class CourierUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    capacity: float | None = Field(default=None, gt=0)
    shift_start: time | None = None
    shift_end: time | None = None
    max_reloads: int | None = Field(default=None, ge=0, le=20)
    active: bool | None = None


class Courier(CourierBase, table=True):
    __tablename__ = "couriers"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)

    _phone = field_validator("phone")(_phone_in_region)


class CourierPublic(CourierBase):
    id: int
    shop_id: int
