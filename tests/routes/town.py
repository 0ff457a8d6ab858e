"""A small town for the route tests: Wang's Rice in Tainan, two couriers, rice drops
booked for Thursday 3 Dec 2026 at customers around the shop."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from jobs.routes import solve
from replenish.core.types import DropStatus, ReadingSource, TankShape
from replenish.db.models import (
    CourierCreate,
    Customer,
    CustomerCreate,
    DropCreate,
    HouseholdChangeCreate,
    RouteStop,
    ShopCreate,
    TankCreate,
)
from replenish.db.queries import (
    add_tank,
    create_courier,
    create_customer,
    create_shop,
    get_product,
    record_drop,
)
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.records import add_reading
from replenish.db.queries.routes import day_input, save_plan
from replenish.settings import RoutingSettings

TAIPEI = ZoneInfo("Asia/Taipei")
THURSDAY = date(2026, 12, 3)
WEDNESDAY_17 = datetime(2026, 12, 2, 17, tzinfo=TAIPEI).astimezone(UTC)
THURSDAY_10 = datetime(2026, 12, 3, 10, tzinfo=TAIPEI).astimezone(UTC)
SHOP = (22.9917, 120.2148)

# name, metres north, metres east, kg booked, time windows
PEOPLE = [
    ("Mrs. Wang", 800, 300, 20, ""),
    ("Mr. Lin", -600, 900, 25, ""),
    ("Auntie Chen", 1500, -400, 15, "thu 14:00-16:00"),
    ("Grandpa Hsu", -1200, -1100, 30, ""),
    ("The Tsai family", 300, 2000, 25, ""),
]


def fast(settings):
    """The settings with a solver budget for tests."""
    routing = RoutingSettings.model_validate({**settings.routing.model_dump(),
                                              "time_limit_seconds": 0.5})
    return settings.model_copy(update={"routing": routing})


def build_town(session, settings, *, located=True, people=PEOPLE):
    """The shop, two couriers and each customer with a cylinder tank, a reading on
    Monday and a planned drop on Thursday. Returns (shop, couriers, {name: drop})."""
    from replenish.db.queries.shop_values import parse_time_windows

    shop = create_shop(session=session, products=settings.products,
                       shop_in=ShopCreate.from_params(settings.shop, name="Wang's Rice",
                                                      lat=SHOP[0] if located else None,
                                                      lon=SHOP[1] if located else None))
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    couriers = [create_courier(session=session, shop=shop, courier_in=CourierCreate(
        name=name, phone=phone, capacity=60, max_reloads=0)) for name, phone in
        (("A-Hui", "0911 222 301"), ("Ming", "0911 222 302"))]
    drops = {}
    for i, (name, north, east, kg, windows) in enumerate(people):
        customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
            name=name, phone=f"0912 000 10{i}", address=f"{i + 1} Minsheng Rd",
            lat=SHOP[0] + north / 111_000, lon=SHOP[1] + east / 102_000,
            time_windows=parse_time_windows(windows), courier_id=couriers[i % 2].id))
        tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
            product_id=rice.id, shape=TankShape.CYLINDER, diameter_cm=40, height_cm=60))
        add_reading(session=session, tank=tank, product=rice,
                    at=datetime(2026, 11, 30, 2, tzinfo=UTC), source=ReadingSource.COURIER,
                    level=30.0, settings=settings, now=WEDNESDAY_17)
        drops[name] = record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=THURSDAY, quantity=kg, status=DropStatus.PLANNED))
    session.flush()
    return shop, couriers, drops


def with_forecasts(session, shop, settings):
    """Two adults in every household of the town, and each tank's forecast as of
    Wednesday 17:00 (the town alone has no household, so no forecast)."""
    from replenish.db.queries import record_household_change

    for customer in session.exec(select(Customer)).all():
        record_household_change(session=session, customer=customer, change_in=(
            HouseholdChangeCreate(effective_date=date(2026, 1, 1), adults=2)))
    refresh_forecasts(session=session, shop=shop, now=WEDNESDAY_17, settings=settings)


def route_thursday(session, shop, settings):
    """Solve and save Thursday's routes, as the evening before (WEDNESDAY_17)."""
    day_in = day_input(session=session, shop=shop, day=THURSDAY, settings=settings)
    plan = solve(day_in, fast(settings))
    return save_plan(session=session, shop=shop, day=THURSDAY, day_in=day_in, plan=plan,
                     now=WEDNESDAY_17)


def stops_of(session):
    """Every stop, route by route in driving order."""
    return session.exec(select(RouteStop).order_by(RouteStop.route_id, RouteStop.seq)).all()
