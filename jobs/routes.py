"""The routes' timed jobs, each thin: load -> solve -> save -> send.

* ``build_routes`` (17:00): tomorrow's routes for every shop. The day's drops are read
  in one transaction, solved with no transaction open (the solver thinks for
  ``routing.time_limit_seconds``), and saved in another.
* ``courier_morning`` (07:00): drops booked after the evening build (a late YES) are
  routed first (today is built again, unless a stop is already recorded); then each
  courier with a route today gets its signed link by text, once (idempotency key
  ``courier-link:<route>``).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from replenish.conversation.consolidate import consolidate
from replenish.conversation.texts import format_day
from replenish.core.texting import render
from replenish.core.types import DropStatus
from replenish.db import shared_engine
from replenish.db.models import (
    Courier,
    Drop,
    MessageKind,
    Route,
    RoutePlan,
    RouteStop,
    Shop,
    StopStatus,
)
from replenish.db.queries.messages import queue_message
from replenish.db.queries.routes import DayInput, day_input, save_plan
from replenish.db.queries.secrets import signing_key
from replenish.routing import DayPlan, RouteParams, distance_source, plan_routes
from replenish.settings import Settings
from replenish.web.links import RouteLink, sign_link

__all__ = ["BuildResult", "LinkResult", "build_day", "build_routes", "courier_morning",
           "route_url"]


@dataclass(frozen=True)
class BuildResult:
    day: date
    planned: int = 0
    unplanned: int = 0
    routes: int = 0
    km: float = 0.0
    problem: str = ""  # why nothing was built (the shop has no location...)
    added: int = 0  # neighbours booked onto the day by consolidation (auto)
    prompted: int = 0  # neighbours asked whether they want the day (confirm)


@dataclass(frozen=True)
class LinkResult:
    links: int = 0


def solve(day_in: DayInput, settings: Settings) -> DayPlan:
    """The day's plan from the settings' distances and solver budget."""
    r = settings.routing
    source = distance_source(osrm_url=r.osrm_url or None, detour_factor=r.detour_factor,
                             speed_kmh=r.speed_kmh, timeout_s=r.osrm_timeout_seconds)
    params = RouteParams(default_service_s=r.default_service_seconds,
                         preferred_courier_penalty_m=r.preferred_courier_penalty_m,
                         soft_window_penalty_m_per_hour=r.soft_window_penalty_m_per_hour)
    return plan_routes(day_in.problem, source, params=params,
                       time_limit_s=r.time_limit_seconds, seed=r.seed,
                       max_iterations=r.max_iterations or None)


def build_day(*, database_url: str, shop_id: int, day: date, now: datetime,
              settings: Settings) -> BuildResult:
    """Build and save one shop's routes for ``day``: first offer the day to the booked
    customers' neighbours (``consolidate``; committed, so that auto customers it adds are
    routed), then read, solve and save it."""
    engine = shared_engine(database_url)
    report: dict[str, Any] | None = None
    added = prompted = 0
    if settings.routing.consolidate_days > 0:
        with Session(engine) as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None
            offered = consolidate(session=session, shop=shop, day=day, now=now,
                                  settings=settings)
            earlier = session.exec(select(RoutePlan.consolidation).where(
                RoutePlan.shop_id == shop_id, RoutePlan.day == day)).first()
            report = offered.report(earlier)
            added, prompted = len(offered.added), len(offered.prompted)
            session.commit()
    with Session(engine) as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        try:
            day_in = day_input(session=session, shop=shop, day=day, settings=settings)
        except ValueError as error:
            return BuildResult(day, problem=str(error), added=added, prompted=prompted)
    plan = solve(day_in, settings)
    with Session(engine) as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        row = save_plan(session=session, shop=shop, day=day, day_in=day_in, plan=plan, now=now,
                        consolidation=report)
        session.commit()
        return BuildResult(day, planned=row.planned, unplanned=len(row.unplanned),
                           routes=sum(1 for r in plan.routes if not r.is_empty),
                           km=round(row.km, 1), added=added, prompted=prompted)


def build_routes(*, database_url: str, now: datetime, settings: Settings) -> dict[int, Any]:
    """Tomorrow's routes (in each shop's zone) for every shop."""
    engine = shared_engine(database_url)
    with Session(engine) as session:
        shops = [(s.id, s.timezone) for s in session.exec(select(Shop).order_by(col(Shop.id)))]
    results: dict[int, Any] = {}
    for shop_id, timezone in shops:
        assert shop_id is not None
        tomorrow = now.astimezone(ZoneInfo(timezone)).date() + timedelta(days=1)
        try:
            results[shop_id] = build_day(database_url=database_url, shop_id=shop_id,
                                         day=tomorrow, now=now, settings=settings)
        except ValueError as error:  # under way already: keep what the couriers have
            results[shop_id] = BuildResult(tomorrow, problem=str(error))
    return results


def route_url(*, key: str, route: Route, now: datetime, settings: Settings) -> str:
    """The courier's signed link to ``route``, valid ``web.courier_link_hours``."""
    expires = now + timedelta(hours=settings.web.courier_link_hours)
    token = sign_link(RouteLink(route.id or 0, route.courier_id, expires), key=key)
    return f"{settings.web.base_url.rstrip('/')}/courier/{token}"


