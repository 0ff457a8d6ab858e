"""Tanks, readings and drops. Functions add and flush; the caller commits.

Geometry is not computed here. To turn a tank row into litres or capacity, or a
courier's ``depth_cm`` into a level, call ``replenish.core.tank`` (``TankGeometry``)
with the measured fields (``shape``, ``diameter_cm``, ``width_cm``, ``depth_cm``,
``height_cm``, ``capacity``) and the product's ``units_per_litre``; then pass the
resulting ``level`` to ``record_reading``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from replenish.core.types import DropStatus
from replenish.db.errors import DuplicateError
from replenish.db.models import (
    Courier,
    Customer,
    Drop,
    DropCreate,
    DropUpdate,
    Product,
    Reading,
    ReadingCreate,
    Tank,
    TankCreate,
    TankUpdate,
)
from replenish.db.queries._common import (
    apply_changes,
    check_reference,
    get_owned,
    validate_update,
)

__all__ = [
    "add_tank",
    "find_drop_by_key",
    "get_drop",
    "get_tank",
    "latest_reading",
    "list_drops",
    "list_readings",
    "list_tanks",
    "record_drop",
    "record_reading",
    "update_drop",
    "update_tank",
]

# --- Tank ---------------------------------------------------------------------------------


def add_tank(*, session: Session, customer: Customer, tank_in: TankCreate) -> Tank:
    """Add a tank, as measured, to a customer. Its product must be one of the shop's."""
    check_reference(
        session, Product, shop_id=customer.shop_id, row_id=tank_in.product_id, field="product_id"
    )
    tank = Tank.model_validate(
        tank_in, update={"shop_id": customer.shop_id, "customer_id": customer.id}
    )
    session.add(tank)
    session.flush()
    return tank


def get_tank(*, session: Session, shop_id: int, tank_id: int) -> Tank:
    return get_owned(session, Tank, shop_id=shop_id, row_id=tank_id)


def list_tanks(*, session: Session, shop_id: int, customer_id: int | None = None) -> Sequence[Tank]:
    statement = select(Tank).where(Tank.shop_id == shop_id)
    if customer_id is not None:
        statement = statement.where(Tank.customer_id == customer_id)
    return session.exec(statement.order_by(col(Tank.id))).all()


def update_tank(*, session: Session, tank: Tank, tank_in: TankUpdate) -> Tank:
    """Re-measure or relabel a tank (to change shape, set the new measurements too)."""
    changes = validate_update(tank, tank_in)
    check_reference(
        session, Product, shop_id=tank.shop_id, row_id=changes.get("product_id"), field="product_id"
    )
    apply_changes(tank, changes)
    session.add(tank)
    session.flush()
    return tank


# --- Reading ------------------------------------------------------------------------------


def record_reading(*, session: Session, tank: Tank, reading_in: ReadingCreate) -> Reading:
    """Store an observed level (``level`` already in the product's unit, see module doc)."""
    reading = Reading.model_validate(
        reading_in, update={"shop_id": tank.shop_id, "tank_id": tank.id}
    )
    session.add(reading)
    session.flush()
    return reading


def list_readings(
    *,
    session: Session,
    tank_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[Reading]:
    """Readings of a tank, oldest first, with ``since <= at < until`` when given."""
    statement = select(Reading).where(Reading.tank_id == tank_id)
    if since is not None:
        statement = statement.where(col(Reading.at) >= since)
    if until is not None:
        statement = statement.where(col(Reading.at) < until)
    return session.exec(statement.order_by(col(Reading.at), col(Reading.id))).all()


def latest_reading(
    *, session: Session, tank_id: int, before: datetime | None = None
) -> Reading | None:
    statement = select(Reading).where(Reading.tank_id == tank_id)
    if before is not None:
        statement = statement.where(col(Reading.at) < before)
    statement = statement.order_by(col(Reading.at).desc(), col(Reading.id).desc()).limit(1)
    return session.exec(statement).first()


# --- Drop ---------------------------------------------------------------------------------


def record_drop(*, session: Session, tank: Tank, drop_in: DropCreate) -> Drop:
    """Record a drop into ``tank``; a retry with the same ``idempotency_key`` is recorded once.

    The retry returns the row saved the first time, unchanged. Reusing a key for a
    different tank raises DuplicateError.
    """
    check_reference(
        session, Courier, shop_id=tank.shop_id, row_id=drop_in.courier_id, field="courier_id"
    )
    key = drop_in.idempotency_key
    if key is not None:
        existing = find_drop_by_key(session=session, idempotency_key=key)
        if existing is not None:
            return _same_tank_or_raise(existing, tank)
    drop = Drop.model_validate(drop_in, update={"shop_id": tank.shop_id, "tank_id": tank.id})
    try:
        with session.begin_nested():  # a concurrent retry may win the race
            session.add(drop)
    except IntegrityError:
        existing = find_drop_by_key(session=session, idempotency_key=key) if key else None
        if existing is None:
            raise
        return _same_tank_or_raise(existing, tank)
    return drop


def _same_tank_or_raise(existing: Drop, tank: Tank) -> Drop:
    if existing.tank_id != tank.id:
        raise DuplicateError(
            f"idempotency_key: {existing.idempotency_key!r} was already used for drop "
            f"#{existing.id} into another tank",
            field="idempotency_key",
            existing_id=existing.id,
        )
    return existing


def find_drop_by_key(*, session: Session, idempotency_key: str) -> Drop | None:
    statement = select(Drop).where(Drop.idempotency_key == idempotency_key)
    return session.exec(statement).first()


def get_drop(*, session: Session, shop_id: int, drop_id: int) -> Drop:
    return get_owned(session, Drop, shop_id=shop_id, row_id=drop_id)


def update_drop(*, session: Session, drop: Drop, drop_in: DropUpdate) -> Drop:
    """Change a drop (delivered, not home, a corrected quantity...)."""
    changes = validate_update(drop, drop_in)
    check_reference(
        session, Courier, shop_id=drop.shop_id, row_id=changes.get("courier_id"), field="courier_id"
    )
    apply_changes(drop, changes)
    session.add(drop)
    session.flush()
    return drop


def list_drops(
    *,
    session: Session,
    shop_id: int,
    tank_id: int | None = None,
    delivered_on: date | None = None,
    status: DropStatus | None = None,
    courier_id: int | None = None,
) -> Sequence[Drop]:
    """Drops of the shop, by day then id, narrowed by the arguments given."""
    statement = select(Drop).where(Drop.shop_id == shop_id)
    if tank_id is not None:
        statement = statement.where(Drop.tank_id == tank_id)
    if delivered_on is not None:
        statement = statement.where(Drop.delivered_on == delivered_on)
    if status is not None:
        statement = statement.where(Drop.status == status)
    if courier_id is not None:
        statement = statement.where(Drop.courier_id == courier_id)
    return session.exec(statement.order_by(col(Drop.delivered_on), col(Drop.id))).all()
