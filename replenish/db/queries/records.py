"""What a courier or owner records at a tank: a reading or a drop, and what it teaches.

Each function stores the row and folds it into the tank's forecast state in the same
transaction (flush, no commit), so that a recorded level is never lost to learning.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from replenish.core.conversation import ProposalState
from replenish.core.types import DropStatus, ReadingSource
from replenish.db.columns import utcnow
from replenish.db.errors import DuplicateError
from replenish.db.history import geometry_of
from replenish.db.models import (
    Drop,
    DropCreate,
    Product,
    Proposal,
    Reading,
    ReadingCreate,
    Route,
    RouteStop,
    Shop,
    StopStatus,
    Tank,
)
from replenish.db.queries.forecasts import learn_drop, learn_not_home, learn_reading
from replenish.db.queries.tanks import find_drop_by_key, record_drop, record_reading
from replenish.settings import Settings

__all__ = ["add_drop", "add_reading", "complete_drop", "level_from_depth"]

FUTURE_SLACK = timedelta(hours=1)  # clocks disagree a little; a year's typo is refused


def _not_in_future(at: datetime | None, now: datetime | None, *, field: str) -> None:
    now = now or utcnow()
    if at is not None and at > now + FUTURE_SLACK:
        raise ValueError(f"{field} {at.isoformat()} is in the future; a level or a drop is "
                         "recorded when it happened (check the year)")


def _within(value: float | None, capacity: float, product: Product, *, field: str) -> None:
    if value is not None and value > capacity * (1 + 1e-9):
        raise ValueError(f"{field} {value:g} is more than the tank holds ({capacity:.1f} "
                         f"{product.unit.value}); check the number or the tank's size")


def level_from_depth(tank: Tank, product: Product, depth_cm: float) -> float:
    """The amount of product standing ``depth_cm`` deep in ``tank``."""
    return geometry_of(tank).level_from_depth(depth_cm, units_per_litre=product.units_per_litre)


def add_reading(*, session: Session, tank: Tank, product: Product, at: datetime,
                source: ReadingSource, settings: Settings, level: float | None = None,
                depth_cm: float | None = None, note: str = "",
                now: datetime | None = None) -> Reading:
    """Record a level (as an amount, or as a depth converted through the tank's geometry)."""
    _not_in_future(at, now, field="at")
    if (level is None) == (depth_cm is None):
        raise ValueError(
            "give exactly one of depth_cm (the tape measure, in cm) or level "
            "(an amount in the product's unit)"
        )
    if depth_cm is not None:
        level = level_from_depth(tank, product, depth_cm)
    assert level is not None
    capacity = geometry_of(tank).capacity(units_per_litre=product.units_per_litre)
    _within(level, capacity, product, field="level")
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
             note: str = "", now: datetime | None = None) -> Drop:
    """Record a drop; a retry with the same ``idempotency_key`` is recorded (and learned) once."""
    if idempotency_key is not None:
        existing = find_drop_by_key(session=session, idempotency_key=idempotency_key)
        if existing is not None:
            return record_drop(session=session, tank=tank, drop_in=DropCreate(
                delivered_on=delivered_on, quantity=quantity, idempotency_key=idempotency_key))
    if status is DropStatus.DELIVERED:
        _not_in_future(at, now, field="at")
        today_limit = (now or utcnow()) + timedelta(days=1)
        if delivered_on > today_limit.date():
            raise ValueError(f"delivered_on {delivered_on} is in the future; record a drop "
                             "as delivered on the day it was poured")
    capacity = geometry_of(tank).capacity(units_per_litre=product.units_per_litre)
    _within(quantity, capacity, product, field="quantity")
    if depth_before_cm is not None:
        if level_before is not None:
            raise ValueError("give the level before either as a depth or as an amount, not both")
        level_before = level_from_depth(tank, product, depth_before_cm)
    _within(level_before, capacity, product, field="level_before")
    _within(level_after, capacity, product, field="level_after")
    drop = record_drop(session=session, tank=tank, drop_in=DropCreate(
        delivered_on=delivered_on, at=at, quantity=quantity, level_before=level_before,
        level_after=level_after, status=status, courier_id=courier_id,
        idempotency_key=idempotency_key, note=note))
    learn_drop(session=session, tank=tank, drop=drop, product=product, settings=settings)
    return drop


