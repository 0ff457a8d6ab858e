"""Forecasts: keep each tank's learning state current, and refresh every answer at night.

Two paths give the same numbers (tests/db/test_forecasts.py checks it):

* As each reading or drop lands, ``learn_reading``/``learn_drop`` fold it into the
  tank's saved state (the dealer's K-factor, kept current as each fill arrives).
  An event older than the state (a back-dated entry), a household change or a hold
  marks the tank ``stale`` instead.
* ``refresh_forecasts`` (the nightly job) refolds stale tanks from their whole history,
  then computes tonight's answer for every tank from its saved state, in arrays
  (``core.batch``); tanks with holds go through the scalar ``core.depletion``.

Functions flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlmodel import Session, col, select

from replenish.core.batch import ForecastArrays, StateArrays, forecast_many, local_dates
from replenish.core.codec import state_from_fields, state_to_fields
from replenish.core.consumption import (
    DropEvent,
    Event,
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
    no_delivery_ranges,
    reading_error,
)
from replenish.db.models import Customer, Drop, Hold, Product, Reading, Shop, Tank
from replenish.db.models.forecasts import TankForecast
from replenish.settings import Settings

__all__ = [
    "RefreshResult",
    "learn_drop",
    "learn_reading",
    "forecast_as_of",
    "list_forecasts",
    "mark_customer_stale",
    "mark_product_stale",
    "refold_tank",
    "refresh_forecasts",
    "state_of",
]

_TIME_FIELDS = ("t_ref", "level_at", "pending_at")
DELIVERY_BY = time(18, 0)


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
        )
    }
    for name in _TIME_FIELDS:
        fields[name] = _moment(getattr(row, name))
    return state_from_fields(fields)


def _store(row: TankForecast, state: RateState) -> None:
    for name, value in state_to_fields(state).items():
        setattr(row, name, _epoch(value) if name in _TIME_FIELDS else value)


# --- keeping the state current as events land -------------------------------------------


def _learn(session: Session, *, tank: Tank, event: Event, settings: Settings) -> None:
    row = session.get(TankForecast, tank.id)
    if row is None or row.stale:
        return  # the nightly refold will see this event with the rest of the history
    holds = session.exec(select(Hold).where(Hold.customer_id == tank.customer_id)).all()
    shop = session.get(Shop, tank.shop_id)
    assert shop is not None
    periods = no_consumption_periods(holds, ZoneInfo(shop.timezone))
    try:
        state = observe(state_of(row), event, params=core_params(settings), holds=periods)
    except OutOfOrderError:
        row.stale = True
    else:
        _store(row, state)
    session.add(row)
    session.flush()


def learn_reading(
    *, session: Session, tank: Tank, reading: Reading, product: Product, settings: Settings
) -> None:
    """Fold a just-recorded reading into the tank's state (or mark it for a refold)."""
    row = session.get(TankForecast, tank.id)
    cap = row.capacity if row is not None else 1.0
    event = ReadingEvent(reading.at, reading.level, reading_error(reading.source, cap, settings))
    _learn(session, tank=tank, event=event, settings=settings)


def learn_drop(
    *, session: Session, tank: Tank, drop: Drop, product: Product, settings: Settings
) -> None:
    """Fold a just-recorded delivered drop into the tank's state."""
    if drop.status is not DropStatus.DELIVERED:
        return
    row = session.get(TankForecast, tank.id)
    shop = session.get(Shop, tank.shop_id)
    assert shop is not None
    cap = row.capacity if row is not None else 1.0
    event = DropEvent(
        drop_moment(drop, ZoneInfo(shop.timezone)),
        drop.quantity,
        drop.level_before,
        drop.level_after,
        reading_error(ReadingSource.COURIER, cap, settings),
    )
    _learn(session, tank=tank, event=event, settings=settings)


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


def mark_tank_stale(*, session: Session, tank_id: int) -> None:
    session.execute(
        sa.update(TankForecast).where(col(TankForecast.tank_id) == tank_id).values(stale=True)
    )


# --- the full recompute -------------------------------------------------------------------


