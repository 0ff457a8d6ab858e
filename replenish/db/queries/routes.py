"""A day's routes in the database: booked drops become a routing problem, a plan
becomes rows, and a courier's record of each stop becomes a drop, a reading and a
lesson for the forecast.

* ``day_input``: the day's planned drops (with their customers' places, time windows,
  usual courier and urgency), the working couriers and the shop as the depot. Drops that
  cannot be routed at all (no location) are set aside with the reason.
* ``save_plan``: replaces the day's plan, unless a courier has already recorded a stop.
* ``route_sheet``: one route's stops in order, with what the courier needs at each door.
* ``complete_stop``: a courier's submission, recorded once per ``submission_key``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from replenish.conversation.rules import loyalty_count
from replenish.core.types import DropStatus
from replenish.core.urgency import runout_chance
from replenish.db.models import (
    Courier,
    Customer,
    Drop,
    Product,
    Route,
    RoutePlan,
    RouteStop,
    Shop,
    StopStatus,
    Tank,
    TankForecast,
)
from replenish.db.queries.door import (
    days_away,
    expected_at_door,
    hold_days_away,
    last_level_at,
    missed_visits,
)
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.records import complete_drop
from replenish.db.queries.shop_values import format_time_windows
from replenish.db.values import TimeWindow as TimeWindowValue
from replenish.routing import Courier as RouteCourier
from replenish.routing import DayPlan, DayProblem, Depot, Stop, TimeWindow
from replenish.settings import Settings

__all__ = ["DayInput", "StopLine", "complete_stop", "day_input", "learned_service_many",
           "learned_service_s", "route_sheet", "save_plan", "window_on"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LEARN_FROM = 10  # a customer's last this many recorded stops


@dataclass(frozen=True)
class DayInput:
    """The routing problem for a shop and day, and what could not go into it."""

    problem: DayProblem
    set_aside: list[dict[str, Any]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # customer id -> name


def window_on(windows: Sequence[dict[str, str]], day: date,
              tz: ZoneInfo) -> TimeWindow | None | str:
    """The customer's window on ``day``: hard where the customer asked for it, soft where
    it is a wish (``prefer``); None when any time will do; a reason (str) when the
    customer takes no drops that day (only hard windows, none on that weekday)."""
    parsed = [TimeWindowValue.model_validate(w) for w in windows]
    if not parsed:
        return None
    today = sorted((w for w in parsed if day.weekday() in w.weekdays), key=lambda w: w.start)
    if not today:
        if all(w.prefer for w in parsed):
            return None  # only wishes, none for this day: any time
        return (f"no time window on {_DAYS[day.weekday()]} (the customer said: "
                f"{format_time_windows(windows)})")
    first = today[0]  # the solver takes one window per stop
    return TimeWindow(datetime.combine(day, first.start, tz),
                      datetime.combine(day, first.end, tz), hard=not first.prefer)


def learned_service_s(session: Session, customer_id: int, default: int) -> int:
    """Seconds at this customer's door: from the last recorded stops (the time between
    two recorded stops less the planned drive), else ``default``."""
    return learned_service_many(session, [customer_id], default)[customer_id]


def learned_service_many(session: Session, customer_ids: Sequence[int],
                         default: int) -> dict[int, int]:
    """``learned_service_s`` for each of ``customer_ids``, in one query."""
    spans: dict[int, list[float]] = {c: [] for c in customer_ids}
    seen: dict[int, int] = dict.fromkeys(customer_ids, 0)
    if customer_ids:
        before = aliased(RouteStop)
        rows = session.exec(
            select(RouteStop.customer_id, RouteStop.completed_at, RouteStop.travel_s,
                   before.completed_at)
            .outerjoin(before, and_(col(before.route_id) == col(RouteStop.route_id),
                                    col(before.seq) == col(RouteStop.seq) - 1))
            .where(col(RouteStop.customer_id).in_(customer_ids),
                   col(RouteStop.completed_at).is_not(None), RouteStop.seq > 1)
            .order_by(col(RouteStop.customer_id), col(RouteStop.completed_at).desc(),
                      col(RouteStop.id).desc())).all()
        for customer_id, done, travel_s, done_before in rows:
            if seen[customer_id] >= _LEARN_FROM:  # the last this many stops only
                continue
            seen[customer_id] += 1
            if done_before is None:  # the stop before it is not recorded
                continue
            span = (done - done_before).total_seconds() - travel_s
            if 30 <= span <= 3600:  # a lunch break or a forgotten form says nothing
                spans[customer_id].append(span)
    return {c: round(statistics.median(s)) if s else default for c, s in spans.items()}


def day_input(*, session: Session, shop: Shop, day: date, settings: Settings) -> DayInput:
    """The routing problem for ``day``: its planned drops, working couriers, the shop."""
    if shop.lat is None or shop.lon is None:
        raise ValueError("the shop's location is not set, and every route starts there: "
                         "run `replenish shop edit --lat 22.99 --lon 120.21` with yours")
    tz = ZoneInfo(shop.timezone)
    depot = Depot(shop.lat, shop.lon, opens=datetime.combine(day, shop.open_time, tz),
                  closes=datetime.combine(day, shop.close_time, tz))
    couriers = tuple(
        RouteCourier(c.id or 0, c.name, c.capacity, datetime.combine(day, c.shift_start, tz),
                     datetime.combine(day, c.shift_end, tz), max_reloads=c.max_reloads)
        for c in session.exec(select(Courier).where(Courier.shop_id == shop.id,
                                                    col(Courier.active).is_(True))
                              .order_by(col(Courier.id))))
    rows = session.exec(
        select(Drop, Customer, TankForecast)
        .join(Tank, col(Tank.id) == col(Drop.tank_id))
        .join(Customer, col(Customer.id) == col(Tank.customer_id))
        .outerjoin(TankForecast, col(TankForecast.tank_id) == col(Tank.id))
        .where(Drop.shop_id == shop.id, Drop.delivered_on == day,
               Drop.status == DropStatus.PLANNED)
        .order_by(col(Drop.id))).all()
    stops: list[Stop] = []
    set_aside: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    working = {c.id for c in couriers}
    service_s = learned_service_many(
        session, sorted({customer.id or 0 for _, customer, _ in rows}),
        settings.routing.default_service_seconds)
    for drop, customer, forecast in rows:
        assert drop.id is not None and customer.id is not None
        names[customer.id] = customer.name
        urgency = 0.5
        if forecast is not None and forecast.runout_p50 is not None:
            urgency = runout_chance(day + timedelta(days=1), p10=forecast.runout_p10,
                                    p50=forecast.runout_p50, p90=forecast.runout_p90)
        aside = {"drop_id": drop.id, "customer_id": customer.id, "customer": customer.name,
                 "quantity": drop.quantity, "urgency": round(urgency, 3)}
        if customer.lat is None or customer.lon is None:
            set_aside.append(aside | {"reason": "no location: set the customer's --lat and "
                                                "--lon (`replenish customer edit`)"})
            continue
        window = window_on(customer.time_windows, day, tz)
        if isinstance(window, str):
            set_aside.append(aside | {"reason": window})
            continue
        stops.append(Stop(
            id=drop.id, customer_id=customer.id, lat=customer.lat, lon=customer.lon,
            quantity=drop.quantity, window=window, urgency=urgency,
            mandatory=urgency >= settings.routing.must_serve_risk,
            service_s=service_s[customer.id],
            preferred_courier_id=customer.courier_id if customer.courier_id in working
            else None))
    return DayInput(DayProblem(depot, couriers, tuple(stops)), set_aside, names)


def save_plan(*, session: Session, shop: Shop, day: date, day_in: DayInput, plan: DayPlan,
              now: datetime, consolidation: dict[str, Any] | None = None) -> RoutePlan:
    """Store the day's plan in place of any earlier one (flush, no commit).

    Refuses (ValueError) once a courier has recorded a stop of that day: the routes are
    under way, and building them again would lose track of what was done. Two builds of
    one shop at once take turns (the shop's row is locked; SQLite's writer lock does the
    same), so the second replaces the first. A drop that stopped being planned while the
    solver ran (a customer's "skip", a courier's record) is left off the routes and
    listed with the reason.
    """
    session.exec(select(Shop.id).where(Shop.id == shop.id).with_for_update()).one()
    earlier = session.exec(select(RoutePlan).where(RoutePlan.shop_id == shop.id,
                                                   RoutePlan.day == day)).first()
    if earlier is not None:
        started = session.exec(
            select(RouteStop).join(Route, col(Route.id) == col(RouteStop.route_id))
            .where(Route.plan_id == earlier.id, RouteStop.status != StopStatus.PENDING)
        ).first()
        if started is not None:
            raise ValueError(f"the routes of {day} are under way (stop {started.id} is "
                             f"recorded as {started.status.value}); they are not rebuilt")
        route_ids = session.exec(select(Route.id).where(Route.plan_id == earlier.id)).all()
        session.exec(delete(RouteStop).where(col(RouteStop.route_id).in_(route_ids)))
        session.exec(delete(Route).where(col(Route.plan_id) == earlier.id))
        session.delete(earlier)
        session.flush()
    names = day_in.names
    unplanned = [{"drop_id": u.stop_id, "customer_id": u.customer_id,
                  "customer": names.get(u.customer_id, ""), "quantity": u.quantity,
                  "urgency": round(u.urgency, 3), "reason": u.reason.value}
                 for u in plan.unplanned]
    solved = [s.stop_id for r in plan.routes for s in r.stops]
    status = dict(session.exec(select(Drop.id, Drop.status).where(
        col(Drop.id).in_(solved)).with_for_update()).all()) if solved else {}
    gone = {i for i in solved if status.get(i) is not DropStatus.PLANNED}
    urgency = {s.id: s.urgency for s in day_in.problem.stops}
    for r in plan.routes:
        for s in r.stops:
            if s.stop_id in gone:
                now_is = status.get(s.stop_id)
                unplanned.append({
                    "drop_id": s.stop_id, "customer_id": s.customer_id,
                    "customer": names.get(s.customer_id, ""), "quantity": s.quantity,
                    "urgency": round(urgency.get(s.stop_id, 0.0), 3),
                    "reason": f"{now_is.value if now_is else 'removed'} while the routes "
                              "were built"})
    unplanned = sorted([*unplanned, *day_in.set_aside], key=lambda u: -u["urgency"])
    row = RoutePlan(shop_id=shop.id or 0, day=day, built_at=now, km=round(plan.km, 2),
                    duration_s=sum(r.duration_s for r in plan.routes),
                    planned=plan.planned_count - len(gone), unplanned=unplanned,
                    warnings=list(plan.warnings), consolidation=consolidation or {},
                    solver_seconds=round(plan.runtime_s, 2))
    session.add(row)
    session.flush()
    for courier_route in plan.routes:
        kept = [stop for stop in courier_route.stops if stop.stop_id not in gone]
        if not kept:
            continue
        route = Route(shop_id=shop.id or 0, plan_id=row.id or 0,
                      courier_id=courier_route.courier_id, day=day,
                      km=round(courier_route.km, 2), duration_s=courier_route.duration_s,
                      load=sum(stop.quantity for stop in kept),
                      starts_at=courier_route.leaves, ends_at=courier_route.returns)
        session.add(route)
        session.flush()
        previous = courier_route.leaves
        for seq, stop in enumerate(kept, start=1):
            drop = session.get(Drop, stop.stop_id)
            assert drop is not None
            drop.courier_id = courier_route.courier_id
            session.add(drop)
            session.add(RouteStop(
                shop_id=shop.id or 0, route_id=route.id or 0, drop_id=stop.stop_id,
                customer_id=stop.customer_id, seq=seq, arrive_at=stop.arrival,
                travel_s=round((stop.arrival - previous).total_seconds()) if previous else 0,
                service_s=int((stop.departure - stop.service_start).total_seconds()),
                quantity=stop.quantity))
            previous = stop.departure
    session.flush()
    return row


@dataclass(frozen=True)
class StopLine:
    """One door on a courier's sheet."""

    stop: RouteStop
    customer: Customer
    drop: Drop
    tank: Tank
    product: Product
    loyalty_free: bool
    expected: float | None = None  # the level the forecast expects at the door (units)
    since: date | None = None  # the last level's day: "were you away since then?"
    missed: tuple[date, ...] = ()  # days since then a visit found nobody home: ask


