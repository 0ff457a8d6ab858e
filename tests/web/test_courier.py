"""The courier's page: a signed link opens one route; each stop is recorded once."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from jobs.routes import build_day, route_url
from replenish.core.types import DropStatus
from replenish.db.models import Drop, Hold, MessageKind, OutboundMessage, Route, RouteStop
from replenish.db.queries.secrets import signing_key
from replenish.web.app import create_app
from replenish.web.links import RouteLink, sign_link
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.routes.town import THURSDAY, THURSDAY_10, WEDNESDAY_17, build_town, fast, with_forecasts


@pytest.fixture
def town(database, settings):  # noqa: F811
    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        shop, couriers, drops = build_town(session, cfg)
        shop_id = shop.id
        session.commit()
    build_day(database_url=database.url, shop_id=shop_id, day=THURSDAY, now=WEDNESDAY_17,
              settings=cfg)
    key = signing_key(engine=database.engine, settings=cfg)
    with Session(database.engine) as session:
        routes = session.exec(select(Route).order_by(Route.id)).all()
        links = [route_url(key=key, route=r, now=datetime.now(UTC), settings=cfg)
                 for r in routes]
        stops = {r.id: session.exec(select(RouteStop).where(RouteStop.route_id == r.id)
                                    .order_by(RouteStop.seq)).all() for r in routes}
    with TestClient(create_app(cfg, engine=database.engine)) as client:
        yield client, routes, links, stops, key, database


def path(url):
    return url.removeprefix("http://127.0.0.1:8000")


def test_a_link_shows_that_couriers_stops_and_no_one_elses(town):
    client, routes, links, stops, _, _ = town
    page = client.get(path(links[0]))
    assert page.status_code == 200
    mine = [s.customer_id for s in stops[routes[0].id]]
    assert page.text.count('class="stop') == len(mine)
    assert "舊米倒出、擦乾淨米缸" in page.text  # the shop speaks zh-TW
    if len(routes) > 1:
        other = {s.drop_id for s in stops[routes[1].id]}
        assert all(f"/stops/{s.id}\"" not in page.text for s in stops[routes[1].id])
        assert other


def test_a_changed_foreign_or_expired_link_opens_nothing(town):
    client, routes, links, _, key, _ = town
    token = links[0].rsplit("/", 1)[1]
    # change the signature's last full character (the very last one carries spare bits,
    # and "xx" may already be there: about one run in a thousand opened the route)
    changed = token[:-2] + ("y" if token[-2] == "x" else "x") + token[-1]
    assert client.get(f"/courier/{changed}").status_code == 403
    forged = sign_link(RouteLink(routes[0].id, routes[0].courier_id,
                                 datetime.now(UTC) + timedelta(hours=1)), key="not the key")
    assert client.get(f"/courier/{forged}").status_code == 403
    old = sign_link(RouteLink(routes[0].id, routes[0].courier_id,
                              datetime.now(UTC) - timedelta(minutes=1)), key=key)
    expired = client.get(f"/courier/{old}")
    assert expired.status_code == 403 and "expired" in expired.text


def test_a_stop_sent_twice_is_recorded_once_and_queues_one_follow_up(town):
    client, routes, links, stops, _, database = town  # noqa: F811
    stop = stops[routes[0].id][0]
    form = {"key": "k-123", "status": "delivered", "quantity": "18", "level": "12",
            "level_unit": "cm", "note": "dog in the yard"}
    first = client.post(f"{path(links[0])}/stops/{stop.id}", data=form, follow_redirects=False)
    again = client.post(f"{path(links[0])}/stops/{stop.id}", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    with Session(database.engine) as session:
        drop = session.get(Drop, stop.drop_id)
        assert (drop.status, drop.quantity) == (DropStatus.DELIVERED, 18)
        assert drop.level_before == pytest.approx(12.06, abs=0.01)  # 12 cm of a 40 cm tank
        followups = session.exec(select(OutboundMessage).where(
            OutboundMessage.kind == MessageKind.FOLLOWUP)).all()
        assert len(followups) == 1
    page = client.get(path(links[0]))
    assert "已記錄: 已送達" in page.text and "dog in the yard" in page.text


def test_a_bad_number_is_named_and_nothing_is_recorded(town):
    client, routes, links, stops, _, database = town  # noqa: F811
    stop = stops[routes[0].id][0]
    response = client.post(f"{path(links[0])}/stops/{stop.id}", data={
        "key": "k-9", "status": "delivered", "quantity": "ten", "level": "",
        "level_unit": "cm"})
    assert response.status_code == 400
    assert "quantity: &#39;ten&#39; is not a number" in response.text
    with Session(database.engine) as session:
        assert session.get(Drop, stop.drop_id).status is DropStatus.PLANNED


def test_days_away_must_be_a_whole_number_and_nothing_is_recorded_otherwise(town):
    client, routes, links, stops, _, database = town  # noqa: F811
    stop = stops[routes[0].id][0]
    response = client.post(f"{path(links[0])}/stops/{stop.id}", data={
        "key": "k-10", "status": "delivered", "quantity": "18", "level": "12",
        "level_unit": "cm", "away_days": "a week"})
    assert response.status_code == 400
    assert "away days: &#39;a week&#39; is not a whole number of days" in response.text
    response = client.post(f"{path(links[0])}/stops/{stop.id}", data={
        "key": "k-12", "status": "delivered", "quantity": "18", "level": "12",
        "level_unit": "cm", "away_days": "²"})
    assert response.status_code == 400 and "is not a whole number of days" in response.text
    with Session(database.engine) as session:
        assert session.get(Drop, stop.drop_id).status is DropStatus.PLANNED


def test_days_away_told_at_the_door_become_a_hold(town):
    client, routes, _, stops, key, database = town  # noqa: F811
    stop = stops[routes[0].id][0]
    link = sign_link(RouteLink(routes[0].id, routes[0].courier_id,
                               THURSDAY_10 + timedelta(hours=8)), key=key)
    with time_machine.travel(THURSDAY_10, tick=False):  # the levels were read on Monday
        response = client.post(f"/courier/{link}/stops/{stop.id}", data={
            "key": "k-11", "status": "delivered", "quantity": "18", "level": "30",
            "level_unit": "cm", "away_days": "2"}, follow_redirects=False)
    assert response.status_code == 303
    with Session(database.engine) as session:
        [hold] = session.exec(select(Hold)).all()
        assert (hold.start_date, hold.end_date) == (date(2026, 12, 1), date(2026, 12, 2))


def test_each_stop_shows_the_level_the_forecast_expects_there(town):
    from replenish.db.models import Shop

    client, _, links, _, _, database = town  # noqa: F811
    before = client.get(path(links[0])).text
    assert "預計存量" not in before  # no household yet: no forecast
    with Session(database.engine) as session:
        with_forecasts(session, session.exec(select(Shop)).one(),
                       client.app.state.settings)
        session.commit()
    page = client.get(path(links[0])).text
    assert re.search(r"預計存量:約 \d+ cm", page)
    assert "2026-11-30 以來外出幾天" in page  # the levels were read on Monday


def test_a_stop_whose_visit_since_the_last_level_found_nobody_home_says_to_ask(town):
    client, routes, links, stops, _, database = town  # noqa: F811
    first = stops[routes[0].id][0]
    assert "來訪時家裡沒人" not in client.get(path(links[0])).text
    with Session(database.engine) as session:
        drop = session.get(Drop, first.drop_id)
        session.add(Drop(shop_id=drop.shop_id, tank_id=drop.tank_id,
                         delivered_on=date(2026, 12, 1), quantity=10,
                         status=DropStatus.NOT_HOME))
        session.commit()
    page = client.get(path(links[0])).text
    assert page.count("2026-12-01 來訪時家裡沒人:請問是否外出") == 1  # that door only


def test_a_stop_of_another_route_cannot_be_recorded_with_this_link(town):
    client, routes, links, stops, _, _ = town
    if len(routes) < 2:
        pytest.skip("one route only")
    theirs = stops[routes[1].id][0]
    response = client.post(f"{path(links[0])}/stops/{theirs.id}",
                           data={"key": "x", "status": "not-home"})
    assert response.status_code == 404