def refuse_second_planned(*, session: Session, tank: Tank, today: date) -> None:
    """A tank takes one planned drop at a time: raise DuplicateError (naming the drop
    already planned) before the shop plans another by hand. The customer's yes to an
    offer takes over a drop planned by hand instead (``conversation.booking``)."""
    planned = session.exec(select(Drop).where(
        Drop.tank_id == tank.id, Drop.status == DropStatus.PLANNED,
        col(Drop.delivered_on) >= today).order_by(col(Drop.delivered_on))).first()
    if planned is not None:
        raise DuplicateError(
            f"status: this tank already has drop #{planned.id} planned for "
            f"{planned.delivered_on.isoformat()} ({planned.quantity:g}); a tank takes one "
            "planned drop at a time: record that one when it is poured",
            field="status", existing_id=planned.id)


def cancel_planned_drop(*, session: Session, drop: Drop, now: datetime,
                        note: str = "") -> date | None:
    """Cancel a planned drop (the customer phoned: not this time). The proposal a booking
    made it from is cancelled with it (the next offer comes with the tank's next cycle),
    and its stop, if the drop was on a route not recorded yet, is taken off that route.
    Returns the day of that route (None: it was on none), which the owner may rebuild.
    Flushes, no commit."""
    if drop.status is not DropStatus.PLANNED:
        raise ValueError(f"drop {drop.id} is {drop.status.value}; only a planned drop can "
                         "be cancelled")
    drop.status = DropStatus.CANCELLED
    if note:
        drop.note = (drop.note + "\n" + note).strip()
    session.add(drop)
    for proposal in session.exec(select(Proposal).where(Proposal.drop_id == drop.id)).all():
        proposal.state, proposal.updated_at = ProposalState.CANCELLED, now
        session.add(proposal)
    day = None
    for stop in session.exec(select(RouteStop).where(RouteStop.drop_id == drop.id,
                                                     RouteStop.status == StopStatus.PENDING)):
        route = session.get(Route, stop.route_id)
        day = route.day if route is not None else day
        session.delete(stop)
    session.flush()
    return day


def complete_drop(*, session: Session, drop: Drop, tank: Tank, product: Product,
                  status: DropStatus, settings: Settings, at: datetime,
                  quantity: float | None = None, level_before: float | None = None,
                  depth_before_cm: float | None = None, courier_id: int | None = None,
                  note: str = "", now: datetime | None = None) -> Drop:
    """A planned drop as the courier left it: delivered (with the amount poured and the
    level found, learned like any drop), nobody at home, or refused at the door."""
    if drop.status is not DropStatus.PLANNED:
        raise ValueError(f"drop {drop.id} is already {drop.status.value}; only a planned "
                         "drop can be completed")
    if status is DropStatus.PLANNED:
        raise ValueError("status must be delivered, not-home, refused or cancelled")
    _not_in_future(at, now, field="at")
    capacity = geometry_of(tank).capacity(units_per_litre=product.units_per_litre)
    if depth_before_cm is not None:
        if level_before is not None:
            raise ValueError("give the level before either as a depth or as an amount, not both")
        level_before = level_from_depth(tank, product, depth_before_cm)
    _within(level_before, capacity, product, field="level_before")
    if quantity is not None:
        _within(quantity, capacity, product, field="quantity")
    shop = session.get(Shop, tank.shop_id)
    assert shop is not None
    # the day it was poured (or the door knocked on), which may differ from the plan's
    drop.status, drop.at = status, at
    drop.delivered_on = at.astimezone(ZoneInfo(shop.timezone)).date()
    if status is DropStatus.DELIVERED:
        drop.quantity = quantity if quantity is not None else drop.quantity
        drop.level_before = level_before
    if courier_id is not None:
        drop.courier_id = courier_id
    if note:
        drop.note = (drop.note + "\n" + note).strip()
    session.add(drop)
    session.flush()
    if status is DropStatus.DELIVERED:
        learn_drop(session=session, tank=tank, drop=drop, product=product, settings=settings)
    if status is DropStatus.NOT_HOME:  # they may be away: the interval may hold days of
        # eating nothing (before a level seen now, as a full refold orders them)
        learn_not_home(session=session, tank=tank, drop=drop, settings=settings)
    if status is not DropStatus.DELIVERED and level_before is not None:  # nobody took the
        # rice, but the level was seen
        add_reading(session=session, tank=tank, product=product, at=at,
                    source=ReadingSource.COURIER, level=level_before, settings=settings,
                    now=now)
    return drop
