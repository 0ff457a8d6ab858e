"""The webhooks as Twilio calls them: real form posts, signed with the twilio library's own
RequestValidator, against a database the app commits to (SQLite and PostgreSQL)."""

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode, DropStatus, TankShape
from replenish.db import make_engine, upgrade_database
from replenish.db.models import (
    Customer,
    CustomerCreate,
    Drop,
    InboundMessage,
    MessageStatus,
    OutboundMessage,
    Proposal,
    ShopCreate,
    Tank,
    TankCreate,
)
from replenish.db.queries import add_tank, create_customer, create_shop, get_product
from replenish.db.queries.messages import queue_message
from replenish.settings import SmsSettings, TwilioParams, load_settings
from replenish.web.app import create_app
from replenish.web.twilio import EMPTY_TWIML

AUTH_TOKEN = "12345678901234567890123456789012"
PUBLIC_URL = "https://shop.example.com"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday, 10:00 in Taipei
THURSDAY = date(2026, 11, 26)
_numbers = itertools.count(100)


def configured(token=AUTH_TOKEN, public_url=PUBLIC_URL):
    base = load_settings(Path(__file__).resolve().parents[2] / "settings.toml")
    twilio = TwilioParams(account_sid="AC" + "0" * 32, auth_token=token,
                          from_number="+15005550006") if token else TwilioParams()
    return base.model_copy(update={"sms": SmsSettings(twilio=twilio, public_url=public_url)})


@pytest.fixture(scope="module")
def engine(backend):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(configured(), engine=engine)) as client:
        yield client


@pytest.fixture
def customer(engine):
    """A new shop with one rice customer (a phone of their own) and a proposed drop."""
    return _household(engine)


def _household(engine):
    settings = configured()
    phone = f"+886912345{next(_numbers):03d}"
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                           products=settings.products)
        who = create_customer(session=session, shop=shop,
                              customer_in=CustomerCreate(name="王太太", phone=phone))
        rice = get_product(session=session, shop_id=shop.id, key="rice")
        tank = add_tank(session=session, customer=who, tank_in=TankCreate(
            product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
        proposal = Proposal(shop_id=shop.id, customer_id=who.id, tank_id=tank.id,
                            product_id=rice.id, mode=DeliveryMode.CONFIRM,
                            state=ProposalState.PROPOSED, drop_on=THURSDAY, quantity=10.0,
                            cycle_key=f"tank{tank.id}:{THURSDAY}")
        session.add(proposal)
        session.commit()
        return {"shop_id": shop.id, "id": who.id, "phone": phone, "proposal_id": proposal.id}


def post(client, path, params, *, query="", token=AUTH_TOKEN, url=None, signature=None):
    """POST ``params`` as Twilio does, signed for ``url`` (default: the public URL)."""
    target = path + (f"?{query}" if query else "")
    if signature is None:
        signature = RequestValidator(token).compute_signature(url or PUBLIC_URL + target, params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post(target, data=params, headers=headers)
    worker = getattr(client.app.state, "inbound_worker", None)
    if worker is not None:
        worker.drain()  # the text is applied by the app's worker, just after the answer
    return response


def text(customer, body, sid="SM" + "1" * 32):
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
            "From": customer["phone"], "To": "+15005550006", "Body": body, "NumMedia": "0"}


def rows(engine, model, **where):
    with Session(engine) as session:
        statement = select(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return list(session.exec(statement).all())


@pytest.fixture(autouse=True)
def tuesday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_signed_yes_books_a_planned_drop_and_queues_one_confirmation(client, engine, customer):
    response = post(client, "/twilio/sms", text(customer, "好喔", sid="SM" + "a1" * 16))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    [proposal] = rows(engine, Proposal, id=customer["proposal_id"])
    assert proposal.state is ProposalState.BOOKED
    [drop] = rows(engine, Drop, id=proposal.drop_id)
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THURSDAY, 10)
    [confirmation] = rows(engine, OutboundMessage, customer_id=customer["id"])
    assert "週四(11/26)" in confirmation.body
    [inbound] = rows(engine, InboundMessage, customer_id=customer["id"])
    assert inbound.handled


def test_the_same_message_sid_posted_twice_books_once_and_queues_once(client, engine, customer):
    params = text(customer, "1", sid="SM" + "b2" * 16)

    first, retry = post(client, "/twilio/sms", params), post(client, "/twilio/sms", params)

    assert first.status_code == retry.status_code == 200 and retry.text == EMPTY_TWIML
    assert len(rows(engine, InboundMessage, customer_id=customer["id"])) == 1
    [proposal] = rows(engine, Proposal, id=customer["proposal_id"])
    assert len(rows(engine, Drop, tank_id=proposal.tank_id)) == 1
    assert len(rows(engine, OutboundMessage, customer_id=customer["id"])) == 1


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "other-url", "other-token"])
def test_a_bad_or_missing_signature_gets_403_and_writes_nothing(client, engine, customer,
                                                                signature):
    params = text(customer, "好", sid="SM" + "c3" * 16)
    if signature == "other-url":  # signed for another address than the configured one
        response = post(client, "/twilio/sms", params, url="http://testserver/twilio/sms")
    elif signature == "other-token":
        response = post(client, "/twilio/sms", params, token="not-the-shops-token")
    else:
        response = post(client, "/twilio/sms", params, signature=signature)  # "": none

    assert response.status_code == 403
    assert rows(engine, InboundMessage, customer_id=customer["id"]) == []
    assert rows(engine, OutboundMessage, customer_id=customer["id"]) == []
    [proposal] = rows(engine, Proposal, id=customer["proposal_id"])
    assert proposal.state is ProposalState.PROPOSED


