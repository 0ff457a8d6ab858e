from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from replenish.db import DuplicateError, NotFoundError
from replenish.db.models import (
    CustomerCreate,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    ShopCreate,
)
from replenish.db.queries import create_customer, create_shop
from replenish.db.queries.messages import (
    get_message,
    insert_message,
    list_messages,
    mark_message_sent,
    provider_status,
    queue_message,
    record_status,
    requeue_message,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PHONE = "+886912345678"


def queue(session, shop, key="prompt:tank42:2026-11-27", **fields):
    values = {"to_phone": PHONE, "body": "Wang's Rice: 10 kg on Thu?", "kind": "prompt"}
    return queue_message(session=session, shop_id=shop.id, idempotency_key=key, **(values | fields))


def as_sent(session, message, sid="SM" + "1" * 32):
    message.status = MessageStatus.SENT
    message.provider_sid = sid
    session.add(message)
    session.flush()
    return sid


@pytest.fixture
def customer(session, shop):
    return create_customer(
        session=session, shop=shop, customer_in=CustomerCreate(name="王太太", phone="0912 345 678")
    )


# --- queue_message ---


def test_the_same_idempotency_key_queued_twice_gives_one_row(session, shop):
    first = queue(session, shop)
    second = queue(session, shop, body="a different text")

    assert second.id == first.id and second.body == "Wang's Rice: 10 kg on Thu?"
    rows = session.exec(select(OutboundMessage).where(OutboundMessage.shop_id == shop.id)).all()
    assert len(rows) == 1


def test_a_queued_message_waits_in_the_outbox_as_queued(session, shop, customer):
    message = queue(
        session, shop, customer_id=customer.id, kind=MessageKind.HEADS_UP, not_before=NOW
    )
    assert message.id is not None
    assert message.status is MessageStatus.QUEUED and message.attempts == 0
    assert message.kind is MessageKind.HEADS_UP and message.not_before == NOW
    assert message.created_at.tzinfo is not None


def test_a_key_used_by_another_shop_is_refused(session, shop, settings):
    other = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop), products={})
    queue(session, shop)
    with pytest.raises(DuplicateError, match="another shop"):
        queue_message(
            session=session,
            shop_id=other.id,
            to_phone=PHONE,
            body="x",
            kind="other",
            idempotency_key="prompt:tank42:2026-11-27",
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to_phone": "0912 345 678"}, "to_phone"),  # local: the caller must know the region
        ({"body": ""}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"kind": "spam"}, "kind"),
        ({"not_before": datetime(2026, 11, 24, 8, 0)}, "not_before"),
    ],
)
def test_a_bad_message_is_refused_naming_the_field(session, shop, fields, field):
    with pytest.raises(ValidationError) as caught:
        queue(session, shop, **fields)
    assert caught.value.errors()[0]["loc"] == (field,)


def test_a_customer_of_another_shop_is_refused(session, shop, customer, settings):
    other = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop), products={})
    with pytest.raises(ValueError, match="customer_id"):
        queue_message(
            session=session,
            shop_id=other.id,
            to_phone=PHONE,
            body="x",
            kind="other",
            idempotency_key="k-other",
            customer_id=customer.id,
        )


def test_the_outbox_lists_newest_first_and_filters(session, shop, customer):
    a = queue(session, shop, key="a", customer_id=customer.id)
    b = queue(session, shop, key="b")
    c = queue(session, shop, key="c", customer_id=customer.id)
    as_sent(session, c)

    assert [m.id for m in list_messages(session=session, shop_id=shop.id)] == [c.id, b.id, a.id]
    mine = list_messages(session=session, shop_id=shop.id, customer_id=customer.id)
    assert [m.id for m in mine] == [c.id, a.id]
    queued = list_messages(session=session, shop_id=shop.id, status=MessageStatus.QUEUED)
    assert [m.id for m in queued] == [b.id, a.id]
    assert len(list_messages(session=session, shop_id=shop.id, limit=1)) == 1
    assert get_message(session=session, shop_id=shop.id, message_id=a.id) is a
    with pytest.raises(NotFoundError):
        get_message(session=session, shop_id=shop.id + 1000, message_id=a.id)


# --- record_status ---


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("queued", "sent"),
        ("accepted", "sent"),
        ("sending", "sent"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("Delivered", "delivered"),
        ("received", None),
        ("nonsense", None),
    ],
)
def test_provider_status_words_map_to_ours(word, status):
    assert provider_status(word) == (None if status is None else MessageStatus(status))


def test_a_delivery_callback_marks_the_message_delivered(session, shop):
    message = queue(session, shop)
    sid = as_sent(session, message)

    row = record_status(session=session, provider_sid=sid, status="delivered", now=NOW)

    assert row is message and row.status is MessageStatus.DELIVERED and row.updated_at == NOW


