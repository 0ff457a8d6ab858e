"""Signing in: pages need a user, forms need the session's CSRF token, the login is
rate-limited, and a user sees only their own shop."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from replenish.db.models import ShopCreate
from replenish.db.queries import create_shop
from replenish.db.queries.users import new_api_token
from replenish.demo import seed_demo
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.web.conftest import add_user, csrf_of, sign_in


@pytest.fixture
def two_shops(database, settings):  # noqa: F811
    cfg = settings.model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        ids = []
        for name, households in (("Wang's Rice", 5), ("Dave's Water", 3)):
            shop = create_shop(session=session, products=cfg.products,
                               shop_in=ShopCreate.from_params(cfg.shop, name=name))
            seed_demo(session=session, shop=shop, settings=cfg, households=households,
                      now=datetime(2026, 11, 24, 1, tzinfo=UTC), seed=households)
            ids.append(shop.id)
        session.commit()
    wang = add_user(database.engine, ids[0], "owner@wangs-rice.tw")
    dave = add_user(database.engine, ids[1], "dave@water.example")
    with TestClient(create_app(cfg, engine=database.engine)) as client:
        yield client, wang, dave, database


def test_pages_send_you_to_sign_in_and_back(two_shops):
    client, wang, _, _ = two_shops
    page = client.get("/messages?customer=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/messages%3Fcustomer%3D1"
    csrf = csrf_of(client.get("/login").text)
    signed = client.post("/login", data={"csrf": csrf, "email": wang[0].upper(),
                                         "password": wang[1], "next": "/messages"},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/messages"


def test_sign_in_never_sends_you_to_another_site(two_shops):
    client, wang, _, _ = two_shops
    csrf = csrf_of(client.get("/login").text)
    signed = client.post("/login", data={"csrf": csrf, "email": wang[0], "password": wang[1],
                                         "next": "//evil.example/"}, follow_redirects=False)
    assert signed.headers["location"] == "/"


def test_a_wrong_password_is_refused_and_the_sixth_try_must_wait(two_shops):
    client, wang, _, _ = two_shops
    csrf = csrf_of(client.get("/login").text)
    for _ in range(5):
        wrong = client.post("/login", data={"csrf": csrf, "email": wang[0],
                                            "password": "guess-guess"})
        assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    blocked = client.post("/login", data={"csrf": csrf, "email": wang[0], "password": wang[1]})
    assert blocked.status_code == 429 and "Too many tries" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 500


def test_a_form_without_the_sessions_token_changes_nothing(two_shops):
    client, wang, _, _ = two_shops
    assert client.post("/login", data={"email": wang[0], "password": wang[1]}).status_code == 403
    sign_in(client, *wang)
    forged = client.post("/logout", data={"csrf": "not-it"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_each_user_sees_only_their_own_shop(two_shops):
    client, wang, dave, database = two_shops  # noqa: F811
    sign_in(client, *dave)
    forecasts = client.get("/api/v1/forecasts").json()
    assert len(forecasts) == 3
    page = client.get("/").text
    assert "Dave&#39;s Water" in page and "Wang&#39;s Rice" not in page
    wang_customer = 1  # the first shop's first customer
    assert client.get(f"/messages?customer={wang_customer}").status_code == 404
    csrf = csrf_of(page)
    assert client.post("/messages/reply", data={"csrf": csrf, "customer": wang_customer,
                                                "text": "STOP"}).status_code == 404


def test_the_api_takes_a_bearer_token_and_says_401_without_one(two_shops):
    client, wang, _, database = two_shops  # noqa: F811
    assert client.get("/api/v1/forecasts").status_code == 401
    from sqlmodel import select

    from replenish.db.models import User

    with Session(database.engine) as session:
        user = session.exec(select(User).where(User.email == wang[0])).one()
        token = new_api_token(session=session, user=user)
        session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert len(client.get("/api/v1/forecasts", headers=bearer).json()) == 5
    wrong = {"Authorization": "Bearer rpl_nope"}
    assert client.get("/api/v1/forecasts", headers=wrong).status_code == 401


def test_signing_out_ends_the_session(two_shops):
    client, wang, _, _ = two_shops
    csrf = sign_in(client, *wang)
    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_pages_speak_the_users_language_and_the_login_the_browsers(two_shops):
    client, _, _, database = two_shops  # noqa: F811
    from replenish.core.types import Locale

    login = client.get("/login", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"})
    assert "登入您的店" in login.text and 'lang="zh-TW"' in login.text
    assert "Sign in to your shop" in client.get("/login", headers={
        "Accept-Language": "en-US"}).text
    chen = add_user(database.engine, 1, "chen@wangs-rice.tw", locale=Locale.ZH_TW)
    sign_in(client, *chen)
    page = client.get("/").text
    assert "最晚送貨日" in page and "訊息" in page and "Order by" not in page


def test_tries_sent_in_parallel_are_counted_before_any_is_checked():
    from replenish.web.auth import LoginLimiter

    limiter = LoginLimiter(tries=5, window_s=600)
    keys = ["ip:10.0.0.9", "email:owner@wangs-rice.tw"]
    let_in = [limiter.attempt(keys, now=100.0 + i / 1000) for i in range(30)]  # none checked
    assert let_in[:5] == [0.0] * 5 and all(wait > 0 for wait in let_in[5:])
    limiter.succeeded(keys, now=100.0)  # the first one signed in: it does not count
    assert limiter.attempt(keys, now=100.5) == 0.0
    assert limiter.attempt(keys, now=700.1) == 0.0  # ten minutes on, the oldest expired
