"""The whole loop in a real browser: the owner signs in, a customer answers a prompt
from the phone panel, the drop goes on a route, the courier records the stop from the
link on a phone, and the owner sees it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from jobs.conversation import nightly_plan
from jobs.routes import build_day, route_url
from replenish.core.types import DeliveryMode, DropStatus, Locale, ReadingSource, TankShape
from replenish.db import make_engine, upgrade_database
from replenish.db.models import (
    CustomerCreate,
    Drop,
    HouseholdChangeCreate,
    Proposal,
    Route,
    ShopCreate,
    TankCreate,
)
from replenish.db.queries import (
    add_tank,
    create_customer,
    create_shop,
    get_product,
    record_household_change,
)
from replenish.db.queries.records import add_reading
from replenish.db.queries.secrets import signing_key
from replenish.db.queries.users import create_user
from replenish.demo import seed_demo
from replenish.settings import RoutingSettings
from replenish.web.app import create_app
from tests.browser.conftest import LiveServer

EMAIL, PASSWORD = "owner@wangs-rice.tw", "tape-and-notebook"


@pytest.fixture
def town(backend, settings):
    """A demo town, one customer nearly out of rice, the night's prompts queued."""
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    routing = RoutingSettings.model_validate({**settings.routing.model_dump(),
                                              "time_limit_seconds": 1})
    cfg = settings.model_copy(update={"database_url": url, "routing": routing})
    now = datetime.now(UTC)
    with Session(engine) as session:
        shop = create_shop(session=session, products=cfg.products,
                           shop_in=ShopCreate.from_params(cfg.shop, name="Wang's Rice"))
        seed_demo(session=session, shop=shop, settings=cfg, households=12, now=now)
        rice = get_product(session=session, shop_id=shop.id, key="rice")
        amy = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
            name="Amy Lin", phone="0912 555 010", address="12 Minsheng Rd",
            lat=shop.lat + 0.004, lon=shop.lon + 0.003, delivery_mode=DeliveryMode.CONFIRM,
            language=Locale.EN))
        record_household_change(session=session, customer=amy, change_in=HouseholdChangeCreate(
            effective_date=date(2026, 1, 1), adults=3))
        tank = add_tank(session=session, customer=amy, tank_in=TankCreate(
            product_id=rice.id, shape=TankShape.CYLINDER, diameter_cm=40, height_cm=60))
        add_reading(session=session, tank=tank, product=rice, at=now - timedelta(hours=1),
                    source=ReadingSource.COURIER, level=3.0, settings=cfg, now=now)
        create_user(session=session, shop=shop, email=EMAIL, password=PASSWORD,
                    locale=Locale.EN)
        session.commit()
        shop_id, amy_id = shop.id, amy.id
    nightly_plan(database_url=url, now=now, settings=cfg)
    yield cfg, engine, shop_id, amy_id
    engine.dispose()


def test_a_yes_from_the_phone_panel_becomes_a_recorded_stop(town, chromium, shots):
    cfg, engine, shop_id, amy_id = town
    with LiveServer(create_app(cfg, engine=engine)) as server:
        owner = chromium.new_page(viewport={"width": 1280, "height": 900})
        owner.goto(f"{server.url}/")
        assert owner.url.startswith(f"{server.url}/login")
        owner.fill("#email", EMAIL)
        owner.fill("#password", PASSWORD)
        shots(owner, "sign-in")
        owner.click("button[type=submit]")
        owner.wait_for_url(f"{server.url}/")
        assert owner.locator("h1").inner_text() == "Wang's Rice"
        shots(owner, "today")

        owner.goto(f"{server.url}/messages?customer={amy_id}")
        thread = owner.locator(".thread").inner_text()
        assert "Hi Amy Lin, your Rice will run out" in thread
        owner.fill("#text", "yes please")
        owner.click(".phone button[type=submit]")
        owner.wait_for_selector(".bubble.in")
        # a plain yes to what the prompt named books it with no text back
        assert "yes please" in owner.locator(".bubble.in").inner_text()
        assert "Great!" not in owner.locator(".thread").inner_text()
        shots(owner, "messages-booked")

        with Session(engine) as session:
            proposal = session.exec(select(Proposal).where(
                Proposal.customer_id == amy_id)).one()
            day = proposal.drop_on
        built = build_day(database_url=cfg.database_url, shop_id=shop_id, day=day,
                          now=datetime.now(UTC), settings=cfg)
        assert built.planned >= 1 and built.problem == ""
        key = signing_key(engine=engine, settings=cfg)
        with Session(engine) as session:
            drop = session.get(Drop, proposal.drop_id)
            route = session.exec(select(Route).where(Route.courier_id == drop.courier_id,
                                                     Route.day == day)).one()
            link = route_url(key=key, route=route, now=datetime.now(UTC), settings=cfg)
        courier = chromium.new_page(viewport={"width": 390, "height": 844},
                                    is_mobile=True, has_touch=True)
        courier.goto(server.url + link.removeprefix(cfg.web.base_url))
        stop = courier.locator(f"#stop-{_stop_id(engine, drop.id)}")
        assert "Amy Lin" in stop.inner_text()
        shots(courier, "courier-route")
        stop.locator("input[name=level]").fill("12")
        stop.locator("textarea[name=note]").fill("old rice on top")
        stop.locator("button[type=submit]").click()
        courier.wait_for_load_state()
        assert re.search(r"已記錄|Recorded", courier.locator(f"#stop-{_stop_id(engine, drop.id)}")
                         .inner_text())
        shots(courier, "courier-recorded")

        owner.goto(f"{server.url}/customers/{amy_id}")
        chart = owner.locator("svg.tank-chart").first
        assert chart.locator("path.drop").count() >= 1  # the delivered drop, as a step
        assert chart.locator("rect.measured").count() >= 1  # the 12 cm found before it
        assert chart.locator("polygon.band").count() == 1  # the forecast after it
        shots(owner, "customer-chart")

    with Session(engine) as session:
        done = session.get(Drop, drop.id)
        assert done.status is DropStatus.DELIVERED
        assert done.level_before == pytest.approx(12.06, abs=0.01)  # 12 cm of a 40 cm tank


def _stop_id(engine, drop_id):
    from replenish.db.models import RouteStop

    with Session(engine) as session:
        return session.exec(select(RouteStop.id).where(RouteStop.drop_id == drop_id)).one()
