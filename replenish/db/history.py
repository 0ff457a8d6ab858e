"""A tank's history as the forecast engine sees it: rows -> core events.

The only place that knows both the tables and ``replenish.core``: measurement
errors by reading source, local dates -> UTC moments in the shop's zone, holds ->
no-consumption periods and no-delivery dates, household rows -> priors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from replenish.core.consumption import (
    DropEvent,
    Event,
    ForecastParams,
    HouseholdEvent,
    NotHomeEvent,
    ReadingEvent,
)
from replenish.core.household import Household, Prior, prior_rate
from replenish.core.tank import TankGeometry
from replenish.core.types import DropStatus, HoldKind, MemberKind, ReadingSource
from replenish.db.models import Drop, Hold, HouseholdChange, Product, Reading, Shop, Tank
from replenish.settings import Settings

__all__ = [
    "TankHistory",
    "capacity_of",
    "core_params",
    "geometry_of",
    "build_history",
    "load_history",
    "local_moment",
    "no_consumption_periods",
    "no_delivery_ranges",
    "reading_error",
]

NOON = time(12, 0)


def core_params(settings: Settings) -> ForecastParams:
    """The ``[forecast]`` settings as the core's parameters."""
    f = settings.forecast
    return ForecastParams(
        risk=f.risk,
        first_risk=f.first_risk,
        half_life_days=f.half_life_days,
        prior_cv=f.prior_cv,
        daily_cv=f.daily_cv,
        outlier_z=f.outlier_z,
        slow_outlier_z=f.slow_outlier_z,
        household_discount=f.household_discount,
        change_discount=f.change_discount,
        lift_spread=f.lift_spread,
        learn=f.learn,
    )


def geometry_of(tank: Tank) -> TankGeometry:
    return TankGeometry(
        tank.shape,
        diameter_cm=tank.diameter_cm,
        width_cm=tank.width_cm,
        depth_cm=tank.depth_cm,
        height_cm=tank.height_cm,
        capacity_units=tank.capacity,
    )


def capacity_of(tank: Tank, product: Product) -> float:
    return geometry_of(tank).capacity(units_per_litre=product.units_per_litre)


def reading_error(source: ReadingSource, capacity: float, settings: Settings) -> float:
    """How far off a reading from ``source`` may be (one sd, product units)."""
    fraction = getattr(settings.forecast.measurement_error, source.value)
    return float(fraction) * capacity


