"""/api/v1: token auth, one shop's data only, readings that teach the forecast, drops
recorded once per key, errors that name the field."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from jobs.routes import build_day
from replenish.core.types import DropStatus
from replenish.db.models import Customer, Drop, Shop, ShopCreate, Tank, TankForecast, User
from replenish.db.queries import create_shop
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.users import new_api_token
from replenish.demo import seed_demo
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.routes.town import THURSDAY, WEDNESDAY_17, build_town, fast
from tests.web.conftest import add_user, sign_in

SEEDED = datetime(2026, 11, 24, 1, tzinfo=UTC)


def _token(engine, shop_id, email):
    add_user(engine, shop_id, email=email)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        token = new_api_token(session=session, user=user)
        session.commit()
    return token


def _shop(session, cfg, name, households):
    shop = create_shop(session=session, products=cfg.products,
                       shop_in=ShopCreate.from_params(cfg.shop, name=name))
    seed_demo(session=session, shop=shop, settings=cfg, households=households, now=SEEDED)
    refresh_forecasts(session=session, shop=shop, now=SEEDED, settings=cfg)
    return shop.id


@pytest.fixture
def api(database, settings):  # noqa: F811
    """Two shops with customers and fresh forecasts; a client with shop A's token.
    Returns (client, headers, shop A's customer ids, shop B's customer id, database)."""
    cfg = settings.model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        ours, theirs = _shop(session, cfg, "Wang's Rice", 4), _shop(session, cfg, "Lin's", 1)
        session.commit()
        mine = session.exec(select(Customer.id).where(Customer.shop_id == ours)
                            .order_by(col(Customer.id))).all()
        other = session.exec(select(Customer.id).where(Customer.shop_id == theirs)).first()
    token = _token(database.engine, ours, "owner@wangs-rice.tw")
    _token(database.engine, theirs, "owner@lins.tw")
    app = create_app(cfg, engine=database.engine)
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}, mine, other, database


def test_a_token_opens_the_api_and_nothing_opens_it_without_one(api):
    client, headers, mine, _, _ = api
    listed = client.get("/api/v1/customers", headers=headers)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == list(mine)
    assert client.get("/api/v1/customers").status_code == 401
    wrong = client.get("/api/v1/customers", headers={"Authorization": "Bearer rpl_nope"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"


def test_a_signed_in_session_opens_the_api_too(api):
    client, _, mine, _, database = api  # noqa: F811
    with Session(database.engine) as session:
        shop_id = session.exec(select(Shop.id).where(Shop.name == "Wang's Rice")).one()
    sign_in(client, *add_user(database.engine, shop_id, email="staff@wangs-rice.tw"))
    assert len(client.get("/api/v1/customers").json()) == len(mine)


def test_the_list_searches_by_name(api):
    client, headers, mine, _, _ = api
    first = client.get(f"/api/v1/customers/{mine[0]}", headers=headers).json()
    found = client.get("/api/v1/customers", params={"q": first["name"]}, headers=headers)
    assert [c["id"] for c in found.json()] == [mine[0]]


def test_a_customer_comes_with_tanks_and_forecasts(api):
    client, headers, mine, _, _ = api
    one = client.get(f"/api/v1/customers/{mine[0]}", headers=headers)
    assert one.status_code == 200
    body = one.json()
    assert body["id"] == mine[0] and body["tanks"] and body["forecasts"]
    assert body["forecasts"][0]["tank_id"] == body["tanks"][0]["id"]


def test_another_shops_customer_is_not_found(api):
    client, headers, _, other, _ = api
    assert client.get(f"/api/v1/customers/{other}", headers=headers).status_code == 404
    for what in ("readings", "drops"):
        assert client.get(f"/api/v1/customers/{other}/{what}",
                          headers=headers).status_code == 404
    posted = client.post(f"/api/v1/customers/{other}/readings", json={"level": 5},
                         headers=headers)
    assert posted.status_code == 404


def test_a_reading_posted_teaches_the_forecast(api):
    client, headers, mine, _, database = api  # noqa: F811
    with Session(database.engine) as session:
        tank = session.exec(select(Tank).where(Tank.customer_id == mine[0])
                            .order_by(col(Tank.id))).first()
        before = session.get(TankForecast, tank.id)
        assert not before.stale
        level_at, level = before.level_at, before.level
    posted = client.post(f"/api/v1/customers/{mine[0]}/readings",
                         json={"level": 3.5, "source": "owner"}, headers=headers)
    assert posted.status_code == 201, posted.text
    assert posted.json()["tank_id"] == tank.id and posted.json()["level"] == 3.5
    with Session(database.engine) as session:
        after = session.get(TankForecast, tank.id)
        assert after.level_at > level_at and after.level != level
    readings = client.get(f"/api/v1/customers/{mine[0]}/readings", headers=headers).json()
    assert readings[-1]["id"] == posted.json()["id"]


def test_a_reading_as_a_depth_is_converted_through_the_tank(api):
    client, headers, mine, _, _ = api
    posted = client.post(f"/api/v1/customers/{mine[1]}/readings", json={"depth_cm": 10},
                         headers=headers)
    assert posted.status_code == 201, posted.text
    assert posted.json()["depth_cm"] == 10 and posted.json()["level"] > 0


def test_the_shops_rules_answer_422_with_the_reason(api):
    client, headers, mine, _, _ = api
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    future = client.post(f"/api/v1/customers/{mine[0]}/readings",
                         json={"level": 3, "at": later}, headers=headers)
    assert future.status_code == 422 and "in the future" in future.json()["detail"]
    both = client.post(f"/api/v1/customers/{mine[0]}/readings",
                       json={"level": 3, "depth_cm": 10}, headers=headers)
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    huge = client.post(f"/api/v1/customers/{mine[0]}/drops", json={"quantity": 100000},
                       headers=headers)
    assert huge.status_code == 422 and "more than the tank holds" in huge.json()["detail"]


def test_a_bad_body_is_422_naming_the_field(api):
    client, headers, mine, _, database = api  # noqa: F811
    bad = client.post(f"/api/v1/customers/{mine[0]}/drops", json={"quantity": "ten"},
                      headers=headers)
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["body", "quantity"]]
    missing = client.post(f"/api/v1/customers/{mine[0]}/drops", json={}, headers=headers)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == [
        "body", "quantity"]
    wrong_tank = client.post(f"/api/v1/customers/{mine[0]}/readings",
                             json={"level": 1, "tank_id": 999999}, headers=headers)
    assert wrong_tank.status_code == 404 and "tank_id" in wrong_tank.json()["detail"]


def test_a_drop_posted_twice_with_the_same_key_is_one_row(api):
    client, headers, mine, _, database = api  # noqa: F811
    body = {"quantity": 12, "idempotency_key": "pos-7731", "note": "paid cash"}
    first = client.post(f"/api/v1/customers/{mine[0]}/drops", json=body, headers=headers)
    again = client.post(f"/api/v1/customers/{mine[0]}/drops", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "delivered"
    with Session(database.engine) as session:
        assert len(session.exec(select(Drop).where(
            Drop.idempotency_key == "pos-7731")).all()) == 1
    listed = client.get(f"/api/v1/customers/{mine[0]}/drops", headers=headers).json()
    assert sum(d["idempotency_key"] == "pos-7731" for d in listed) == 1
    elsewhere = client.post(f"/api/v1/customers/{mine[1]}/drops", json=body, headers=headers)
    assert elsewhere.status_code == 409


def test_a_second_planned_drop_for_one_tank_is_refused_naming_the_first(api):
    client, headers, mine, _, database = api  # noqa: F811
    body = {"quantity": 12, "status": "planned", "delivered_on": "2099-01-05"}
    first = client.post(f"/api/v1/customers/{mine[0]}/drops", json=body, headers=headers)
    second = client.post(f"/api/v1/customers/{mine[0]}/drops",
                         json=body | {"delivered_on": "2099-01-07"}, headers=headers)
    assert first.status_code == 201, first.text
    assert second.status_code == 409
    assert (f"already has drop #{first.json()['id']} planned for 2099-01-05"
            in second.json()["detail"])
    with Session(database.engine) as session:
        assert len(session.exec(select(Drop).where(Drop.status == DropStatus.PLANNED)).all()) \
            == 1


def test_forecasts_list_every_tank_soonest_first(api):
    client, headers, mine, _, database = api  # noqa: F811
    listed = client.get("/api/v1/forecasts", headers=headers)
    with TestClient(client.app) as anonymous:
        assert anonymous.get("/api/v1/forecasts").status_code == 401
    assert listed.status_code == 200
    rows = listed.json()
    assert {r["customer_id"] for r in rows} == set(mine)
    order_by = [r["order_by"] for r in rows if r["order_by"]]
    assert order_by == sorted(order_by)
    assert set(rows[0]) == {"customer_id", "customer", "tank_id", "product", "unit",
                            "level_now", "rate_per_day", "runout_p10", "runout_p50",
                            "runout_p90", "order_by", "drop_size", "as_of"}


def test_the_openapi_document_describes_the_bodies(api):
    client, _, _, _, _ = api
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"ReadingIn", "DropIn", "CustomerDetail", "RoutePlanOut"} <= set(schemas)
    assert "idempotency_key" in schemas["DropIn"]["properties"]
    assert "/api/v1/customers/{customer_id}/drops" in spec["paths"]


def test_the_days_routes_come_with_their_stops_in_order(database, settings):  # noqa: F811
    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        shop, _, _ = build_town(session, cfg)
        shop_id = shop.id
        session.commit()
    build_day(database_url=database.url, shop_id=shop_id, day=THURSDAY, now=WEDNESDAY_17,
              settings=cfg)
    token = _token(database.engine, shop_id, "owner@wangs-rice.tw")
    app = create_app(cfg, engine=database.engine)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        plan = client.get(f"/api/v1/routes?day={THURSDAY}", headers=headers)
        none = client.get("/api/v1/routes?day=2026-12-04", headers=headers)
        bad = client.get("/api/v1/routes?day=thursday", headers=headers)
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["day"] == THURSDAY.isoformat() and body["planned"] == 5
    assert sum(len(r["stops"]) for r in body["routes"]) == 5
    for route in body["routes"]:
        assert [s["seq"] for s in route["stops"]] == list(range(1, len(route["stops"]) + 1))
    assert none.status_code == 404
    assert bad.status_code == 422 and "day" in bad.json()["detail"]
