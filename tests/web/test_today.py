from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

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
    assert "nightly_plan " in page.text and "OperationalError: disk full" in page.text


def test_the_morning_page_lists_todays_drops_the_at_risk_the_waiting_and_the_failed(
        client):
    from replenish.core.types import DropStatus
    from replenish.db.models import (
        Customer,
        DropCreate,
        InboundMessage,
        MessageKind,
        MessageStatus,
        OutboundMessage,
        Tank,
    )
    from replenish.db.queries import record_drop

    engine = client.app.state.engine
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Asia/Taipei")).date()
    with Session(engine, expire_on_commit=False) as session:
        customers = session.exec(select(Customer).order_by(Customer.id)).all()
        first, second, third = customers[:3]
        tank = session.exec(select(Tank).where(Tank.customer_id == first.id)).first()
        record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=today, quantity=15, status=DropStatus.PLANNED))
        session.add(InboundMessage(shop_id=second.shop_id, customer_id=second.id,
                                   provider_sid="SM-today-1", from_phone=second.phone,
                                   to_phone="console", body="the rice had bugs",
                                   received_at=now, handled=False, processed_at=now))
        session.add(OutboundMessage(shop_id=third.shop_id, customer_id=third.id,
                                    to_phone=third.phone, body="hi", kind=MessageKind.PROMPT,
                                    idempotency_key="today-failed-1",
                                    status=MessageStatus.FAILED,
                                    error_message="21211 invalid number"))
        session.commit()
    page = client.get("/").text
    drops = page.split('id="drops"')[1].split("</section>")[0]
    assert first.name in drops and "15 kg" in drops
    waiting = page.split('id="waiting"')[1].split("</section>")[0]
    assert second.name in waiting and "the rice had bugs" in waiting
    failed = page.split('id="failed"')[1].split("</section>")[0]
    assert third.name in failed and "21211 invalid number" in failed


def test_the_at_risk_list_is_sorted_by_the_chance_of_running_out(client):
    import re

    page = client.get("/").text
    risk = page.split('id="risk"')[1].split("</section>")[0]
    chances = [int(c) for c in re.findall(r'class="chance">(\d+)%', risk)]
    assert chances == sorted(chances, reverse=True)
    assert all(c >= 5 for c in chances)


def test_a_customer_on_the_call_list_who_says_yes_on_the_phone_is_booked_from_the_page(
        client):
    from replenish.core.conversation import ProposalState
    from replenish.core.types import DeliveryMode, DropStatus
    from replenish.db.models import Customer, Drop, OutboundMessage, Proposal, Tank

    engine = client.app.state.engine
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Taipei")).date()
    with Session(engine) as session:
        customer = session.exec(select(Customer).order_by(Customer.id.desc())).first()
        tank = session.exec(select(Tank).where(Tank.customer_id == customer.id)).first()
        proposal = Proposal(shop_id=tank.shop_id, customer_id=customer.id, tank_id=tank.id,
                            product_id=tank.product_id, mode=DeliveryMode.CONFIRM,
                            state=ProposalState.PROPOSED, drop_on=today, quantity=10,
                            cycle_key=f"tank:{tank.id}:call-test", on_call_list=True)
        session.add(proposal)
        session.commit()
        proposal_id, name = proposal.id, customer.name
        texts_before = len(session.exec(select(OutboundMessage)).all())
    calls = client.get("/").text.split('id="calls"')[1].split("</section>")[0]
    assert name in calls and f'action="/calls/{proposal_id}/book"' in calls
    csrf = calls.split('name="csrf" value="')[1].split('"')[0]

    forged = client.post(f"/calls/{proposal_id}/book", data={"csrf": "wrong"})
    assert forged.status_code == 403
    booked = client.post(f"/calls/{proposal_id}/book", data={"csrf": csrf},
                         follow_redirects=False)
    assert booked.status_code == 303 and booked.headers["location"].startswith("/?booked=")
    page = client.get(booked.headers["location"]).text
    assert "Booked by phone" in page or "已電話預約" in page
    with Session(engine) as session:
        proposal = session.get(Proposal, proposal_id)
        drop = session.get(Drop, proposal.drop_id)
        assert proposal.state is ProposalState.BOOKED and not proposal.on_call_list
        assert drop.status is DropStatus.PLANNED and drop.delivered_on > today
        assert len(session.exec(select(OutboundMessage)).all()) == texts_before  # no text
    assert client.post("/calls/999999/book", data={"csrf": csrf}).status_code == 404
