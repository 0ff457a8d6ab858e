from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from replenish.db import make_engine, upgrade_database
from replenish.db.models import ShopCreate
from replenish.db.queries import create_shop
from replenish.demo import seed_demo
from replenish.web.app import create_app
from tests.web.conftest import add_user, sign_in


@pytest.fixture(scope="module")
def client(backend, settings_module):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings_module.shop),
                           products=settings_module.products)
        seed_demo(session=session, shop=shop, settings=settings_module, households=12,
                  now=datetime(2026, 11, 24, 1, tzinfo=UTC))
        session.commit()
        shop_id = shop.id
    email, password = add_user(engine, shop_id)
    with TestClient(create_app(settings_module, engine=engine)) as client:
        sign_in(client, email, password)
        yield client
    engine.dispose()


@pytest.fixture(scope="module")
def settings_module():
    from pathlib import Path

    from replenish.settings import load_settings

    return load_settings(Path(__file__).resolve().parents[2] / "settings.toml")


def test_the_api_lists_forecasts_soonest_order_by_first(client):
    response = client.get("/api/v1/forecasts")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 12
    dated = [r["order_by"] for r in rows if r["order_by"]]
    assert dated == sorted(dated)


def test_the_morning_page_shows_every_customer(client):
    response = client.get("/")
    assert response.status_code == 200
    for row in client.get("/api/v1/forecasts").json():
        assert row["customer"] in response.text


def test_a_job_that_failed_today_is_shown_on_the_morning_page(client):
    from replenish.db.models import JobRun, JobStatus

    engine = client.app.state.engine
    with Session(engine) as session:
        session.add(JobRun(job="nightly_plan", as_of=datetime.now(UTC),
                           status=JobStatus.FAILED, summary="OperationalError: disk full"))
        session.commit()
    page = client.get("/")
    assert "Timed jobs that failed in the last day" in page.text
    assert "nightly_plan at" in page.text and "OperationalError: disk full" in page.text