def test_a_late_sent_never_moves_a_delivered_message_back(session, shop):
    message = queue(session, shop)
    sid = as_sent(session, message)
    record_status(session=session, provider_sid=sid, status="delivered")

    for late in ("sent", "queued", "sending", MessageStatus.SENT):
        row = record_status(session=session, provider_sid=sid, status=late)
        assert row.status is MessageStatus.DELIVERED


def test_a_final_status_stays_final(session, shop):
    message = queue(session, shop)
    sid = as_sent(session, message)
    record_status(
        session=session,
        provider_sid=sid,
        status="undelivered",
        error_code=30003,
        error_message="Unreachable destination handset",
    )

    row = record_status(session=session, provider_sid=sid, status="delivered")

    assert row.status is MessageStatus.UNDELIVERED
    assert (row.error_code, row.error_message) == (30003, "Unreachable destination handset")


def test_a_callback_repeated_changes_nothing(session, shop):
    message = queue(session, shop)
    sid = as_sent(session, message)
    first = record_status(session=session, provider_sid=sid, status="delivered", now=NOW)
    again = record_status(
        session=session, provider_sid=sid, status="delivered", now=NOW + timedelta(minutes=1)
    )
    assert again.updated_at == first.updated_at == NOW


def test_a_callback_for_an_unknown_sid_without_a_key_finds_nothing(session, shop):
    queue(session, shop)
    assert record_status(session=session, provider_sid="SM" + "9" * 32, status="sent") is None


def test_a_callback_finds_a_stuck_send_by_its_key_and_records_the_sid(session, shop):
    message = queue(session, shop, key="prompt:t9:2026-11-27")
    message.status = MessageStatus.SENDING
    session.add(message)
    session.flush()

    row = record_status(
        session=session,
        provider_sid="SM" + "2" * 32,
        status="queued",
        idempotency_key="prompt:t9:2026-11-27",
        now=NOW,
    )

    assert row.id == message.id and row.provider_sid == "SM" + "2" * 32
    assert row.status is MessageStatus.SENT and row.sent_at == NOW


def test_a_key_never_takes_a_second_sid(session, shop):
    message = queue(session, shop, key="k")
    sid = as_sent(session, message)
    assert (
        record_status(
            session=session, provider_sid="SM" + "3" * 32, status="sent", idempotency_key="k"
        )
        is None
    )
    assert message.provider_sid == sid


def test_an_unknown_status_word_is_ignored(session, shop):
    message = queue(session, shop)
    sid = as_sent(session, message)
    row = record_status(session=session, provider_sid=sid, status="teleported")
    assert row.status is MessageStatus.SENT


# --- the owner's review ---


def test_the_owner_can_resend_a_message_in_review_but_never_a_sent_one(session, shop):
    message = queue(session, shop)
    message.status, message.attempts = MessageStatus.REVIEW, 2
    requeue_message(session=session, message=message, now=NOW)
    assert message.status is MessageStatus.QUEUED and message.attempts == 0

    as_sent(session, message)
    with pytest.raises(ValueError, match="only a message in review or failed"):
        requeue_message(session=session, message=message, now=NOW)


def test_the_owner_can_close_a_message_in_review_as_sent(session, shop):
    message = queue(session, shop)
    with pytest.raises(ValueError, match="only a message in review"):
        mark_message_sent(session=session, message=message, now=NOW)
    message.status = MessageStatus.REVIEW
    mark_message_sent(session=session, message=message, now=NOW)
    assert message.status is MessageStatus.SENT and message.sent_at == NOW


# --- insert_message: queue_message in one statement ---


def insert(session, shop, key="reply:SM1", **fields):
    values = {"to_phone": PHONE, "body": "好的,週四送到。", "kind": MessageKind.CONFIRMATION}
    return insert_message(session=session, shop_id=shop.id, idempotency_key=key,
                          **(values | fields))


def test_insert_message_queues_once_per_key(session, shop, customer):
    first = insert(session, shop, customer_id=customer.id, not_before=NOW)
    again = insert(session, shop, body="another text")

    assert isinstance(first, int) and again is None
    [row] = list_messages(session=session, shop_id=shop.id)
    assert (row.id, row.body, row.status, row.kind) == (
        first, "好的,週四送到。", MessageStatus.QUEUED, MessageKind.CONFIRMATION)
    assert (row.customer_id, row.not_before, row.attempts) == (customer.id, NOW, 0)


def test_insert_message_refuses_another_shops_key_and_bad_fields(session, shop, customer,
                                                                  settings):
    other = create_shop(session=session, shop_in=ShopCreate.from_params(
        settings.shop, name="Chen's Water"), products=settings.products)
    insert(session, other, key="shared")
    with pytest.raises(DuplicateError):
        insert(session, shop, key="shared")
    with pytest.raises(ValidationError):
        insert(session, shop, key="bad-phone", to_phone="12")
    with pytest.raises(ValidationError):
        insert(session, shop, key="empty", body="")
    with pytest.raises(ValueError, match="customer_id"):
        insert(session, other, key="theirs", customer_id=customer.id)
    assert insert(session, shop, key="local", to_phone="+886 912-345-678") is not None
