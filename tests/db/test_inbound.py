"""The inbox: texts stored once per MessageSid, in the ORM and in the webhook's one
statement."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import event
from sqlmodel import select

from replenish.db import NotFoundError
from replenish.db.models import CustomerCreate, InboundMessage, ShopCreate
from replenish.db.queries import create_customer, create_shop
from replenish.db.queries.inbound import (
    list_inbound,
    mark_inbound_handled,
    record_inbound,
    store_inbound,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PHONE = "+886912345678"


@pytest.fixture
def customer(session, shop):
    return create_customer(
        session=session, shop=shop, customer_in=CustomerCreate(name="王太太", phone="0912 345 678")
    )


# --- inbound ---


def inbound(session, shop, sid="SM" + "a" * 32, **fields):
    values = {"from_phone": PHONE, "to_phone": "+15005550006", "body": "好", "received_at": NOW}
    return record_inbound(session=session, shop_id=shop.id, provider_sid=sid, **(values | fields))


def test_a_retried_webhook_is_stored_once(session, shop, customer):
    first, created = inbound(session, shop, customer_id=customer.id)
    again, created_again = inbound(session, shop, body="changed on retry")

    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.body == "好" and again.customer_id == customer.id
    rows = session.exec(select(InboundMessage).where(InboundMessage.shop_id == shop.id)).all()
    assert len(rows) == 1 and not rows[0].handled


def test_the_inbox_lists_newest_first_and_filters(session, shop, customer):
    old, _ = inbound(
        session, shop, sid="SM1", received_at=NOW - timedelta(hours=1), customer_id=customer.id
    )
    new, _ = inbound(session, shop, sid="SM2")
    mark_inbound_handled(session=session, inbound=old)

    assert [m.id for m in list_inbound(session=session, shop_id=shop.id)] == [new.id, old.id]
    assert [m.id for m in list_inbound(session=session, shop_id=shop.id, handled=False)] == [new.id]
    mine = list_inbound(session=session, shop_id=shop.id, customer_id=customer.id)
    assert [m.id for m in mine] == [old.id]


def test_an_inbound_message_needs_an_aware_time(session, shop):
    with pytest.raises(ValidationError):
        inbound(session, shop, received_at=datetime(2026, 11, 24, 8, 0))


# --- the webhook's one-statement store ---


def store(session, sid="SM" + "b" * 32, **fields):
    values = {"from_phone": PHONE, "to_phone": "+15005550006", "body": "好", "received_at": NOW}
    return store_inbound(connection=session.connection(), provider_sid=sid, **(values | fields))


def statements(session):
    """The statements ``session``'s connection runs from now on."""
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute",
                 lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_the_webhook_stores_a_text_in_one_statement_and_a_retry_stores_nothing(
        session, shop, customer):
    seen = statements(session)
    first = store(session)
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("INSERT")
    again = store(session, body="changed on retry")

    assert isinstance(first, int) and again is None
    [row] = session.exec(select(InboundMessage).where(InboundMessage.shop_id == shop.id)).all()
    assert (row.id, row.body, row.customer_id) == (first, "好", customer.id)
    assert not row.handled and row.processed_at is None


def test_a_text_goes_to_the_first_shop_that_knows_the_number(session, shop, settings):
    other = create_shop(session=session, shop_in=ShopCreate.from_params(
        settings.shop, name="Chen's Water"), products=settings.products)
    theirs = create_customer(session=session, shop=other,
                             customer_in=CustomerCreate(name="陳先生", phone="0933 111 222"))

    known = store(session, sid="SM1", from_phone="+886933111222")
    stranger = store(session, sid="SM2", from_phone="+886955000111")
    odd = store(session, sid="SM3", from_phone="not a number")

    rows = {r.id: r for r in session.exec(select(InboundMessage)).all()}
    assert (rows[known].shop_id, rows[known].customer_id) == (other.id, theirs.id)
    assert (rows[stranger].shop_id, rows[stranger].customer_id) == (shop.id, None)
    assert (rows[odd].shop_id, rows[odd].from_phone) == (shop.id, "not a number")


def test_without_a_shop_there_is_nowhere_to_store_a_text(session):
    with pytest.raises(NotFoundError):
        store(session)
    assert session.exec(select(InboundMessage)).all() == []


@pytest.mark.parametrize("fields", [{"received_at": datetime(2026, 11, 24, 8, 0)},
                                    {"from_phone": "+" + "1" * 40}, {"sid": "SM" + "x" * 70}])
def test_the_store_refuses_what_cannot_be_kept(session, shop, fields):
    with pytest.raises(ValidationError):
        store(session, **fields)