def route_sheet(*, session: Session, route: Route, settings: Settings) -> list[StopLine]:
    """The route's stops in driving order, with the customer, drop, tank and product,
    whether this drop is the customer's free one (loyalty), and, for the stops still to
    do, the level the forecast expects at the door and the day of the tank's last level
    (a tank much fuller than expected: ask how many days they were away since then),
    with the days since then on which a visit found nobody home (ask then too)."""
    rows = session.exec(
        select(RouteStop, Customer, Drop, Tank, Product, TankForecast)
        .join(Customer, col(Customer.id) == col(RouteStop.customer_id))
        .join(Drop, col(Drop.id) == col(RouteStop.drop_id))
        .join(Tank, col(Tank.id) == col(Drop.tank_id))
        .join(Product, col(Product.id) == col(Tank.product_id))
        .join(TankForecast, col(TankForecast.tank_id) == col(Tank.id), isouter=True)
        .where(RouteStop.route_id == route.id).order_by(col(RouteStop.seq))).all()
    shop = session.get(Shop, route.shop_id)
    assert shop is not None
    tz = ZoneInfo(shop.timezone)
    day_starts = datetime.combine(route.day, time(0), tz)
    lines = []
    for stop, customer, drop, tank, product, forecast in rows:
        pending = stop.status is StopStatus.PENDING
        level_at = last_level_at(session, tank, day_starts, tz) if pending else None
        lines.append(StopLine(
            stop, customer, drop, tank, product, pending and loyalty_count(
                session=session, customer_id=customer.id or 0, settings=settings) is not None,
            expected_at_door(forecast, stop.arrive_at) if pending else None,
            level_at.astimezone(tz).date() if level_at is not None else None,
            missed_visits(session, tank, level_at, route.day, tz)))
    return lines