def _unrouted_today(engine: Any, shop_id: int, today: date) -> bool:
    """Drops booked for today that no route has (a YES that came after 17:00), while no
    courier has recorded a stop of today yet."""
    with Session(engine) as session:
        routed = select(RouteStop.drop_id)
        waiting = session.exec(select(Drop.id).where(
            Drop.shop_id == shop_id, Drop.delivered_on == today,
            Drop.status == DropStatus.PLANNED, col(Drop.id).not_in(routed))).first()
        started = session.exec(
            select(RouteStop.id).join(Route, col(Route.id) == col(RouteStop.route_id))
            .where(Route.shop_id == shop_id, Route.day == today,
                   RouteStop.status != StopStatus.PENDING)).first()
        return waiting is not None and started is None


def courier_morning(*, database_url: str, now: datetime, settings: Settings) -> dict[int, Any]:
    """Text every courier with a route today its link (once per route). Drops booked
    after the evening build (a late YES) are routed first, by building today again."""
    engine = shared_engine(database_url)
    key = signing_key(engine=engine, settings=settings)
    with Session(engine) as session:
        zones = [(s.id, s.timezone) for s in session.exec(select(Shop).order_by(col(Shop.id)))]
    for shop_id, timezone in zones:
        assert shop_id is not None
        today = now.astimezone(ZoneInfo(timezone)).date()
        if _unrouted_today(engine, shop_id, today):
            with suppress(ValueError):  # under way meanwhile: keep what the couriers have
                build_day(database_url=database_url, shop_id=shop_id, day=today, now=now,
                          settings=settings)
    results: dict[int, Any] = {}
    with Session(engine) as session:
        shops = session.exec(select(Shop).order_by(col(Shop.id))).all()
        for shop in shops:
            assert shop.id is not None
            today = now.astimezone(ZoneInfo(shop.timezone)).date()
            rows = session.exec(
                select(Route, Courier)
                .join(RoutePlan, col(RoutePlan.id) == col(Route.plan_id))
                .join(Courier, col(Courier.id) == col(Route.courier_id))
                .where(Route.shop_id == shop.id, Route.day == today,
                       col(Route.link_sent_at).is_(None))
                .order_by(col(Route.id))).all()
            sent = 0
            for route, courier in rows:
                url = route_url(key=key, route=route, now=now, settings=settings)
                count = len(session.exec(select(RouteStop.id).where(
                    RouteStop.route_id == route.id)).all())
                locale = shop.locale.value
                body = render(settings.conversation.template(locale, "courier_link"), {
                    "shop": shop.name, "name": courier.name, "day": format_day(today, locale),
                    "stops": count, "url": url})
                queue_message(session=session, shop_id=shop.id, to_phone=courier.phone,
                              body=body, kind=MessageKind.COURIER_LINK,
                              idempotency_key=f"courier-link:{route.id}", not_before=now)
                route.link_sent_at = now
                session.add(route)
                sent += 1
            session.commit()
            results[shop.id] = LinkResult(links=sent)
    return results
