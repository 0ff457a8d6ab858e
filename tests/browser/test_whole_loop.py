"""The issue's whole loop, through the pages only: sign in, register a customer with
the tape-measure numbers, see the forecast, run the nightly plan, answer its prompt YES
from the phone panel, build the day's routes and find the drop on them, record the stop
from the courier's link on a phone with the level measured, and see the chart change."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from replenish.core.types import DropStatus, Locale
from replenish.db import make_engine, upgrade_database
from replenish.db.models import Customer, Drop, Proposal, ShopCreate
from replenish.db.queries import create_shop
from replenish.db.queries.users import create_user
from replenish.demo import seed_demo
from replenish.settings import RoutingSettings
from replenish.web.app import create_app
from tests.browser.conftest import LiveServer

EMAIL, PASSWORD = "owner@wangs-rice.tw", "tape-and-notebook"


@pytest.fixture
def shop(backend, settings):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    routing = RoutingSettings.model_validate({**settings.routing.model_dump(),
                                              "time_limit_seconds": 1})
    cfg = settings.model_copy(update={"database_url": url, "routing": routing})
    with Session(engine) as session:
        shop = create_shop(session=session, products=cfg.products,
                           shop_in=ShopCreate.from_params(cfg.shop, name="Wang's Rice"))
        seed_demo(session=session, shop=shop, settings=cfg, households=8,
                  now=datetime.now(UTC))
        create_user(session=session, shop=shop, email=EMAIL, password=PASSWORD,
                    locale=Locale.EN)
        session.commit()
        centre = (shop.lat, shop.lon)
    yield cfg, engine, centre
    engine.dispose()


def test_the_whole_loop_through_the_pages(shop, chromium, shots):
    cfg, engine, (lat, lon) = shop
    with LiveServer(create_app(cfg, engine=engine)) as server:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{server.url}/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")

        # register a customer with the tape-measure numbers; the calculator answers
        page.goto(f"{server.url}/customers/new")
        page.fill("#f-name", "Amy Lin")
        page.fill("#f-phone", "0912 555 010")
        page.fill("#f-address", "12 Minsheng Rd")
        page.fill("#f-lat", f"{lat + 0.004:.6f}")
        page.fill("#f-lon", f"{lon + 0.003:.6f}")
        page.select_option("select[name=language]", "en")
        page.select_option("select[name=mode]", "confirm")
        page.fill("#f-adults", "3")
        page.select_option("#f-shape", "cylinder")
        page.fill("#f-diameter_cm", "40")
        page.fill("#f-height_cm", "60")
        page.fill("#f-fill_cm", "2")
        assert "75.4" in page.locator("#calc-litres").inner_text()
        shots(page, "register-with-calculator")
        page.click("button.button[type=submit]")
        page.wait_for_url(re.compile(r".*/customers/\d+$"))
        amy_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator("svg.tank-chart").count() == 1
        assert "Order by" in page.inner_text("main")
        shots(page, "customer-forecast")

        # the nightly plan, run from the Jobs page, prompts her
        page.goto(f"{server.url}/jobs")
        page.locator("#job-nightly_plan form button").click()
        page.wait_for_load_state()
        shots(page, "jobs-nightly-run")
        with Session(engine) as session:
            proposal = session.exec(select(Proposal).where(
                Proposal.customer_id == amy_id)).one()

        # she answers YES from the phone panel
        page.goto(f"{server.url}/messages?customer={amy_id}")
        assert "Hi Amy Lin, your Rice will run out" in page.inner_text(".thread")
        page.fill("#text", "YES")
        page.click(".phone button[type=submit]")
        page.wait_for_selector(".bubble.in")
        # a plain yes to what the prompt named books it with no text back
        assert "YES" in page.inner_text(".bubble.in") and "Great!" not in page.inner_text(".thread")
        shots(page, "phone-panel-yes")

        # the day's routes, built from the Routes page, carry her drop
        day = proposal.drop_on.isoformat()
        page.goto(f"{server.url}/routes?day={day}")
        page.click("form[action='/routes/build'] button")
        page.wait_for_load_state()
        assert "Amy Lin" in page.inner_text("main")
        shots(page, "routes")
        link = page.locator("a[href*='/courier/']").filter(has_text="Open").all()
        hrefs = [a.get_attribute("href") for a in link]

        # the courier records the stop on a phone, with the level measured
        phone = chromium.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
        for href in hrefs:
            phone.goto(server.url + href.removeprefix(cfg.web.base_url))
            if "Amy Lin" in phone.inner_text("main"):
                break
        stop = phone.locator("section.stop", has_text="Amy Lin")
        shots(phone, "courier-route")
        stop.locator("input[name=level]").fill("3")
        stop.locator("button[type=submit]").click()
        phone.wait_for_load_state()
        assert re.search(r"已記錄|Recorded", phone.locator("section.stop",
                                                         has_text="Amy Lin").inner_text())
        shots(phone, "courier-recorded")

        # the owner sees the drop on her chart
        page.goto(f"{server.url}/customers/{amy_id}")
        assert page.locator("svg.tank-chart path.drop").count() == 1
        shots(page, "customer-after-the-drop")

    with Session(engine) as session:
        drop = session.exec(select(Drop).join(Proposal, Proposal.drop_id == Drop.id)
                            .where(Proposal.customer_id == amy_id)).one()
        assert drop.status is DropStatus.DELIVERED
        assert drop.level_before == pytest.approx(3 * 3.1416 * 20 * 20 / 1000 * 0.8, abs=0.05)
        assert session.get(Customer, amy_id).name == "Amy Lin"
