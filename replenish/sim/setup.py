"""Setting up the simulated town in a fresh database: the shop, its couriers, and each
household as the owner registers it (address, household, tank, a tape reading at
sign-up). Returns what the run keeps about each household beside the database: its true
kitchen, and what a fixed-interval shop would plan for it."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import Engine
from sqlmodel import Session

from replenish.core.types import DeliveryMode, ReadingSource, TankShape
from replenish.db.models import (
    CourierCreate,
    CustomerCreate,
    HouseholdChangeCreate,
    ShopCreate,
    TankCreate,
)
from replenish.db.queries import (
    add_tank,
    create_courier,
    create_customer,
    create_shop,
    get_product,
    record_household_change,
)
from replenish.db.queries.records import add_reading
from replenish.settings import Settings
from replenish.sim.people import Household
from replenish.sim.town import Kitchen, measured_depth, pick_tank

__all__ = ["CENTRE", "Member", "Town", "register_town"]

CENTRE = (22.9908, 120.2133)  # Tainan
MODES = (DeliveryMode.AUTO, DeliveryMode.CONFIRM, DeliveryMode.WILL_CALL)


@dataclass
class Member:
    """One registered household: its customer and tank rows, and its true kitchen."""

    home: Household
    customer_id: int
    tank_id: int
    phone: str
    kitchen: Kitchen
    every: int  # fixed-interval rounds: every this many days
    first: int  # the first fixed round, days after the start


@dataclass(frozen=True)
class Town:
    shop_id: int
    rice_id: int
    members: dict[int, Member]  # by customer id, in registration order


def register_town(engine: Engine, *, people: list[Household], settings: Settings,
                  couriers: int, modes: tuple[float, float, float],
                  registered: datetime) -> Town:
    """Register ``people`` (committed) the day before the run, at ``registered``."""
    s = settings
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(
            s.shop, name="Simulated rice shop", lat=CENTRE[0], lon=CENTRE[1],
            address="Tainan"), products=s.products)
        assert shop.id is not None
        rice = get_product(session=session, shop_id=shop.id, key="rice")
        assert rice.id is not None
        staff = [create_courier(session=session, shop=shop, courier_in=CourierCreate(
            name=f"Courier {i + 1}", phone=f"0911 000 {i + 1:03d}", capacity=300.0,
            shift_start=time(9), shift_end=time(18), max_reloads=2))
            for i in range(couriers)]
        members: dict[int, Member] = {}
        for n, home in enumerate(people):
            rnd = random.Random(home.seed + 17)
            dist_km, bearing = 4 * math.sqrt(rnd.random()), rnd.uniform(0, 2 * math.pi)
            lat = CENTRE[0] + dist_km / 111 * math.cos(bearing)
            lon = CENTRE[1] + dist_km / (111 * math.cos(math.radians(CENTRE[0]))) * (
                math.sin(bearing))
            mode = rnd.choices(MODES, weights=modes)[0]
            customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
                name=f"Household {home.id}", phone=f"0910 {n // 1000:03d} {n % 1000:03d}",
                address=f"Tainan {home.id}", lat=round(lat, 6), lon=round(lon, 6),
                delivery_mode=mode, courier_id=staff[n % len(staff)].id if staff else None))
            assert customer.id is not None
            record_household_change(session=session, customer=customer,
                                    change_in=HouseholdChangeCreate(
                                        effective_date=registered.date(), adults=home.adults,
                                        children=home.children, elders=home.elders))
            shape = pick_tank(home.base_rate, rnd)
            tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
                product_id=rice.id, shape=TankShape.CYLINDER, diameter_cm=shape.diameter_cm,
                height_cm=shape.height_cm, label="rice tank"))
            assert tank.id is not None
            level = shape.capacity * rnd.uniform(0.35, 0.95)
            add_reading(session=session, tank=tank, product=rice, at=registered,
                        source=ReadingSource.OWNER, depth_cm=measured_depth(level, shape, rnd),
                        settings=s, now=registered)
            guess = home.size_rate  # what the shop knows: the household, not its habits
            members[customer.id] = Member(
                home, customer.id, tank.id, customer.phone, Kitchen(shape, level),
                every=max(7, int(0.7 * shape.capacity / guess)),
                # the first round when the guess says 30% is left, then every N days
                first=max(1, int((level - 0.3 * shape.capacity) / guess)))
        session.commit()
        return Town(shop.id, rice.id, members)