def refold_tank(
    *, session: Session, shop: Shop, tank: Tank, product: Product, settings: Settings
) -> TankForecast | None:
    """Rebuild a tank's state from its whole history. None when there is no household."""
    try:
        history = load_history(
            session=session, shop=shop, tank=tank, product=product, settings=settings
        )
    except ValueError:
        return None
    params = core_params(settings)
    state = fold(
        start_state(history.prior, capacity=history.capacity),
        history.events,
        params=params,
        holds=history.holds,
    )
    row = session.get(TankForecast, tank.id)
    if row is None:
        assert tank.id is not None
        row = TankForecast(
            tank_id=tank.id,
            shop_id=shop.id,
            customer_id=tank.customer_id,
            product_id=product.id,
            capacity=history.capacity,
            prior_mean=history.prior.mean,
            prior_sd=history.prior.sd,
        )
    _store(row, state)
    row.stale = False
    session.add(row)
    session.flush()
    return row


# --- the nightly refresh ------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    refolded: int
    forecast: int
    without_level: int


_STATE_COLUMNS = (
    "capacity",
    "prior_mean",
    "prior_sd",
    "eta",
    "lam",
    "t_ref",
    "level",
    "level_var",
    "level_at",
    "pending_at",
    "pending_y",
    "pending_var",
    "pending_z",
)


def refresh_forecasts(
    *, session: Session, shop: Shop, now: datetime, settings: Settings, chunk: int = 50_000
) -> RefreshResult:
    """Tonight's forecast for every tank of ``shop`` as of ``now``.

    Tanks are read, forecast and written ``chunk`` at a time, so memory stays flat
    however many customers the shop has.
    """
    assert shop.id is not None
    refolded = _refold_stale(session, shop=shop, settings=settings)
    as_of = now.astimezone(ZoneInfo(shop.timezone)).date()
    held = _customers_with_holds(session, shop_id=shop.id, after=as_of)
    done = without = 0
    for product in session.exec(select(Product).where(Product.shop_id == shop.id)).all():
        after = -1
        while True:
            chunk_done, chunk_without, after = _refresh_chunk(
                session, shop=shop, product=product, now=now, settings=settings,
                held=held, after=after, limit=chunk)
            done += chunk_done
            without += chunk_without
            if after < 0:
                break
    session.flush()
    session.expire_all()  # the bulk UPDATE bypassed the objects this session holds
    return RefreshResult(refolded=refolded, forecast=done, without_level=without)


def _refresh_chunk(
    session: Session, *, shop: Shop, product: Product, now: datetime, settings: Settings,
    held: set[int], after: int, limit: int,
) -> tuple[int, int, int]:
    """Forecast up to ``limit`` tanks with ids above ``after``; returns the next ``after``
    (-1 when this was the last chunk)."""
    t = TankForecast.__table__
    tz = ZoneInfo(shop.timezone)
    params = core_params(settings)
    as_of = now.astimezone(tz).date()
    rows = session.execute(
        sa.select(t.c.tank_id, t.c.customer_id, *(t.c[name] for name in _STATE_COLUMNS))
        .where(t.c.shop_id == shop.id, t.c.product_id == product.id, t.c.tank_id > after)
        .order_by(t.c.tank_id)
        .limit(limit)
    ).all()
    if not rows:
        return 0, 0, -1
    data = np.array([r[2:] for r in rows], dtype=np.float64)  # None -> nan
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    customers = np.array([r[1] for r in rows], dtype=np.int64)
    has_level = ~np.isnan(data[:, _STATE_COLUMNS.index("level_at")])
    scalar = has_level & np.isin(customers, np.fromiter(held, dtype=np.int64, count=len(held)))
    batch = has_level & ~scalar
    values = _Values(sqlite=session.connection().dialect.name == "sqlite")
    updates: list[tuple[Any, ...]] = []
    if batch.any():
        arrays = StateArrays(**{name: data[batch, i] for i, name in enumerate(_STATE_COLUMNS)})
        out = forecast_many(arrays, now=now, tz=tz, bag_sizes=product.bag_sizes,
                            min_drop=product.min_drop, params=params, delivery_by=DELIVERY_BY)
        updates.extend(_batch_updates(ids[batch], out, tz, as_of, now, values))
    for tank_id in ids[scalar]:
        row = session.get(TankForecast, int(tank_id))
        assert row is not None
        holds = session.exec(select(Hold).where(Hold.customer_id == row.customer_id)).all()
        one = forecast(state_of(row), now=now, tz=tz, bag_sizes=product.bag_sizes,
                       min_drop=product.min_drop, params=params,
                       holds=no_consumption_periods(holds, tz),
                       no_delivery=no_delivery_ranges(holds), delivery_by=DELIVERY_BY)
        updates.append(_scalar_update(int(tank_id), one, as_of, now, values))
    if updates:
        _write_answers(session, updates)
    next_after = int(ids[-1]) if len(rows) == limit else -1
    return len(updates), int((~has_level).sum()), next_after


