"""The nightly refresh: every tank's answer as of tonight, in bulk.

1. Tanks whose household change takes effect today (dated ahead when it was typed) are
   marked stale: a change applies from its day, not from the day it was entered.
2. Stale tanks (and tanks never forecast) are refolded from their history up to now,
   ``REFOLD_CHUNK`` tanks at a time: one query per table for the whole chunk, the same
   ``build_history`` as the one-tank path, and one bulk write of the states.
3. Every tank's answer (level now, run-out p10/p50/p90, order-by date, drop size) is
   computed from its saved state in arrays (``core.batch``), ``chunk`` tanks at a time,
   and written back with one ``executemany``; customers with holds go through the
   scalar ``core.depletion.forecast``.

Memory stays flat however many tanks the shop has. Functions flush; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlmodel import Session, col, select

from replenish.core.batch import ForecastArrays, StateArrays, forecast_many, local_dates
from replenish.core.consumption import fold, start_state
from replenish.core.depletion import Forecast, forecast
from replenish.core.types import DropStatus
from replenish.db.history import (
    build_history,
    core_params,
    no_consumption_periods,
    no_delivery_ranges,
)
from replenish.db.models import Drop, Hold, HouseholdChange, Product, Reading, Shop, Tank
from replenish.db.models.forecasts import TankForecast
from replenish.db.queries.forecasts import (
    busy_calendar,
    new_forecast_row,
    state_of,
    store_state,
)
from replenish.settings import Settings

__all__ = ["REFOLD_CHUNK", "RefreshResult", "refresh_forecasts"]

REFOLD_CHUNK = 2_000


@dataclass(frozen=True)
class RefreshResult:
    refolded: int
    forecast: int
    without_level: int
    without_household: int = 0


_STATE_COLUMNS = ("capacity", "prior_mean", "prior_sd", "eta", "lam", "t_ref", "level",
                  "level_var", "level_at", "pending_at", "pending_y", "pending_var",
                  "pending_z", "intervals")


def refresh_forecasts(
    *, session: Session, shop: Shop, now: datetime, settings: Settings, chunk: int = 50_000,
    tank_ids: Sequence[int] | None = None,
) -> RefreshResult:
    """Tonight's forecast for every tank of ``shop`` as of ``now``; with ``tank_ids``, for
    those tanks only (what a courier's record changed, seen at once rather than tonight)."""
    assert shop.id is not None
    as_of = now.astimezone(ZoneInfo(shop.timezone)).date()
    _mark_household_changes_due(session, shop_id=shop.id, today=as_of, only=tank_ids)
    refolded, without_household = _refold_stale(session, shop=shop, settings=settings, now=now,
                                                 only=tank_ids)
    held = _customers_with_holds(session, shop_id=shop.id, after=as_of)
    busy = busy_calendar(shop=shop, settings=settings, as_of=as_of)
    done = without = 0
    products = select(Product).where(Product.shop_id == shop.id)
    if tank_ids is not None:  # only the products of those tanks
        products = products.where(col(Product.id).in_(
            select(Tank.product_id).where(col(Tank.id).in_(list(tank_ids)))))
    for product in session.exec(products).all():
        after = -1
        while after is not None:
            chunk_done, chunk_without, after = _refresh_chunk(
                session, shop=shop, product=product, now=now, settings=settings,
                held=held, after=after, limit=chunk, only=tank_ids, busy=busy)
            done += chunk_done
            without += chunk_without
    session.flush()
    session.expire_all()  # the bulk UPDATEs bypassed the objects this session holds
    return RefreshResult(refolded=refolded, forecast=done, without_level=without,
                         without_household=without_household)


# --- 1. household changes dated ahead ---------------------------------------------------


def _mark_household_changes_due(session: Session, *, shop_id: int, today: date,
                                only: Sequence[int] | None = None) -> None:
    """A change effective after the last refresh and by today: refold those tanks (of
    ``only``, when given)."""
    t, h = TankForecast.__table__, HouseholdChange.__table__
    due = (sa.select(h.c.customer_id)
           .where(h.c.shop_id == shop_id, h.c.effective_date <= today,
                  h.c.customer_id == t.c.customer_id,
                  sa.or_(t.c.as_of.is_(None), h.c.effective_date > t.c.as_of))
           .exists())
    statement = sa.update(t).where(t.c.shop_id == shop_id, ~t.c.stale, due)
    if only is not None:
        statement = statement.where(t.c.tank_id.in_(list(only)))
    session.execute(statement.values(stale=True))


# --- 2. refolding stale tanks in bulk ----------------------------------------------------


def _refold_stale(session: Session, *, shop: Shop, settings: Settings,
                  now: datetime, only: Sequence[int] | None = None) -> tuple[int, int]:
    t = TankForecast.__table__
    statement = (
        sa.select(Tank.__table__.c.id)
        .select_from(Tank.__table__.outerjoin(t, t.c.tank_id == Tank.__table__.c.id))
        .where(Tank.__table__.c.shop_id == shop.id,
               sa.or_(t.c.tank_id.is_(None), t.c.stale))
        .order_by(Tank.__table__.c.id))
    if only is not None:
        statement = statement.where(Tank.__table__.c.id.in_(list(only)))
    stale_ids = session.execute(statement).scalars().all()
    products = {p.id: p for p in session.exec(select(Product).where(Product.shop_id == shop.id))}
    done = missing = 0
    for start in range(0, len(stale_ids), REFOLD_CHUNK):
        ids = list(stale_ids[start:start + REFOLD_CHUNK])
        d, m = _refold_chunk(session, shop=shop, tank_ids=ids, products=products,
                             settings=settings, now=now)
        done, missing = done + d, missing + m
    return done, missing


def _refold_chunk(session: Session, *, shop: Shop, tank_ids: list[int],
                  products: dict[int | None, Product], settings: Settings,
                  now: datetime) -> tuple[int, int]:
    tz = ZoneInfo(shop.timezone)
    params = core_params(settings)
    tanks = session.exec(select(Tank).where(col(Tank.id).in_(tank_ids))).all()
    customers = sorted({tank.customer_id for tank in tanks})
    share: dict[tuple[int, int], int] = defaultdict(int)
    for customer_id, product_id in session.execute(
            sa.select(Tank.__table__.c.customer_id, Tank.__table__.c.product_id)
            .where(Tank.__table__.c.customer_id.in_(customers))):
        share[(customer_id, product_id)] += 1
    households = _grouped(session, HouseholdChange, "customer_id", customers,
                          order=("effective_date", "id"))
    holds = _grouped(session, Hold, "customer_id", customers)
    readings = _grouped(session, Reading, "tank_id", tank_ids)
    visits = _grouped(session, Drop, "tank_id", tank_ids,  # delivered, or nobody home
                      where=Drop.__table__.c.status.in_(
                          (DropStatus.DELIVERED.value, DropStatus.NOT_HOME.value)))
    existing = {row.tank_id: row for row in session.exec(
        select(TankForecast).where(col(TankForecast.tank_id).in_(tank_ids)))}
    done = missing = 0
    for tank in tanks:
        product = products[tank.product_id]
        try:
            history = build_history(
                tank=tank, product=product, households=households.get(tank.customer_id, []),
                readings=readings.get(tank.id, []),
                drops=[d for d in visits.get(tank.id, []) if d.status == DropStatus.DELIVERED],
                not_home=[d for d in visits.get(tank.id, []) if d.status == DropStatus.NOT_HOME],
                holds=holds.get(tank.customer_id, []),
                share=share[(tank.customer_id, tank.product_id)], tz=tz, settings=settings,
                until=now)
        except ValueError:
            missing += 1  # no household on file: nothing to start from
            continue
        state = fold(start_state(history.prior, capacity=history.capacity), history.events,
                     params=params, holds=history.holds)
        row = existing.get(tank.id) or new_forecast_row(
            tank=tank, product=product, capacity=history.capacity,
            prior_mean=history.prior.mean, prior_sd=history.prior.sd)
        store_state(row, state)
        row.stale = False
        session.add(row)
        done += 1
    session.flush()
    for obj in (*tanks, *existing.values()):  # keep the identity map from growing
        if obj in session:
            session.expunge(obj)
    return done, missing


def _grouped(session: Session, model: Any, key: str, ids: list[int], *,
             order: tuple[str, ...] = ("id",), where: Any = None) -> dict[int, list[Any]]:
    """Rows of ``model`` whose ``key`` is in ``ids``, as plain rows grouped by key (read
    through the columns' types: aware UTC times, enums as enums)."""
    table = model.__table__
    statement = sa.select(table).where(table.c[key].in_(ids))
    if where is not None:
        statement = statement.where(where)
    statement = statement.order_by(*(table.c[name] for name in order))
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(statement):
        grouped[row._mapping[key]].append(row)  # a Row: attributes by column name
    return grouped


# --- 3. tonight's answers ----------------------------------------------------------------


def _refresh_chunk(
    session: Session, *, shop: Shop, product: Product, now: datetime, settings: Settings,
    held: set[int], after: int, limit: int, only: Sequence[int] | None = None,
    busy: Sequence[tuple[datetime, datetime, float]] = (),
) -> tuple[int, int, int | None]:
    """Forecast up to ``limit`` tanks with ids above ``after``; returns the next ``after``
    (None when this was the last chunk).

    Tanks go through the vectorised ``forecast_many``, except those of customers with
    holds (``forecast``, one by one); both count busy days (``busy``)."""
    t = TankForecast.__table__
    tz = ZoneInfo(shop.timezone)
    params = core_params(settings)
    as_of = now.astimezone(tz).date()
    statement = (
        sa.select(t.c.tank_id, t.c.customer_id, *(t.c[name] for name in _STATE_COLUMNS))
        .where(t.c.shop_id == shop.id, t.c.product_id == product.id, t.c.tank_id > after)
        .order_by(t.c.tank_id)
        .limit(limit))
    if only is not None:
        statement = statement.where(t.c.tank_id.in_(list(only)))
    rows = session.execute(statement).all()
    if not rows:
        return 0, 0, None
    data = np.array([r[2:] for r in rows], dtype=np.float64)  # None -> nan
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    customers = np.array([r[1] for r in rows], dtype=np.int64)
    has_level = ~np.isnan(data[:, _STATE_COLUMNS.index("level_at")])
    scalar = has_level & np.isin(customers, np.fromiter(held, dtype=np.int64, count=len(held)))
    batch = has_level & ~scalar
    values = _Values(sqlite=session.connection().dialect.name == "sqlite")
    updates: list[tuple[Any, ...]] = []
    one_by_one = ids[scalar]
    if batch.any():
        arrays = StateArrays(**{name: data[batch, i] for i, name in enumerate(_STATE_COLUMNS)})
        out = forecast_many(arrays, now=now, tz=tz, bag_sizes=product.bag_sizes,
                            min_drop=product.min_drop, params=params,
                            delivery_by=shop.close_time, busy=busy)
        updates.extend(_batch_updates(ids[batch], out, tz, as_of, now, values))
    for tank_id in one_by_one:
        row = session.get(TankForecast, int(tank_id))
        assert row is not None
        holds = session.exec(select(Hold).where(Hold.customer_id == row.customer_id)).all() \
            if row.customer_id in held else []
        one = forecast(state_of(row), now=now, tz=tz, bag_sizes=product.bag_sizes,
                       min_drop=product.min_drop, params=params,
                       holds=no_consumption_periods(holds, tz),
                       no_delivery=no_delivery_ranges(holds), delivery_by=shop.close_time,
                       busy=busy)
        updates.append(_scalar_update(int(tank_id), one, as_of, now, values))
    if updates:
        _write_answers(session, updates)
    next_after = int(ids[-1]) if len(rows) == limit else None
    return len(updates), int((~has_level).sum()), next_after


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


def _write_answers(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """UPDATE the answers with one executemany on the driver (the nightly's hot path)."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f"{name} = {mark}" for name in _ANSWER)
    conn.exec_driver_sql(f"UPDATE tank_forecasts SET {sets} WHERE tank_id = {mark}", rows)
