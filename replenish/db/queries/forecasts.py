"""Forecasts: keep each tank's learning state current as events land.

* As each reading or drop lands, ``learn_reading``/``learn_drop`` fold it into the
  tank's saved state (the dealer's K-factor, kept current as each fill arrives).
  An event older than the state (a back-dated entry), a household or hold change, a
  re-measured tank or an edited product marks the tank ``stale`` instead; the nightly
  refresh (``replenish.db.queries.nightly``) refolds stale tanks from their history.
* ``refold_tank`` and ``forecast_as_of`` recompute one tank from its whole history: the
  reference the incremental path must equal (tests/db/test_forecasts.py checks it).

Functions flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from replenish.core.calendar import busy_periods
from replenish.core.codec import state_from_fields, state_to_fields
from replenish.core.consumption import (
    DropEvent,
    Event,
    NotHomeEvent,
    OutOfOrderError,
    RateState,
    ReadingEvent,
    fold,
    observe,
    start_state,
)
from replenish.core.depletion import Forecast, forecast
from replenish.core.types import DropStatus, ReadingSource
from replenish.db.history import (
    core_params,
    drop_moment,
    load_history,
    no_consumption_periods,
    reading_error,
)
from replenish.db.models import Customer, Drop, Hold, Product, Reading, Shop, Tank
from replenish.db.models.forecasts import TankForecast
from replenish.settings import Settings

__all__ = [
    "forecast_as_of",
    "learn_drop",
    "learn_reading",
    "list_forecasts",
    "mark_customer_stale",
    "mark_product_stale",
    "new_forecast_row",
    "refold_tank",
    "state_of",
    "store_state",
]

_TIME_FIELDS = ("t_ref", "level_at", "pending_at")


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _moment(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def state_of(row: TankForecast) -> RateState:
    """The core's state from a forecast row."""
    fields: dict[str, Any] = {
        name: getattr(row, name)
        for name in (
            "capacity",
            "prior_mean",
            "prior_sd",
            "eta",
            "lam",
            "level",
            "level_var",
            "pending_y",
            "pending_var",
            "pending_z",
            "intervals",
            "outliers",
            "changes",
            "notes",
            "maybe_away",
        )
    }
    for name in _TIME_FIELDS:
        fields[name] = _moment(getattr(row, name))
    return state_from_fields(fields)


def store_state(row: TankForecast, state: RateState) -> None:
    """Write the core's state into a forecast row."""
    for name, value in state_to_fields(state).items():
        setattr(row, name, _epoch(value) if name in _TIME_FIELDS else value)


# --- keeping the state current as events land -------------------------------------------


def _learn(session: Session, *, tank: Tank, settings: Settings,
           event_for: Callable[[TankForecast, ZoneInfo], Event]) -> None:
    """Fold the event ``event_for(row, shop zone)`` builds into the tank's saved state."""
    row = session.get(TankForecast, tank.id)
    if row is None or row.stale:
        return  # the nightly refold will see this event with the rest of the history
    shop = session.get(Shop, tank.shop_id)
    assert shop is not None
    tz = ZoneInfo(shop.timezone)
    holds = session.exec(select(Hold).where(Hold.customer_id == tank.customer_id)).all()
    try:
        state = observe(state_of(row), event_for(row, tz), params=core_params(settings),
                        holds=no_consumption_periods(holds, tz))
    except OutOfOrderError:
        row.stale = True
    else:
        store_state(row, state)
    session.add(row)
    session.flush()


def learn_reading(
    *, session: Session, tank: Tank, reading: Reading, product: Product, settings: Settings
) -> None:
    """Fold a just-recorded reading into the tank's state (or mark it for a refold)."""
    _learn(session, tank=tank, settings=settings, event_for=lambda row, _tz: ReadingEvent(
        reading.at, reading.level, reading_error(reading.source, row.capacity, settings)))


def learn_drop(
    *, session: Session, tank: Tank, drop: Drop, product: Product, settings: Settings
) -> None:
    """Fold a just-recorded delivered drop into the tank's state."""
    if drop.status is not DropStatus.DELIVERED:
        return
    _learn(session, tank=tank, settings=settings, event_for=lambda row, tz: DropEvent(
        drop_moment(drop, tz), drop.quantity, drop.level_before, drop.level_after,
        reading_error(ReadingSource.COURIER, row.capacity, settings)))


def learn_not_home(*, session: Session, tank: Tank, drop: Drop, settings: Settings) -> None:
    """A visit that found nobody home: the tank's open interval may hold time away."""
    _learn(session, tank=tank, settings=settings,
           event_for=lambda _row, tz: NotHomeEvent(drop_moment(drop, tz)))


def mark_customer_stale(*, session: Session, customer_id: int) -> None:
    """A household, hold or tank change: refold this customer's tanks at the next run."""
    session.execute(
        sa.update(TankForecast)
        .where(col(TankForecast.customer_id) == customer_id)
        .values(stale=True)
    )