def test_a_changed_field_breaks_the_signature(client, engine, customer):
    params = text(customer, "3", sid="SM" + "d4" * 16)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/twilio/sms",
                                                               params)
    forged = params | {"Body": "要40公斤"}
    response = client.post("/twilio/sms", data=forged, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert rows(engine, InboundMessage, customer_id=customer["id"]) == []


def test_without_an_auth_token_every_post_is_refused(engine, customer):
    with TestClient(create_app(configured(token=""), engine=engine)) as console_client:
        response = post(console_client, "/twilio/sms", text(customer, "好", sid="SM" + "e5" * 16))
    assert response.status_code == 403
    assert rows(engine, InboundMessage, customer_id=customer["id"]) == []


def test_a_text_from_a_stranger_is_kept_and_answered_with_nothing(client, engine):
    sid = "SM" + "f6" * 16
    stranger = {"phone": "+886933000111"}
    response = post(client, "/twilio/sms", text(stranger, "請問有送到永康嗎", sid=sid))
    assert response.status_code == 200
    [kept] = rows(engine, InboundMessage, provider_sid=sid)
    assert kept.customer_id is None and not kept.handled
    assert rows(engine, OutboundMessage, to_phone="+886933000111") == []


def test_a_status_callback_moves_a_message_to_delivered(client, engine, customer):
    key = f"prompt:test:{customer['id']}"
    with Session(engine) as session:
        message = queue_message(session=session, shop_id=customer["shop_id"],
                                customer_id=customer["id"], to_phone=customer["phone"],
                                body="林記米行:王太太您好", kind="prompt", idempotency_key=key)
        message.status, message.provider_sid = MessageStatus.SENT, "SM" + "7" * 32
        session.add(message)
        session.commit()
        message_id = message.id
    query = urlencode({"key": key})
    params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered",
              "AccountSid": "AC" + "0" * 32, "To": customer["phone"]}

    response = post(client, "/twilio/status", params, query=query)

    assert response.status_code == 200
    [row] = rows(engine, OutboundMessage, id=message_id)
    assert row.status is MessageStatus.DELIVERED


def test_a_status_callback_for_an_unrecorded_send_finds_it_by_its_key(client, engine, customer):
    key = f"prompt:crashed:{customer['id']}"
    with Session(engine) as session:
        message = queue_message(session=session, shop_id=customer["shop_id"],
                                to_phone=customer["phone"], body="米快吃完了嗎?",
                                kind="prompt", idempotency_key=key)
        message.status = MessageStatus.SENDING  # the sender stopped before recording the sid
        session.add(message)
        session.commit()
        message_id = message.id
    params = {"MessageSid": "SM" + "8" * 32, "MessageStatus": "sent"}

    signed_without_key = post(client, "/twilio/status", params, query=urlencode({"key": key}),
                              url=PUBLIC_URL + "/twilio/status")
    assert signed_without_key.status_code == 403  # the key is part of what Twilio signed
    response = post(client, "/twilio/status", params, query=urlencode({"key": key}))

    assert response.status_code == 200
    [row] = rows(engine, OutboundMessage, id=message_id)
    assert (row.status, row.provider_sid) == (MessageStatus.SENT, "SM" + "8" * 32)


def test_an_undelivered_text_keeps_twilios_error_code(client, engine, customer):
    with Session(engine) as session:
        message = queue_message(session=session, shop_id=customer["shop_id"],
                                to_phone=customer["phone"], body="hello", kind="other",
                                idempotency_key=f"other:{customer['id']}")
        message.status, message.provider_sid = MessageStatus.SENT, "SM" + "9" * 32
        session.add(message)
        session.commit()
        message_id = message.id
    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "undelivered",
              "ErrorCode": "30006"}
    assert post(client, "/twilio/status", params).status_code == 200
    [row] = rows(engine, OutboundMessage, id=message_id)
    assert (row.status, row.error_code) == (MessageStatus.UNDELIVERED, 30006)