def local_moment(day: date, tz: ZoneInfo, at: time = time(0, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def household_prior(row: Any, product: Product, *, cv: float, share: int = 1) -> Prior:
    """The prior for one tank: the household's use, split over ``share`` tanks of the product."""
    per_person = {
        MemberKind.ADULT: product.prior_adult,
        MemberKind.CHILD: product.prior_child,
        MemberKind.ELDER: product.prior_elder,
    }
    household = Household(
        adults=row.adults, children=row.children, elders=row.elders, eats_at_home=row.eats_at_home
    )
    prior = prior_rate(household, per_person, cv=cv)
    return Prior(prior.mean / share, prior.sd / share) if share > 1 else prior


def no_consumption_periods(holds: Sequence[Any], tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Away and no-consumption holds as UTC periods (whole local days)."""
    return [
        (local_moment(h.start_date, tz), local_moment(h.end_date + timedelta(days=1), tz))
        for h in holds
        if h.kind in (HoldKind.AWAY, HoldKind.NO_CONSUMPTION)
    ]


def no_delivery_ranges(holds: Sequence[Any]) -> list[tuple[date, date]]:
    """Away and no-delivery holds as inclusive local date ranges."""
    return [
        (h.start_date, h.end_date) for h in holds if h.kind in (HoldKind.AWAY, HoldKind.NO_DELIVERY)
    ]


def _reading_level(reading: Any, geometry: TankGeometry, product: Product) -> float:
    """A tape reading through the tank's geometry as it is now (a re-measured tank
    re-reads its old depths); an amount as it was typed."""
    if reading.depth_cm is None or geometry.height_cm is None:
        return reading.level
    depth = min(reading.depth_cm, geometry.height_cm)
    return geometry.level_from_depth(depth, units_per_litre=product.units_per_litre)


@dataclass(frozen=True)
class TankHistory:
    """What the engine needs to fold one tank from scratch."""

    capacity: float
    prior: Prior
    events: list[Event]
    holds: list[tuple[datetime, datetime]]
    no_delivery: list[tuple[date, date]]


def drop_moment(drop: Any, tz: ZoneInfo) -> datetime:
    """When a drop was poured: its recorded time, else noon on its day."""
    return drop.at if drop.at is not None else local_moment(drop.delivered_on, tz, NOON)


def build_history(
    *,
    tank: Tank,
    product: Product,
    households: Sequence[Any],
    readings: Iterable[Any],
    drops: Iterable[Any],
    holds: Sequence[Any],
    share: int,
    tz: ZoneInfo,
    settings: Settings,
    until: datetime | None = None,
    not_home: Iterable[Any] = (),
) -> TankHistory:
    """A tank's history from its rows (ORM objects or plain rows with the same fields).

    ``households`` in effective order; ``drops`` only the delivered ones, ``not_home``
    the drops whose courier found nobody home; ``share`` is how many of the customer's
    tanks hold this product. Raises ValueError without a household.
    """
    if not households:
        raise ValueError(f"customer {tank.customer_id} has no household on file")
    cap = capacity_of(tank, product)
    cv = settings.forecast.prior_cv
    events: list[Event] = [
        HouseholdEvent(local_moment(row.effective_date, tz),
                       household_prior(row, product, cv=cv, share=share))
        for row in households[1:]
    ]
    geometry = geometry_of(tank)
    for reading in readings:
        level = _reading_level(reading, geometry, product)
        events.append(ReadingEvent(reading.at, level, reading_error(reading.source, cap, settings)))
    courier_error = reading_error(ReadingSource.COURIER, cap, settings)
    events.extend(
        DropEvent(drop_moment(drop, tz), drop.quantity, drop.level_before, drop.level_after,
                  courier_error)
        for drop in drops
    )
    events.extend(NotHomeEvent(drop_moment(drop, tz)) for drop in not_home)
    if until is not None:
        events = [e for e in events if e.at <= until]
    return TankHistory(
        capacity=cap,
        prior=household_prior(households[0], product, cv=cv, share=share),
        events=events,
        holds=no_consumption_periods(holds, tz),
        no_delivery=no_delivery_ranges(holds),
    )


def load_history(
    *,
    session: Session,
    shop: Shop,
    tank: Tank,
    product: Product,
    settings: Settings,
    until: datetime | None = None,
) -> TankHistory:
    """Every event of ``tank`` (up to ``until``), ready for ``core.consumption.fold``.

    Raises ValueError when the customer has no household on file.
    """
    # filter by product in Python: on a one-product shop an index on product_id matches
    # every tank, and SQLite may pick it over the customer's index
    products = session.exec(select(Tank.product_id).where(Tank.customer_id == tank.customer_id))
    share = sum(1 for p in products if p == tank.product_id) or 1
    households = session.exec(
        select(HouseholdChange)
        .where(HouseholdChange.customer_id == tank.customer_id)
        .order_by(col(HouseholdChange.effective_date), col(HouseholdChange.id))
    ).all()
    readings = session.exec(select(Reading).where(Reading.tank_id == tank.id)).all()
    drops = session.exec(
        select(Drop).where(Drop.tank_id == tank.id, col(Drop.status).in_(
            (DropStatus.DELIVERED, DropStatus.NOT_HOME)))
    ).all()
    holds = session.exec(select(Hold).where(Hold.customer_id == tank.customer_id)).all()
    return build_history(tank=tank, product=product, households=households, readings=readings,
                         drops=[d for d in drops if d.status is DropStatus.DELIVERED],
                         not_home=[d for d in drops if d.status is DropStatus.NOT_HOME],
                         holds=holds, share=share, tz=ZoneInfo(shop.timezone),
                         settings=settings, until=until)
