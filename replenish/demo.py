"""A demo town: about 60 rice households around a Tainan shop, with half a year of history.

Deterministic (a fixed random seed) apart from "now", so that the demo always looks alive:
the history ends today. Used by ``replenish init --demo`` and ``make run``.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from replenish.core.types import DeliveryMode, DropStatus, ReadingSource, TankShape
from replenish.db.history import geometry_of
from replenish.db.models import (
    CourierCreate,
    Customer,
    CustomerCreate,
    HouseholdChangeCreate,
    Shop,
    TankCreate,
)
from replenish.db.queries import (
    add_tank,
    create_courier,
    create_customer,
    get_product,
    record_household_change,
)
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.records import add_drop, add_reading
from replenish.settings import Settings

__all__ = ["demo_login", "seed_demo", "seed_demo_activity"]

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪邱曾廖賴周"
GIVEN = ["太太", "先生", "阿嬤", "阿公", "小姐", "家"]
STREETS = ["民生路", "中正路", "府前路", "開山路", "青年路", "健康路", "友愛街", "南門路"]
CENTRE = (22.9908, 120.2133)  # Tainan, near the old town


def seed_demo(*, session: Session, shop: Shop, settings: Settings, households: int = 60,
              days: int = 180, now: datetime | None = None, seed: int = 20261124) -> str:
    """Seed the demo town into ``shop`` (once: a shop with customers is left alone)."""
    if session.exec(select(Customer).where(Customer.shop_id == shop.id)).first() is not None:
        return "demo: the shop already has customers; nothing added"
    now = now or datetime.now(UTC)
    rnd = random.Random(seed)
    tz = ZoneInfo(shop.timezone)
    if shop.name == "My shop":
        shop.name = "林記米行 (demo)"
    if shop.lat is None or shop.lon is None:  # routes start and end at the shop
        shop.lat, shop.lon = CENTRE
        shop.address = shop.address or "台南市中西區民權路二段"
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    couriers = [
        create_courier(session=session, shop=shop,
                       courier_in=CourierCreate(name=name, phone=phone))
        for name, phone in (("阿輝", "0911 222 301"), ("小明", "0911 222 302"))
    ]
    start = now - timedelta(days=days)
    drops = readings = 0
    for i in range(households):
        adults, children, elders = rnd.randint(1, 3), rnd.choice([0, 0, 1, 2, 3]), rnd.choice(
            [0, 0, 1, 2])
        dist_km, bearing = 4 * math.sqrt(rnd.random()), rnd.uniform(0, 2 * math.pi)
        lat = CENTRE[0] + dist_km / 111 * math.cos(bearing)
        lon = CENTRE[1] + dist_km / (111 * math.cos(math.radians(CENTRE[0]))) * math.sin(bearing)
        customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
            name=rnd.choice(SURNAMES) + rnd.choice(GIVEN),
            phone=f"09{rnd.randint(10, 89)} {rnd.randint(100, 999)} {100 + i:03d}",
            address=f"台南市中西區{rnd.choice(STREETS)}{rnd.randint(1, 300)}號",
            lat=round(lat, 6), lon=round(lon, 6),
            delivery_mode=rnd.choice([DeliveryMode.CONFIRM] * 3 + [DeliveryMode.AUTO]),
            courier_id=couriers[i % 2].id,
            notes=rnd.choice(["", "", "電鈴壞了,請敲門", "下午才在家", "米缸在廚房左邊"]),
        ))
        record_household_change(session=session, customer=customer,
                                change_in=HouseholdChangeCreate(
                                    effective_date=start.astimezone(tz).date(), adults=adults,
                                    children=children, elders=elders))
        if rnd.random() < 0.7:
            tank_in = TankCreate(product_id=rice.id, shape=TankShape.CYLINDER,
                                 diameter_cm=rnd.choice([35, 40, 45, 50]),
                                 height_cm=rnd.choice([40, 50, 60, 70]), label="米缸")
        else:
            tank_in = TankCreate(product_id=rice.id, shape=TankShape.BOX,
                                 width_cm=rnd.choice([30, 35, 40]), depth_cm=rnd.choice([30, 35]),
                                 height_cm=rnd.choice([40, 50, 60]), label="米箱")
        tank = add_tank(session=session, customer=customer, tank_in=tank_in)
        geometry = geometry_of(tank)
        cap = geometry.capacity(units_per_litre=rice.units_per_litre)
        true_rate = (adults * 0.15 + children * 0.08 + elders * 0.12) * rnd.lognormvariate(0, 0.25)
        level, t = cap * rnd.uniform(0.3, 0.9), start
        add_reading(session=session, tank=tank, product=rice, at=t,
                    source=ReadingSource.COURIER, level=round(level, 1), settings=settings)
        readings += 1
        while True:
            # the shop calls when about a quarter is left, and at least every ten weeks
            days_left = min((level - 0.25 * cap) / true_rate, 70.0)
            t_next = t + timedelta(days=max(days_left * rnd.uniform(0.8, 1.05), 3))
            if t_next >= now:
                break
            level = max(level - true_rate * (t_next - t).total_seconds() / 86400
                        * rnd.uniform(0.9, 1.1), 0.0)
            t = t_next.astimezone(tz).replace(hour=rnd.randint(9, 17), minute=0).astimezone(UTC)
            room = cap - level
            quantity = max(5.0, math.floor(room / 5) * 5)
            measured = rnd.random() < 0.85
            depth = round(level / cap * (tank.height_cm or 1) * 2) / 2 if measured else None
            add_drop(session=session, tank=tank, product=rice,
                     delivered_on=t.astimezone(tz).date(), at=t, quantity=quantity,
                     depth_before_cm=depth, status=DropStatus.DELIVERED,
                     courier_id=customer.courier_id, settings=settings)
            drops += 1
            level = min(level + quantity, cap)
    refresh_forecasts(session=session, shop=shop, now=now, settings=settings)
    return f"demo: {households} households, {drops} drops, {readings} readings, 2 couriers"


DEMO_EMAIL, DEMO_PASSWORD = "owner@demo.replenish", "rice-demo"


def demo_login(*, session: Session, shop: Shop) -> tuple[str, str]:
    """The demo shop's owner account (made once): email and password, for the printout.
    Only for trying replenish out on your own computer: change it before going online."""
    from replenish.db.models import User
    from replenish.db.queries.users import create_user

    if session.exec(select(User).where(User.email == DEMO_EMAIL)).first() is None:
        create_user(session=session, shop=shop, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                    name="Demo owner")
    return DEMO_EMAIL, DEMO_PASSWORD


def seed_demo_activity(*, session: Session, shop: Shop, settings: Settings,
                       now: datetime | None = None, seed: int = 20261124) -> str:
    """What a living shop has on top of its history: past conversations (the prompt, the
    customer's yes, the booking, the follow-up and its score) for some of the past
    drops; tonight's plan; a few customers who already answered yes; and the routes of
    the first day with bookings. Through the same code the shop uses (``plan_shop``,
    ``handle_inbound``, the route builder); commits as it goes."""
    import uuid

    from jobs.conversation import plan_shop
    from jobs.routes import build_day
    from replenish.conversation.inbound import handle_inbound
    from replenish.conversation.outgoing import propose
    from replenish.conversation.texts import message_text
    from replenish.core.conversation import ProposalState
    from replenish.db.models import (
        Drop,
        InboundMessage,
        MessageKind,
        MessageStatus,
        OutboundMessage,
        Product,
        Proposal,
        Tank,
    )
    from replenish.db.queries.inbound import record_inbound

    now = now or datetime.now(UTC)
    rnd = random.Random(seed + 1)
    tz = ZoneInfo(shop.timezone)
    shop_id = shop.id or 0
    rows = session.exec(
        select(Drop, Tank, Customer, Product)
        .join(Tank, Tank.id == Drop.tank_id).join(Customer, Customer.id == Tank.customer_id)
        .join(Product, Product.id == Tank.product_id)
        .where(Drop.shop_id == shop.id, Drop.status == DropStatus.DELIVERED)
        .order_by(Drop.delivered_on.desc())).all()  # type: ignore[attr-defined]
    threads = 0
    for drop, _tank, customer, product in rows[:40]:
        if rnd.random() < 0.5:
            continue
        asked = datetime.combine(drop.delivered_on - timedelta(days=2),
                                 datetime.min.time(), tz).replace(hour=10) .astimezone(UTC)
        done = (drop.at or asked + timedelta(days=2)).astimezone(UTC)
        said = [
            (asked, message_text("prompt", settings=settings, shop=shop, customer=customer,
                                 product=product, quantity=drop.quantity,
                                 drop_day=drop.delivered_on,
                                 runout_day=drop.delivered_on + timedelta(days=3)),
             MessageKind.PROMPT),
            (asked + timedelta(minutes=42), rnd.choice(["好", "好的", "OK", "要", "1"]), None),
            (asked + timedelta(minutes=43), message_text(
                "booked", settings=settings, shop=shop, customer=customer, product=product,
                quantity=drop.quantity, drop_day=drop.delivered_on), MessageKind.CONFIRMATION),
            (done + timedelta(hours=1), message_text(
                "followup", settings=settings, shop=shop, customer=customer,
                product=product), MessageKind.FOLLOWUP),
            (done + timedelta(hours=2), rnd.choice(["5", "5", "4", "5分 謝謝"]), None),
        ]
        for at, body, kind in said:
            if at >= now:
                continue
            if kind is None:
                session.add(InboundMessage(
                    shop_id=shop.id or 0, customer_id=customer.id, body=body,
                    provider_sid=f"DEMO-IN-{uuid.uuid4().hex}", from_phone=customer.phone,
                    to_phone="console", received_at=at, handled=True, processed_at=at))
            else:
                session.add(OutboundMessage(
                    shop_id=shop.id or 0, customer_id=customer.id, to_phone=customer.phone,
                    body=body, kind=kind, status=MessageStatus.DELIVERED,
                    idempotency_key=f"demo:{kind.value}:{drop.id}", attempts=1,
                    created_at=at, updated_at=at, sent_at=at))
        threads += 1
    session.commit()
    plan_shop(session=session, shop=shop, now=now, settings=settings)
    # a livelier first look than one night's plan: offer the next three weeks' drops now
    propose(session=session, shop=shop, now=now, settings=settings, horizon_days=21)
    session.commit()
    asked_now = session.exec(select(Proposal).where(
        Proposal.shop_id == shop.id, Proposal.state == ProposalState.PROPOSED)).all()
    yes = 0
    for proposal in asked_now[: max(1, 2 * len(asked_now) // 3)]:
        customer = session.get(Customer, proposal.customer_id)
        assert customer is not None
        inbound, _ = record_inbound(
            session=session, shop_id=shop.id or 0, provider_sid=f"DEMO-IN-{uuid.uuid4().hex}",
            from_phone=customer.phone, to_phone="console", body=rnd.choice(["好", "好的 謝謝"]),
            received_at=now, customer_id=customer.id)
        handle_inbound(session=session, inbound=inbound, now=now, settings=settings)
        yes += 1
    session.commit()
    days = session.exec(select(Drop.delivered_on).where(
        Drop.shop_id == shop_id, Drop.status == DropStatus.PLANNED)).all()
    first_day = max(set(days), key=lambda d: (days.count(d), -d.toordinal())) if days else None
    session.commit()  # the route builder opens its own connections (SQLite: one writer)
    routed = ""
    if first_day is not None:
        quick = settings.model_copy(update={"routing": settings.routing.model_copy(
            update={"time_limit_seconds": min(3.0, settings.routing.time_limit_seconds)})})
        built = build_day(database_url=settings.database_url, shop_id=shop_id,
                          day=first_day, now=now, settings=quick)
        routed = (f"; routes for {first_day}: {built.planned} stops" if not built.problem
                  else f"; no routes: {built.problem}")
    return (f"demo activity: {threads} past conversations, {len(asked_now)} asked tonight, "
            f"{yes} already said yes{routed}")