def complete_stop(*, session: Session, stop: RouteStop, status: StopStatus, now: datetime,
                  settings: Settings, submission_key: str | None = None,
                  quantity: float | None = None, level_before: float | None = None,
                  depth_before_cm: float | None = None, note: str = "",
                  away_days: int | None = None) -> RouteStop:
    """Record what the courier did at a door (flush, no commit).

    Delivered: the drop is recorded as poured (the amount, the level found before, as an
    amount or a depth converted through the tank), and the forecast learns from it. Not
    at home or refused: the drop is closed so; the next nightly plan asks again. A retry
    of the same submission (same ``submission_key``) returns the stop as recorded.
    ``away_days`` (delivered or refused: someone was at the door to ask): the days the
    family says it was away since the tank's last level, held (``door``) and the
    household's tanks refolded, so that a trip nobody
    told the shop of is not learned as slow eating.
    """
    if submission_key is not None:
        done = session.exec(select(RouteStop).where(
            RouteStop.submission_key == submission_key)).first()
        if done is not None:
            if done.id != stop.id:
                raise ValueError("this submission was already recorded for another stop")
            return done
    if status is StopStatus.PENDING:
        raise ValueError("status must be delivered, not-home or refused")
    if stop.status is not StopStatus.PENDING:
        raise ValueError(f"stop {stop.seq} is already recorded as {stop.status.value}")
    drop = session.get(Drop, stop.drop_id)
    assert drop is not None
    tank = session.get(Tank, drop.tank_id)
    assert tank is not None
    product = session.get(Product, tank.product_id)
    assert product is not None
    route = session.get(Route, stop.route_id)
    if away_days and status is StopStatus.NOT_HOME:
        raise ValueError("days away: nobody was home to ask; leave it empty")
    away = days_away(session, tank, away_days, now) if away_days else []  # checked first
    complete_drop(session=session, drop=drop, tank=tank, product=product,
                  status=DropStatus(status.value), settings=settings, at=now,
                  quantity=quantity, level_before=level_before,
                  depth_before_cm=depth_before_cm,
                  courier_id=route.courier_id if route else None, note=note, now=now)
    stop.status, stop.completed_at = status, now
    stop.submission_key, stop.note = submission_key, note
    if quantity is not None and status is StopStatus.DELIVERED:
        stop.quantity = quantity
    session.add(stop)
    session.flush()
    shop = session.get(Shop, stop.shop_id)
    assert shop is not None
    tank_ids = [tank.id or 0]
    if away:  # held once the drop is recorded; every tank of the household is refolded
        hold_days_away(session, tank, away, away_days or 0,
                       now.astimezone(ZoneInfo(shop.timezone)).date())
        tank_ids = [t for t in session.exec(select(Tank.id).where(
            Tank.customer_id == tank.customer_id)).all() if t is not None]
    # the owner sees the new level and dates now, not after tonight's refresh
    refresh_forecasts(session=session, shop=shop, now=now, settings=settings,
                      tank_ids=tank_ids)
    refreshed = session.get(RouteStop, stop.id)
    assert refreshed is not None
    return refreshed
