"""The routes page: each courier's stops in order, a sketch, sheets to print, and a
button that builds the day."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from jobs.routes import build_day
from replenish.db.models import Customer, Route, RoutePlan, RouteStop
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.routes.town import THURSDAY, WEDNESDAY_17, build_town, fast, with_forecasts
from tests.web.conftest import add_user, sign_in

DAY = THURSDAY.isoformat()


def _client(database, cfg, shop_id):  # noqa: F811
    user = add_user(database.engine, shop_id)
    app = create_app(cfg, engine=database.engine)
    return TestClient(app), user


@pytest.fixture
def make_town(database, settings):  # noqa: F811
    """The small town with Thursday's drops booked (built, the shop placed, unless told
    otherwise), and a signed-in client: (client, csrf, database)."""
    opened = []

    def make(*, built=True, located=True):
        cfg = fast(settings).model_copy(update={"database_url": database.url})
        with Session(database.engine) as session:
            shop, _, _ = build_town(session, cfg, located=located)
            shop_id = shop.id
            session.commit()
        if built:
            build_day(database_url=database.url, shop_id=shop_id, day=THURSDAY,
                      now=WEDNESDAY_17, settings=cfg)
        client, user = _client(database, cfg, shop_id)
        opened.append(client.__enter__())
        return client, sign_in(client, *user), database

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def town(make_town):
    return make_town()


def _stops_in_order(engine):
    with Session(engine) as session:
        out = {}
        for route in session.exec(select(Route).order_by(Route.courier_id)).all():
            out[route.id] = [session.get(Customer, s.customer_id).name for s in session.exec(
                select(RouteStop).where(RouteStop.route_id == route.id)
                .order_by(RouteStop.seq)).all()]
        return out


def test_the_page_shows_each_couriers_stops_in_driving_order(town):
    client, _, database = town  # noqa: F811
    page = client.get(f"/routes?day={DAY}")
    assert page.status_code == 200
    routes = _stops_in_order(database.engine)
    assert routes and sum(len(names) for names in routes.values()) == 5
    sections = page.text.split('<section class="route">')[1:]
    for names, section in zip(routes.values(), sections, strict=False):
        found = [section.find(name.replace("'", "&#39;")) for name in names]
        assert all(i >= 0 for i in found) and found == sorted(found)
    assert page.text.count('<tr class="stop">') == 5
    assert "Print sheets" in page.text and "/courier/" in page.text


def test_the_sketch_is_an_svg_with_a_line_per_courier_and_a_dot_per_stop(town):
    client, _, database = town  # noqa: F811
    page = client.get(f"/routes?day={DAY}").text
    svg = re.search(r"<svg.*?</svg>", page, re.S)[0]
    root = ET.fromstring(svg)  # well-formed XML
    ns = {"s": "http://www.w3.org/2000/svg"}
    lines = root.findall(".//s:polyline", ns)
    assert len(lines) == len(_stops_in_order(database.engine))
    assert len(root.findall(".//s:circle", ns)) == 5
    for line in lines:  # from the shop and back to it
        points = line.get("points").split()
        assert points[0] == points[-1]
        for point in points:
            x, y = map(float, point.split(","))
            assert 0 <= x <= 640 and 0 <= y <= 420


def test_the_print_view_has_one_sheet_per_courier_with_boxes_to_fill(town):
    client, _, database = town  # noqa: F811
    sheets = client.get(f"/routes/print?day={DAY}")
    assert sheets.status_code == 200
    assert sheets.text.count('<section class="sheet">') == len(_stops_in_order(database.engine))
    assert sheets.text.count('class="door"') == 5
    assert "level before ____ cm" in sheets.text


def test_the_print_view_says_what_level_to_expect_and_when_to_ask_about_a_trip(town):
    from replenish.db.models import Shop

    client, _, database = town  # noqa: F811
    assert "were away since" not in client.get(f"/routes/print?day={DAY}").text  # no forecast
    with Session(database.engine) as session:
        with_forecasts(session, session.exec(select(Shop)).one(),
                       client.app.state.settings)
        session.commit()
    sheets = client.get(f"/routes/print?day={DAY}").text
    assert len(re.findall(r"Expected about [\d.]+ kg; much more: ask how many days they were "
                          r"away since 2026-11-30", sheets)) == 5


def test_the_couriers_link_on_the_page_opens_their_route(town):
    client, _, _ = town
    page = client.get(f"/routes?day={DAY}").text
    link = re.search(r'href="http://127\.0\.0\.1:8000(/courier/[^"]+)"', page)[1]
    assert client.get(link).status_code == 200
    assert 'href="sms:' in page


def test_a_day_without_routes_says_so_and_the_button_builds_them(make_town):
    client, csrf, database = make_town(built=False)  # noqa: F811
    empty = client.get(f"/routes?day={DAY}")
    assert f"No routes for {DAY} yet." in empty.text
    assert "Build routes for this day" in empty.text
    built = client.post("/routes/build", data={"csrf": csrf, "day": DAY})
    assert built.status_code == 200, built.text
    assert re.search(r"Built \d routes: 5 stops planned, 0 left out", built.text)
    assert built.text.count('<tr class="stop">') == 5
    with Session(database.engine) as session:
        assert session.exec(select(RoutePlan)).one().day == THURSDAY


def test_building_without_the_form_token_is_refused(make_town):
    client, _, database = make_town(built=False)  # noqa: F811
    assert client.post("/routes/build", data={"day": DAY}).status_code == 403
    with Session(database.engine) as session:
        assert session.exec(select(RoutePlan)).first() is None


def test_building_without_the_shops_location_shows_why(make_town):
    client, csrf, _ = make_town(built=False, located=False)
    refused = client.post("/routes/build", data={"csrf": csrf, "day": DAY})
    assert refused.status_code == 409
    assert "the shop&#39;s location is not set" in refused.text


def test_the_page_defaults_to_today_and_refuses_a_bad_day(town):
    client, _, _ = town
    today = client.get("/routes")
    assert today.status_code == 200 and "value=\"20" in today.text
    assert datetime.now(UTC).strftime("%Y") in today.text
    assert client.get("/routes?day=someday").status_code == 422


def test_a_stop_left_out_is_listed_with_the_reason(make_town):
    client, csrf, database = make_town(built=False)  # noqa: F811
    with Session(database.engine) as session:
        wang = session.exec(select(Customer).where(Customer.name == "Mrs. Wang")).one()
        wang.lat = wang.lon = None
        session.add(wang)
        session.commit()
    built = client.post("/routes/build", data={"csrf": csrf, "day": DAY})
    assert "4 stops planned, 1 left out" in built.text
    left_out = built.text.split("Not on any route (1), most urgent first")[1]
    assert '<tr class="unplanned"><td>Mrs. Wang</td>' in left_out
    assert "no location: set the customer" in left_out
    assert built.text.count("<circle") == 4  # a place unknown is not drawn


def test_another_shops_user_sees_none_of_these_routes(make_town, settings):
    _, _, database = make_town()  # noqa: F811
    from replenish.db.models import ShopCreate
    from replenish.db.queries import create_shop

    with Session(database.engine) as session:
        other = create_shop(session=session, products=settings.products,
                            shop_in=ShopCreate.from_params(settings.shop, name="Lin's"))
        session.commit()
        other_id = other.id
    cfg = settings.model_copy(update={"database_url": database.url})
    user = add_user(database.engine, other_id, email="owner@lins.tw")
    app = create_app(cfg, engine=database.engine)
    with TestClient(app) as client:
        sign_in(client, *user)
        page = client.get(f"/routes?day={DAY}").text
        sheets = client.get(f"/routes/print?day={DAY}").text
    assert f"No routes for {DAY} yet." in page and "Mrs. Wang" not in page
    assert "Mrs. Wang" not in sheets and "/courier/" not in page