def test_a_stop_twilio_already_answered_opts_out_without_a_second_confirmation(
        client, engine, customer):
    params = text(customer, "STOP", sid="SM" + "ab" * 16) | {"OptOutType": "STOP"}

    assert post(client, "/twilio/sms", params).status_code == 200

    [who] = rows(engine, Customer, id=customer["id"])
    assert who.opted_out
    assert rows(engine, OutboundMessage, customer_id=customer["id"]) == []


def test_a_plain_stop_gets_replenishs_one_confirmation(client, engine, customer):
    for body, sid in (("退訂", "SM" + "ac" * 16), ("好", "SM" + "ad" * 16)):
        assert post(client, "/twilio/sms", text(customer, body, sid=sid)).status_code == 200
    [only] = rows(engine, OutboundMessage, customer_id=customer["id"])
    assert "已停止簡訊通知" in only.body


def test_a_text_that_cannot_be_applied_is_kept_for_the_owner(client, engine, customer):
    with Session(engine) as session:  # the tank was re-measured: 10 kg no longer fits
        proposal = session.get(Proposal, customer["proposal_id"])
        tank = session.get(Tank, proposal.tank_id)
        tank.capacity, tank_id = 6.0, tank.id
        session.add(tank)
        session.commit()
    sid = "SM" + "ae" * 16

    response = post(client, "/twilio/sms", text(customer, "好", sid=sid))

    assert response.status_code == 200 and response.text == EMPTY_TWIML
    [kept] = rows(engine, InboundMessage, provider_sid=sid)
    assert not kept.handled and kept.customer_id == customer["id"]
    assert rows(engine, Drop, tank_id=tank_id) == []
    assert rows(engine, OutboundMessage, customer_id=customer["id"]) == []
    [proposal] = rows(engine, Proposal, id=customer["proposal_id"])
    assert proposal.state is ProposalState.PROPOSED


def test_a_text_stored_but_not_applied_before_a_stop_is_applied_when_the_app_starts(
        backend, settings):
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient
    from sqlmodel import Session, select

    from replenish.db import make_engine, upgrade_database
    from replenish.db.models import InboundMessage, ShopCreate
    from replenish.db.queries import create_shop
    from replenish.db.queries.inbound import record_inbound
    from replenish.web.app import create_app

    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                           products=settings.products)
        record_inbound(session=session, shop_id=shop.id, provider_sid="SM" + "e" * 32,
                       from_phone="+886912000999", to_phone="+886223456789", body="hello?",
                       received_at=datetime.now(UTC))
        session.commit()
    with TestClient(create_app(settings, engine=engine)):
        pass
    with Session(engine) as session:
        row = session.exec(select(InboundMessage).where(
            InboundMessage.provider_sid == "SM" + "e" * 32)).one()
        assert row.processed_at is not None
    engine.dispose()


def test_without_a_shop_a_text_gets_503_and_nothing_is_stored(backend):
    url = backend.new_database()
    upgrade_database(url)
    empty = make_engine(url)
    try:
        with TestClient(create_app(configured(), engine=empty)) as bare:
            response = post(bare, "/twilio/sms", text({"phone": "+886912345999"}, "好",
                                                       sid="SM" + "af" * 16))
        assert response.status_code == 503
        assert rows(empty, InboundMessage) == []
    finally:
        empty.dispose()


def test_texts_posted_at_once_are_each_stored_once_and_applied_once(client, engine):
    """Twilio posts concurrently, and retries: every MessageSid is stored once, every
    stored text applied once, and one customer's texts in the order they were stored."""
    people = [_household(engine) for _ in range(4)]
    bodies = ["好", "改天", "3", "還有一半", "?", "好"]
    posts = [text(who, body, sid=f"SM{n:030x}ff")
             for n, (who, body) in enumerate((who, body) for body in bodies for who in people)]
    posts += posts[::5]  # Twilio's retries

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda params: client.post(
            "/twilio/sms", data=params, headers={"X-Twilio-Signature": RequestValidator(
                AUTH_TOKEN).compute_signature(PUBLIC_URL + "/twilio/sms", params)}), posts))
    client.app.state.inbound_worker.drain()

    assert [a.status_code for a in answers] == [200] * len(posts)
    sids = {params["MessageSid"] for params in posts}
    stored = [row for row in rows(engine, InboundMessage) if row.provider_sid in sids]
    assert len(stored) == len(sids)
    assert all(row.processed_at is not None for row in stored)
    for who in people:
        [proposal] = rows(engine, Proposal, id=who["proposal_id"])
        assert len(rows(engine, Drop, tank_id=proposal.tank_id)) <= 1
        answers_to = rows(engine, OutboundMessage, customer_id=who["id"])
        assert len({m.idempotency_key for m in answers_to}) == len(answers_to)
