"""What a courier or owner records at a tank: a reading or a drop, and what it teaches.

Each function stores the row and folds it into the tank's forecast state in the same
transaction (flush, no commit), so that a recorded level is never lost to learning.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from replenish.core.types import DropStatus, ReadingSource
from replenish.db.history import geometry_of
from replenish.db.models import Drop, DropCreate, Product, Reading, ReadingCreate, Tank
from replenish.db.queries.forecasts import learn_drop, learn_reading
from replenish.db.queries.tanks import find_drop_by_key, record_drop, record_reading
from replenish.settings import Settings

__all__ = ["add_drop", "add_reading", "level_from_depth"]


def level_from_depth(tank: Tank, product: Product, depth_cm: float) -> float:
    """The amount of product standing ``depth_cm`` deep in ``tank``."""
    return geometry_of(tank).level_from_depth(depth_cm, units_per_litre=product.units_per_litre)


def add_reading(*, session: Session, tank: Tank, product: Product, at: datetime,
                source: ReadingSource, settings: Settings, level: float | None = None,
                depth_cm: float | None = None, note: str = "") -> Reading:
    """Record a level (as an amount, or as a depth converted through the tank's geometry)."""
    if (level is None) == (depth_cm is None):
        raise ValueError(
            "give exactly one of depth_cm (the tape measure, in cm) or level "
            "(an amount in the product's unit)"
        )
    if depth_cm is not None:
        level = level_from_depth(tank, product, depth_cm)
    assert level is not None
    capacity = geometry_of(tank).capacity(units_per_litre=product.units_per_litre)
    if level > capacity * (1 + 1e-9):
        raise ValueError(f"level {level:g} is more than the tank holds ({capacity:.1f} "
                         f"{product.unit.value}); check the number or the tank's size")
    reading = record_reading(session=session, tank=tank, reading_in=ReadingCreate(
        at=at, source=source, level=level, depth_cm=depth_cm, note=note))
    learn_reading(session=session, tank=tank, reading=reading, product=product,
                  settings=settings)
    return reading


def add_drop(*, session: Session, tank: Tank, product: Product, delivered_on: date,
             quantity: float, settings: Settings, at: datetime | None = None,
             level_before: float | None = None, depth_before_cm: float | None = None,
             level_after: float | None = None, status: DropStatus = DropStatus.DELIVERED,
             courier_id: int | None = None, idempotency_key: str | None = None,
             note: str = "") -> Drop:
    """Record a drop; a retry with the same ``idempotency_key`` is recorded (and learned) once."""
    if idempotency_key is not None:
        existing = find_drop_by_key(session=session, idempotency_key=idempotency_key)
        if existing is not None:
            return record_drop(session=session, tank=tank, drop_in=DropCreate(
                delivered_on=delivered_on, quantity=quantity, idempotency_key=idempotency_key))
    if depth_before_cm is not None:
        if level_before is not None:
            raise ValueError("give the level before either as a depth or as an amount, not both")
        level_before = level_from_depth(tank, product, depth_before_cm)
    drop = record_drop(session=session, tank=tank, drop_in=DropCreate(
        delivered_on=delivered_on, at=at, quantity=quantity, level_before=level_before,
        level_after=level_after, status=status, courier_id=courier_id,
        idempotency_key=idempotency_key, note=note))
    learn_drop(session=session, tank=tank, drop=drop, product=product, settings=settings)
    return drop