def mark_product_stale(*, session: Session, product_id: int) -> None:
    """A product's priors, density or bags changed: refold every tank holding it."""
    session.execute(sa.update(TankForecast).where(col(TankForecast.product_id) == product_id)
                    .values(stale=True))


# --- the full recompute -------------------------------------------------------------------


def new_forecast_row(*, tank: Tank, product: Product, capacity: float,
                     prior_mean: float, prior_sd: float) -> TankForecast:
    assert tank.id is not None and product.id is not None
    return TankForecast(tank_id=tank.id, shop_id=tank.shop_id, customer_id=tank.customer_id,
                        product_id=product.id, capacity=capacity, prior_mean=prior_mean,
                        prior_sd=prior_sd)


def refold_tank(*, session: Session, shop: Shop, tank: Tank, product: Product,
                settings: Settings, until: datetime | None = None) -> TankForecast | None:
    """Rebuild a tank's state from its history up to ``until`` (default: all of it).

    None when the customer has no household on file (nothing to start from).
    """
    try:
        history = load_history(session=session, shop=shop, tank=tank, product=product,
                               settings=settings, until=until)
    except ValueError:
        return None
    state = fold(start_state(history.prior, capacity=history.capacity), history.events,
                 params=core_params(settings), holds=history.holds)
    row = session.get(TankForecast, tank.id) or new_forecast_row(
        tank=tank, product=product, capacity=history.capacity, prior_mean=history.prior.mean,
        prior_sd=history.prior.sd)
    store_state(row, state)
    row.stale = False
    session.add(row)
    session.flush()
    return row


BUSY_BEFORE_DAYS, BUSY_AHEAD_DAYS = 60, 240  # the holiday calendar a forecast looks at


def busy_calendar(*, shop: Shop, settings: Settings,
                  as_of: date) -> list[tuple[datetime, datetime, float]]:
    """The shop's busy days (holidays, Lunar New Year) around ``as_of``, for ``forecast``
    (``[forecast] holiday_lift`` and ``new_year_lift``; the shop's region's calendar)."""
    f = settings.forecast
    return busy_periods(shop.region, ZoneInfo(shop.timezone),
                        as_of - timedelta(days=BUSY_BEFORE_DAYS),
                        as_of + timedelta(days=BUSY_AHEAD_DAYS),
                        holiday_lift=f.holiday_lift, new_year_lift=f.new_year_lift)


def forecast_as_of(*, session: Session, shop: Shop, now: datetime, settings: Settings,
                   customer_id: int | None = None) -> list[tuple[int, Forecast | None]]:
    """What the forecast said (or will say) at ``now``, from the events known by then.

    A full recompute per tank that writes nothing: for previews and for checking the
    nightly numbers. Returns ``(tank_id, forecast)``; None when no level was known.
    """
    tz = ZoneInfo(shop.timezone)
    params = core_params(settings)
    busy = busy_calendar(shop=shop, settings=settings, as_of=now.astimezone(tz).date())
    statement = (select(Tank, Product).join(Product, col(Product.id) == col(Tank.product_id))
                 .where(Tank.shop_id == shop.id).order_by(col(Tank.id)))
    if customer_id is not None:
        statement = statement.where(Tank.customer_id == customer_id)
    out: list[tuple[int, Forecast | None]] = []
    for tank, product in session.exec(statement).all():
        assert tank.id is not None
        try:
            history = load_history(session=session, shop=shop, tank=tank, product=product,
                                   settings=settings, until=now)
        except ValueError:
            out.append((tank.id, None))
            continue
        state = fold(start_state(history.prior, capacity=history.capacity), history.events,
                     params=params, holds=history.holds)
        if state.level is None:
            out.append((tank.id, None))
            continue
        out.append((tank.id, forecast(state, now=now, tz=tz, bag_sizes=product.bag_sizes,
                                      min_drop=product.min_drop, params=params,
                                      holds=history.holds, no_delivery=history.no_delivery,
                                      delivery_by=shop.close_time, busy=busy)))
    return out


# --- reading the answer -------------------------------------------------------------------


def list_forecasts(
    *, session: Session, shop_id: int, customer_id: int | None = None
) -> Sequence[tuple[TankForecast, Customer, Tank, Product]]:
    """Forecast rows with their customer, tank and product, soonest order-by date first."""
    statement = (
        select(TankForecast, Customer, Tank, Product)
        .join(Customer, col(Customer.id) == col(TankForecast.customer_id))
        .join(Tank, col(Tank.id) == col(TankForecast.tank_id))
        .join(Product, col(Product.id) == col(TankForecast.product_id))
        .where(TankForecast.shop_id == shop_id)
    )
    if customer_id is not None:
        statement = statement.where(TankForecast.customer_id == customer_id)
    statement = statement.order_by(
        col(TankForecast.order_by).is_(None), col(TankForecast.order_by), col(Customer.name)
    )
    return session.exec(statement).all()

