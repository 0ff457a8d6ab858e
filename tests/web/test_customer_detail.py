"""The customer detail page: the tank's chart, its drops and the text thread, for the
signed-in user's own shop only."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from jobs.conversation import nightly_plan
from replenish.core.conversation import ProposalState
from replenish.core.types import Locale, ReadingSource, TankShape
from replenish.db.models import Customer, Product, Proposal, ShopCreate, TankCreate
from replenish.db.queries import create_shop
from replenish.db.queries.records import add_reading
from replenish.db.queries.tanks import add_tank, list_tanks
from replenish.demo import seed_demo
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.web.conftest import add_user, sign_in

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def two_shops(database, settings):  # noqa: F811
    """Wang's rice shop, texted by last night's plan, and Dave's water shop."""
    cfg = settings.model_copy(update={"database_url": database.url})
    # last night's plan ran this morning (09:00 in Taipei), after ten quiet days
    now = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    with Session(database.engine) as session:
        ids = []
        for name, households, seed in (("Wang's Rice", 20, 20261124), ("Dave's Water", 3, 3)):
            shop = create_shop(session=session, products=cfg.products,
                               shop_in=ShopCreate.from_params(cfg.shop, name=name))
            seed_demo(session=session, shop=shop, settings=cfg, households=households,
                      now=now - timedelta(days=10), seed=seed)
            ids.append(shop.id)
        session.commit()
    nightly_plan(database_url=database.url, now=now, settings=cfg)
    with Session(database.engine) as session:
        prompted = session.exec(select(Proposal).where(
            Proposal.shop_id == ids[0], Proposal.state == ProposalState.PROPOSED)).first()
        daves = session.exec(select(Customer).where(Customer.shop_id == ids[1])).first()
    assert prompted is not None and daves is not None
    app = create_app(cfg, engine=database.engine)
    with TestClient(app) as client:
        yield client, ids, prompted.customer_id, daves.id, database


def test_the_page_shows_the_chart_the_drops_and_the_thread(two_shops):
    client, ids, customer_id, _, db = two_shops
    with Session(db.engine) as session:  # the customer said how much was left
        tank = list_tanks(session=session, shop_id=ids[0], customer_id=customer_id)[0]
        add_reading(session=session, tank=tank, product=session.get(Product, tank.product_id),
                    at=datetime.now(UTC) - timedelta(days=3), source=ReadingSource.CUSTOMER,
                    level=5.0, settings=client.app.state.settings)
        session.commit()
    sign_in(client, *add_user(db.engine, ids[0]))
    page = client.get(f"/customers/{customer_id}")
    assert page.status_code == 200
    html = page.text
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    chart = ET.fromstring(svg)
    assert chart.get("role") == "img" and "runs out around" in chart.get("aria-label")
    assert len(chart.findall(f".//{SVG}circle")) == 1  # the reading
    assert chart.findall(f".//{SVG}path[@class='drop']")  # the demo's drops, as steps
    assert chart.find(f".//{SVG}polygon[@class='band']") is not None
    assert '<table class="drops">' in html and "delivered" in html
    assert 'class="bubble out"' in html  # last night's prompt
    assert f'href="/customers/{customer_id}/edit"' in html


def test_the_page_speaks_the_users_language(two_shops):
    client, ids, customer_id, _, db = two_shops
    sign_in(client, *add_user(db.engine, ids[0], locale=Locale.ZH_TW))
    html = client.get(f"/customers/{customer_id}").text
    assert "送貨紀錄" in html and "編輯" in html and "最晚送貨" in html


def test_another_shops_customer_or_an_unknown_one_is_not_found(two_shops):
    client, ids, _, daves_customer, db = two_shops
    sign_in(client, *add_user(db.engine, ids[0]))
    assert client.get(f"/customers/{daves_customer}").status_code == 404
    assert client.get("/customers/999999").status_code == 404


def test_without_signing_in_the_page_sends_you_to_sign_in(two_shops):
    client, _, customer_id, _, _ = two_shops
    page = client.get(f"/customers/{customer_id}", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/customers/{customer_id}"


def test_each_tank_has_its_own_chart_even_before_its_first_forecast(two_shops):
    client, ids, customer_id, _, db = two_shops
    with Session(db.engine) as session:
        customer = session.get(Customer, customer_id)
        water = session.exec(select(Product).where(Product.shop_id == ids[0],
                                                   Product.key == "water")).one()
        add_tank(session=session, customer=customer, tank_in=TankCreate(
            product_id=water.id, shape=TankShape.CAPACITY, capacity=20.0, label="water jug"))
        session.commit()
    sign_in(client, *add_user(db.engine, ids[0]))
    html = client.get(f"/customers/{customer_id}").text
    charts = [ET.fromstring(part[:part.index("</svg>") + 6])
              for part in ("<svg" + p for p in html.split("<svg")[1:])]
    assert len(charts) == 2
    assert len({c.find(f".//{SVG}clipPath").get("id") for c in charts}) == 2
    assert "water jug" in html and "No forecast yet: the nightly run makes one." in html


def test_only_a_number_is_a_customer_so_new_and_import_stay_free(two_shops):
    client, ids, _, _, db = two_shops
    sign_in(client, *add_user(db.engine, ids[0]))
    assert client.get("/customers/new").status_code == 200  # the add form, not a 422 here


def test_with_area_days_the_page_names_the_customers_area_and_its_next_days(two_shops):
    client, ids, customer_id, _, db = two_shops
    settings = client.app.state.settings
    client.app.state.settings = settings.model_copy(update={
        "routing": settings.routing.model_copy(update={"areas": 2})})
    sign_in(client, *add_user(db.engine, ids[0]))

    page = client.get(f"/customers/{customer_id}").text

    assert "Area days" in page and "of 2, next on" in page
    client.app.state.settings = settings
    assert "Area days" not in client.get(f"/customers/{customer_id}").text  # no areas


def test_the_area_and_its_next_days_follow_the_compass_and_the_calendar():
    from datetime import date

    from replenish.db.models import Shop
    from replenish.web.detail import _area

    shop = Shop(name="Wang's Rice", lat=22.99, lon=120.21)
    south = Customer(shop_id=1, name="South", phone="+886912000001", lat=22.98, lon=120.21)
    today = date(2026, 11, 24)

    area = _area(shop, south, 2, today)

    assert (area["n"], area["of"]) == (2, 2)  # the southern half: slice 1 of 0..1
    assert all(d.toordinal() % 2 == 1 and d >= today for d in area["next"])
    first, second, third = area["next"]
    assert ((second - first).days, (third - second).days) == (2, 2)
    assert _area(shop, south, 0, today) is None
    south.lat = None
    assert _area(shop, south, 2, today) is None
