"""Tanks (as measured), readings of their level, and drops (deliveries) into them.

Geometry is stored as measured, in cm; litres and capacity in product units are
computed in one place, ``replenish.core.tank``, never here.
"""

from datetime import UTC, date, datetime
from typing import Self

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from replenish.core.types import DropStatus, ReadingSource, TankShape
from replenish.db.columns import UTCDateTime, text_enum, utcnow

# Which measurements each shape needs; the others must be left empty.
SHAPE_FIELDS: dict[TankShape, tuple[str, ...]] = {
    TankShape.CYLINDER: ("diameter_cm", "height_cm"),
    TankShape.BOX: ("width_cm", "depth_cm", "height_cm"),
    TankShape.CAPACITY: ("capacity",),
}
# Measurements a shape may have but does not need: a tank entered by capacity may give
# its height so that depth readings convert (linearly) too.
OPTIONAL_FIELDS: dict[TankShape, tuple[str, ...]] = {TankShape.CAPACITY: ("height_cm",)}
_MEASURES = ("diameter_cm", "width_cm", "depth_cm", "height_cm", "capacity")


def _aware_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time needs its time zone (an aware datetime); a naive one is ambiguous")
    return value.astimezone(UTC)


# --- Tank ---------------------------------------------------------------------------------


class TankBase(SQLModel):
    product_id: int = Field(foreign_key="products.id", ondelete="RESTRICT", index=True)
    label: str = Field(default="", max_length=200)
    shape: TankShape = Field(sa_type=text_enum(TankShape))
    diameter_cm: float | None = Field(default=None, gt=0)
    width_cm: float | None = Field(default=None, gt=0)
    depth_cm: float | None = Field(default=None, gt=0)
    height_cm: float | None = Field(default=None, gt=0)
    capacity: float | None = Field(default=None, gt=0)  # in the product's unit

    @model_validator(mode="after")
    def _measured_for_its_shape(self) -> Self:
        needed = SHAPE_FIELDS[self.shape]
        missing = [name for name in needed if getattr(self, name) is None]
        allowed = needed + OPTIONAL_FIELDS.get(self.shape, ())
        extra = [n for n in _MEASURES if n not in allowed and getattr(self, n) is not None]
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"needs {', '.join(missing)}")
            if extra:
                problems.append(f"does not use {', '.join(extra)}")
            raise ValueError(
                f"a {self.shape.value} tank {' and '.join(problems)} "
                f"(a {self.shape.value} tank is measured by {', '.join(needed)})"
            )
        return self


class TankCreate(TankBase):
    pass


class TankUpdate(SQLModel):
    product_id: int | None = None
    label: str | None = Field(default=None, max_length=200)
    shape: TankShape | None = None
    diameter_cm: float | None = Field(default=None, gt=0)
    width_cm: float | None = Field(default=None, gt=0)
    depth_cm: float | None = Field(default=None, gt=0)
    height_cm: float | None = Field(default=None, gt=0)
    capacity: float | None = Field(default=None, gt=0)


class Tank(TankBase, table=True):
    """A customer's container for one product, as measured."""

    __tablename__ = "tanks"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TankPublic(TankBase):
    id: int
    customer_id: int


# --- Reading ------------------------------------------------------------------------------


class ReadingBase(SQLModel):
    at: datetime = Field(sa_type=UTCDateTime)
    source: ReadingSource = Field(sa_type=text_enum(ReadingSource))
    depth_cm: float | None = Field(default=None, ge=0)  # the tape measurement, as taken
    level: float = Field(ge=0)  # amount in the tank, in the product's unit
    note: str = ""

    _at = field_validator("at")(_aware_utc)


class ReadingCreate(ReadingBase):
    pass


class Reading(ReadingBase, table=True):
    """An observed level. ``level`` is converted (by core) from ``depth_cm`` when measured."""

    __tablename__ = "readings"
    __table_args__ = (sa.Index(None, "tank_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    tank_id: int = Field(foreign_key="tanks.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReadingPublic(ReadingBase):
    id: int
    tank_id: int


# --- Drop ---------------------------------------------------------------------------------


class DropBase(SQLModel):
    delivered_on: date  # the day (shop's zone) it is planned for or was delivered
    at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when it was poured
    quantity: float = Field(gt=0)  # in the product's unit
    level_before: float | None = Field(default=None, ge=0)  # None: not measured
    level_after: float | None = Field(default=None, ge=0)
    status: DropStatus = Field(default=DropStatus.PLANNED, sa_type=text_enum(DropStatus))
    courier_id: int | None = Field(
        default=None, foreign_key="couriers.id", ondelete="SET NULL", index=True
    )
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    note: str = ""

    _at = field_validator("at")(_aware_utc)


class DropCreate(DropBase):
    pass


class DropUpdate(SQLModel):
    delivered_on: date | None = None
    at: datetime | None = None
    quantity: float | None = Field(default=None, gt=0)
    level_before: float | None = Field(default=None, ge=0)
    level_after: float | None = Field(default=None, ge=0)
    status: DropStatus | None = None
    courier_id: int | None = None
    note: str | None = None


class Drop(DropBase, table=True):
    """A delivery into a tank. A retried save with the same ``idempotency_key`` is one row."""

    __tablename__ = "drops"
    __table_args__ = (sa.Index(None, "tank_id", "delivered_on"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    tank_id: int = Field(foreign_key="tanks.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DropPublic(DropBase):
    id: int
    tank_id: int