def _refold_stale(session: Session, *, shop: Shop, settings: Settings) -> int:
    stale = session.exec(
        select(Tank, Product)
        .join(Product, col(Product.id) == col(Tank.product_id))
        .outerjoin(TankForecast, col(TankForecast.tank_id) == col(Tank.id))
        .where(Tank.shop_id == shop.id)
        .where(sa.or_(col(TankForecast.tank_id).is_(None), col(TankForecast.stale)))
    ).all()
    for tank, product in stale:
        refold_tank(session=session, shop=shop, tank=tank, product=product, settings=settings)
    return len(stale)


def _customers_with_holds(session: Session, *, shop_id: int, after: date) -> set[int]:
    """Customers with a hold that is not over yet or ended within the last year."""
    since = date.fromordinal(after.toordinal() - 400)
    ids = session.exec(
        select(Hold.customer_id).where(Hold.shop_id == shop_id, col(Hold.end_date) >= since)
    ).all()
    return set(ids)


_ANSWER = ("as_of", "computed_at", "rate", "rate_sd", "level_now", "runout_p10",
           "runout_p50", "runout_p90", "order_by", "drop_size", "drop_fits")


@dataclass(frozen=True)
class _Values:
    """Turns dates and times into what the driver stores, the way the column types would:
    on SQLite, ISO text for dates and naive UTC text for times (as SQLAlchemy writes them)."""

    sqlite: bool

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def days(self, values: npt.NDArray[np.datetime64]) -> list[Any]:
        if self.sqlite:
            return list(np.datetime_as_string(values, unit="D").tolist())
        return list(values.astype("datetime64[D]").astype(object).tolist())

    def moment(self, value: datetime) -> Any:
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else utc


def _batch_updates(ids: npt.NDArray[np.int64], out: ForecastArrays, tz: ZoneInfo, as_of: date,
                   now: datetime, v: _Values) -> list[tuple[Any, ...]]:
    """Answer rows in ``_ANSWER`` order, then the tank id, ready for the driver."""
    n = len(ids)
    return list(zip(
        [v.day(as_of)] * n, [v.moment(now)] * n, out.rate.tolist(), out.rate_sd.tolist(),
        out.level_now.tolist(), v.days(local_dates(out.runout_p10, tz)),
        v.days(local_dates(out.runout_p50, tz)), v.days(local_dates(out.runout_p90, tz)),
        v.days(out.order_by), out.drop_size.tolist(), out.drop_fits.tolist(), ids.tolist(),
        strict=True,
    ))


def _scalar_update(tank_id: int, one: Forecast, as_of: date, now: datetime,
                   v: _Values) -> tuple[Any, ...]:
    return (v.day(as_of), v.moment(now), one.rate.mean, one.rate.sd, one.level_now,
            v.day(one.runout.local_date("p10")), v.day(one.runout.local_date("p50")),
            v.day(one.runout.local_date("p90")), v.day(one.order_by), one.drop_size,
            one.drop_fits, tank_id)


_ANSWER = ("as_of", "computed_at", "rate", "rate_sd", "level_now", "runout_p10",
           "runout_p50", "runout_p90", "order_by", "drop_size", "drop_fits")


def _write_answers(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """UPDATE the answers with one executemany on the driver (the nightly's hot path)."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f"{name} = {mark}" for name in _ANSWER)
    conn.exec_driver_sql(f"UPDATE tank_forecasts SET {sets} WHERE tank_id = {mark}", rows)


def forecast_as_of(*, session: Session, shop: Shop, now: datetime, settings: Settings,
                   customer_id: int | None = None) -> list[tuple[int, Forecast | None]]:
    """What the forecast said (or will say) at ``now``, from the events known by then.

    A full recompute per tank that writes nothing: for previews and for checking the
    nightly numbers. Returns ``(tank_id, forecast)``; None when no level was known.
    """
    tz = ZoneInfo(shop.timezone)
    params = core_params(settings)
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
                                      delivery_by=DELIVERY_BY)))
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
