"""The inbox and the phone panel: a YES typed as the customer books the drop."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from jobs.conversation import nightly_plan
from replenish.core.conversation import ProposalState
from replenish.db.models import Proposal, ShopCreate
from replenish.db.queries import create_shop
from replenish.demo import seed_demo
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.web.conftest import add_user, sign_in

SEEDED = datetime(2026, 11, 24, 1, tzinfo=UTC)


@pytest.fixture
def shop_with_prompts(database, settings):  # noqa: F811
    cfg = settings.model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        shop = create_shop(session=session, products=cfg.products,
                           shop_in=ShopCreate.from_params(cfg.shop, name="Wang's Rice"))
        seed_demo(session=session, shop=shop, settings=cfg, households=20, now=SEEDED)
        session.commit()
        shop_id = shop.id
    nightly_plan(database_url=database.url, now=SEEDED + timedelta(days=10), settings=cfg)
    with Session(database.engine) as session:
        prompted = session.exec(select(Proposal).where(
            Proposal.state == ProposalState.PROPOSED)).first()
    assert prompted is not None
    user = add_user(database.engine, shop_id)
    with TestClient(create_app(cfg, engine=database.engine)) as client:
        csrf = sign_in(client, *user)
        yield client, csrf, prompted, database


def test_the_inbox_lists_the_conversations_and_shows_a_thread(shop_with_prompts):
    client, _, prompted, _ = shop_with_prompts
    inbox = client.get("/messages")
    assert inbox.status_code == 200
    assert f"/messages?customer={prompted.customer_id}" in inbox.text
    thread = client.get(f"/messages?customer={prompted.customer_id}")
    assert 'class="bubble out"' in thread.text and "回覆1確認" in thread.text
    assert "Send from the customer&#39;s phone" in thread.text  # console transport


def test_yes_from_the_phone_panel_books_the_drop_with_no_text_back(shop_with_prompts):
    client, csrf, prompted, database = shop_with_prompts  # noqa: F811
    sent = client.post("/messages/reply", data={"csrf": csrf, "customer": prompted.customer_id,
                                                "text": "好"}, follow_redirects=False)
    assert sent.status_code == 303
    with Session(database.engine) as session:
        proposal = session.get(Proposal, prompted.id)
        assert proposal.state is ProposalState.BOOKED and proposal.drop_id is not None
    thread = client.get(sent.headers["location"]).text
    assert 'class="bubble in">好' in thread and "好的!" not in thread  # the offer said it all


def test_another_amount_from_the_phone_panel_is_booked_and_confirmed(shop_with_prompts):
    client, csrf, prompted, database = shop_with_prompts  # noqa: F811
    other = 5 if prompted.quantity != 5 else 10
    sent = client.post("/messages/reply", data={"csrf": csrf, "customer": prompted.customer_id,
                                                "text": f"好 要{other}公斤"},
                       follow_redirects=False)
    with Session(database.engine) as session:
        proposal = session.get(Proposal, prompted.id)
        assert proposal.state is ProposalState.BOOKED and proposal.quantity == other
    thread = client.get(sent.headers["location"]).text
    assert "好的!" in thread and f"{other}公斤" in thread


def test_a_reply_nobody_understands_waits_for_a_person(shop_with_prompts):
    client, csrf, prompted, _ = shop_with_prompts
    client.post("/messages/reply", data={"csrf": csrf, "customer": prompted.customer_id,
                                         "text": "the rice had bugs last time"})
    inbox = client.get("/messages").text
    assert '<span class="badge">!</span>' in inbox
    assert "waiting for you" in client.get(f"/messages?customer={prompted.customer_id}").text


def test_an_empty_reply_is_refused_with_what_to_do(shop_with_prompts):
    client, csrf, prompted, _ = shop_with_prompts
    empty = client.post("/messages/reply", data={"csrf": csrf,
                                                 "customer": prompted.customer_id, "text": " "})
    assert empty.status_code == 400 and "type what the customer answers" in empty.text
