"""The customer file: who they are, who lives there (as history), when they are away."""

from datetime import date, datetime
from typing import Any, Self

import sqlalchemy as sa
from pydantic import ValidationInfo, field_validator, model_validator
from sqlmodel import Field, SQLModel

from replenish.core.types import DeliveryMode, HoldKind, Locale
from replenish.db.columns import UTCDateTime, text_enum, utcnow
from replenish.db.values import normalize_phone, validate_time_windows

# --- Customer -----------------------------------------------------------------------------


class CustomerBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(max_length=32)
    address: str = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    notes: str = ""
    habits: str = ""
    preferred_product_id: int | None = Field(
        default=None, foreign_key="products.id", ondelete="SET NULL"
    )
    delivery_mode: DeliveryMode = Field(
        default=DeliveryMode.CONFIRM, sa_type=text_enum(DeliveryMode)
    )
    time_windows: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    courier_id: int | None = Field(
        default=None, foreign_key="couriers.id", ondelete="SET NULL", index=True
    )

    @field_validator("time_windows", mode="before")
    @classmethod
    def _windows(cls, value: Any) -> list[dict[str, str]]:
        return validate_time_windows(value)

    @model_validator(mode="after")
    def _lat_and_lon_together(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        return self


class CustomerCreate(CustomerBase):
    """A new customer as typed by the owner. ``phone`` may be local to the shop's region."""

    language: Locale | None = None  # None: the shop's locale


class CustomerUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    language: Locale | None = None
    notes: str | None = None
    habits: str | None = None
    preferred_product_id: int | None = None
    delivery_mode: DeliveryMode | None = None
    time_windows: list[dict[str, str]] | None = None
    courier_id: int | None = None


class Customer(CustomerBase, table=True):
    """A household the shop delivers to. ``phone`` is E.164 and unique within the shop."""

    __tablename__ = "customers"
    __table_args__ = (sa.UniqueConstraint("shop_id", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    language: Locale = Field(sa_type=text_enum(Locale))
    opted_out: bool = False
    opted_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @field_validator("phone")
    @classmethod
    def _phone_in_region(cls, value: str, info: ValidationInfo) -> str:
        # context={"region": shop.region} lets local numbers in; without it, +... only.
        return normalize_phone(value, region=(info.context or {}).get("region"))


class CustomerPublic(CustomerBase):
    id: int
    shop_id: int
    language: Locale
    opted_out: bool
    opted_out_at: datetime | None
    created_at: datetime


# --- Household history --------------------------------------------------------------------


class HouseholdBase(SQLModel):
    effective_date: date
    adults: int = Field(default=0, ge=0)
    children: int = Field(default=0, ge=0)
    elders: int = Field(default=0, ge=0)
    eats_at_home: float = Field(default=1.0, gt=0, le=1)  # 0.5: half the meals at home

    @model_validator(mode="after")
    def _someone_lives_there(self) -> Self:
        if self.adults + self.children + self.elders < 1:
            raise ValueError(
                "a household has at least one person: adults + children + elders must be >= 1"
            )
        return self


class HouseholdChangeCreate(HouseholdBase):
    pass


class HouseholdChange(HouseholdBase, table=True):
    """Who lives there from ``effective_date`` on. Never updated: a change is a new row."""

    __tablename__ = "household_changes"
    __table_args__ = (sa.Index(None, "customer_id", "effective_date"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HouseholdChangePublic(HouseholdBase):
    id: int
    customer_id: int
    created_at: datetime


# --- Hold ---------------------------------------------------------------------------------


class HoldBase(SQLModel):
    kind: HoldKind = Field(sa_type=text_enum(HoldKind))
    start_date: date
    end_date: date  # inclusive
    note: str = ""

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError(
                f"a hold ends ({self.end_date}) before it starts ({self.start_date}); "
                "end_date must be on or after start_date"
            )
        return self


class HoldCreate(HoldBase):
    pass


class Hold(HoldBase, table=True):
    """Dates (inclusive) when the household is away or wants no drops."""

    __tablename__ = "holds"
    __table_args__ = (sa.Index(None, "customer_id", "start_date"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HoldPublic(HoldBase):
    id: int
    customer_id: int
