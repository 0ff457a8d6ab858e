"""The outbox. Functions add and flush; the caller commits. (The inbox: ``inbound``.)

``queue_message`` is called in the same transaction as the change that causes the text
(a booking, a prompt), so both are committed together or not at all; the dispatcher
(``replenish.sms.dispatch``) sends it later. Status callbacks go through
``record_status``; it is safe to repeat.

``insert_message`` is ``queue_message`` in one statement for the reply path
(``INSERT ... ON CONFLICT DO NOTHING RETURNING``, no ORM object: the id of the new row,
or None when the key was already queued).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from replenish.db.columns import utcnow
from replenish.db.errors import DuplicateError
from replenish.db.models import Customer
from replenish.db.models.messages import (
    STATUS_RANK,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    OutboundMessageCreate,
)
from replenish.db.queries._common import check_reference, dialect_insert, get_owned

__all__ = [
    "find_message_by_key",
    "get_message",
    "insert_message",
    "list_messages",
    "mark_message_sent",
    "provider_status",
    "queue_message",
    "record_status",
    "requeue_message",
]

logger = logging.getLogger(__name__)

# Twilio's message statuses (the de facto vocabulary of SMS providers) -> ours.
_PROVIDER_STATUS: dict[str, MessageStatus] = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "partially_delivered": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}
_ERROR_STATUSES = (MessageStatus.UNDELIVERED, MessageStatus.FAILED)


def provider_status(value: str) -> MessageStatus | None:
    """A provider's status word (``"queued"``, ``"delivered"`` ...) as ours; None if unknown.

    Every status that means "the provider has it" (queued, accepted, sending ...) is
    ``sent`` here: in our outbox ``queued`` means not yet handed over.
    """
    return _PROVIDER_STATUS.get(value.strip().lower())


# --- Outbound -----------------------------------------------------------------------------


def queue_message(
    *,
    session: Session,
    shop_id: int,
    to_phone: str,
    body: str,
    kind: MessageKind | str,
    idempotency_key: str,
    customer_id: int | None = None,
    not_before: datetime | None = None,
) -> OutboundMessage:
    """Put a text in the outbox; the same ``idempotency_key`` again returns the first row.

    ``to_phone`` must be international (E.164, ``+886912345678``). ``not_before`` (aware)
    holds the text back, for quiet hours that the caller works out. Raises
    ValidationError for bad fields, DuplicateError when the key belongs to another shop.
    """
    existing = find_message_by_key(session=session, idempotency_key=idempotency_key)
    if existing is not None:
        return _same_shop_or_raise(existing, shop_id)
    check_reference(session, Customer, shop_id=shop_id, row_id=customer_id, field="customer_id")
    message_in = OutboundMessageCreate.model_validate(
        {
            "customer_id": customer_id,
            "to_phone": to_phone,
            "body": body,
            "kind": kind,
            "idempotency_key": idempotency_key,
            "not_before": not_before,
        }
    )
    now = utcnow()
    message = OutboundMessage.model_validate(
        message_in, update={"shop_id": shop_id, "created_at": now, "updated_at": now}
    )
    try:
        with session.begin_nested():  # a concurrent caller may queue the same key
            session.add(message)
    except IntegrityError:
        existing = find_message_by_key(session=session, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return _same_shop_or_raise(existing, shop_id)
    return message


def insert_message(
    *,
    session: Session,
    shop_id: int,
    to_phone: str,
    body: str,
    kind: MessageKind | str,
    idempotency_key: str,
    customer_id: int | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> int | None:
    """``queue_message`` in one statement (``INSERT ... ON CONFLICT DO NOTHING RETURNING``):
    the new row's id, or None when ``idempotency_key`` was already queued for this shop
    (DuplicateError when another shop's). Runs in the session's transaction; no ORM object
    is made (a later query in the session finds the row as usual). The fields are checked
    as ``queue_message`` checks them."""
    check_reference(session, Customer, shop_id=shop_id, row_id=customer_id, field="customer_id")
    values = _outbound_fields(customer_id=customer_id, to_phone=to_phone, body=body, kind=kind,
                              idempotency_key=idempotency_key, not_before=not_before)
    stamp = now or utcnow()
    values |= {"shop_id": shop_id, "status": MessageStatus.QUEUED, "attempts": 0,
               "created_at": stamp, "updated_at": stamp}
    bind = session.connection()
    new_id = bind.execute(_insert_message_statement(bind.dialect.name), values).scalar()
    if new_id is not None:
        return int(new_id)
    table = OutboundMessage.__table__  # type: ignore[attr-defined]
    owner = bind.execute(
        sa.select(table.c.shop_id).where(table.c.idempotency_key == idempotency_key)
    ).scalar()
    if owner is not None and owner != shop_id:
        raise DuplicateError(
            f"idempotency_key: {idempotency_key!r} is already used by another shop; "
            "make keys unique across shops (include row ids)",
            field="idempotency_key",
        )
    return None


_OUTBOUND_FIELDS = ("customer_id", "to_phone", "body", "kind", "idempotency_key", "not_before")
_E164_SEEN: dict[str, None] = {}  # numbers OutboundMessageCreate has accepted as they are


def _outbound_fields(**fields: Any) -> dict[str, Any]:
    """``OutboundMessageCreate``'s checks, without its phone parsing for a number it has
    already accepted unchanged (the customer's E.164 phone, answer after answer)."""
    body, key, kind = fields["body"], fields["idempotency_key"], fields["kind"]
    not_before = fields["not_before"]
    if (fields["to_phone"] in _E164_SEEN and 1 <= len(body) <= 1600 and 1 <= len(key) <= 200
            and kind in _KINDS and (not_before is None or not_before.utcoffset() is not None)):
        return fields | {"kind": MessageKind(kind)}
    checked = OutboundMessageCreate.model_validate(fields)
    if checked.to_phone == fields["to_phone"]:
        if len(_E164_SEEN) >= 10_000:
            _E164_SEEN.clear()
        _E164_SEEN[checked.to_phone] = None
    return checked.model_dump()


_KINDS = frozenset(MessageKind) | frozenset(k.value for k in MessageKind)


@lru_cache(maxsize=4)
def _insert_message_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, built once."""
    table = OutboundMessage.__table__  # type: ignore[attr-defined]
    names = (*_OUTBOUND_FIELDS, "shop_id", "status", "attempts", "created_at", "updated_at")
    return (
        dialect_insert(dialect, table)
        .values({name: sa.bindparam(name, type_=table.c[name].type) for name in names})
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )


def _same_shop_or_raise(existing: OutboundMessage, shop_id: int) -> OutboundMessage:
    if existing.shop_id != shop_id:
        raise DuplicateError(
            f"idempotency_key: {existing.idempotency_key!r} is already used by another shop; "
            "make keys unique across shops (include row ids)",
            field="idempotency_key",
        )
    return existing


def find_message_by_key(*, session: Session, idempotency_key: str) -> OutboundMessage | None:
    statement = select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    return session.exec(statement).first()


def get_message(*, session: Session, shop_id: int, message_id: int) -> OutboundMessage:
    """One outbox row of this shop, else NotFoundError."""
    return get_owned(session, OutboundMessage, shop_id=shop_id, row_id=message_id)


def list_messages(
    *,
    session: Session,
    shop_id: int,
    status: MessageStatus | None = None,
    customer_id: int | None = None,
    limit: int | None = None,
) -> Sequence[OutboundMessage]:
    """The shop's outbox, newest first."""
    statement = select(OutboundMessage).where(OutboundMessage.shop_id == shop_id)
    if status is not None:
        statement = statement.where(OutboundMessage.status == status)
    if customer_id is not None:
        statement = statement.where(OutboundMessage.customer_id == customer_id)
    statement = statement.order_by(col(OutboundMessage.id).desc()).limit(limit)
    return session.exec(statement).all()


def record_status(
    *,
    session: Session,
    provider_sid: str,
    status: MessageStatus | str,
    error_code: int | None = None,
    error_message: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage | None:
    """Record a status callback; it never moves a message backwards.

    ``status`` is ours or the provider's word (``"delivered"``). A late ``sent`` after
    ``delivered`` changes nothing, and a final status (delivered, undelivered, failed)
    stays. A callback for a sid we never recorded (the sender stopped mid-send) finds its
    message by ``idempotency_key`` (from the StatusCallback URL) and attaches the sid: this
    is how an interrupted send is reconciled without asking the provider.

    Returns the message (None if no message matches). An unknown status word is logged
    and ignored, so that a provider's new word never fails its webhook.
    """
    new = status if isinstance(status, MessageStatus) else provider_status(status)
    row = _find_by_sid(session, provider_sid)
    if new is None:
        logger.warning("ignoring unknown message status %r for %s", status, provider_sid)
        return row
    now = now or utcnow()
    changes: dict[str, object] = {"status": new, "updated_at": now}
    if new in _ERROR_STATUSES:
        changes |= {"error_code": error_code, "error_message": error_message}
    table = OutboundMessage
    if row is not None:
        lower = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[new]]
        _update(
            session,
            sa.update(table)
            .where(col(table.provider_sid) == provider_sid, col(table.status).in_(lower))
            .values(**changes),
        )
        return _find_by_sid(session, provider_sid)
    if idempotency_key is None:
        return None
    if STATUS_RANK[new] < STATUS_RANK[MessageStatus.SENT]:
        changes["status"] = MessageStatus.SENT
    unsettled = (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.REVIEW)
    _update(
        session,
        sa.update(table)
        .where(
            col(table.idempotency_key) == idempotency_key,
            col(table.provider_sid).is_(None),
            col(table.status).in_(unsettled),
        )
        .values(**changes, provider_sid=provider_sid, sent_at=now, next_attempt_at=None),
    )
    return _find_by_sid(session, provider_sid)


def _update(session: Session, statement: sa.Update) -> None:
    session.execute(statement.execution_options(synchronize_session=False))


def _find_by_sid(session: Session, provider_sid: str) -> OutboundMessage | None:
    statement = (
        select(OutboundMessage)
        .where(OutboundMessage.provider_sid == provider_sid)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def requeue_message(*, session: Session, message: OutboundMessage, now: datetime) -> None:
    """Send a message in review (or failed) again: the owner checked it never arrived.

    Its attempts start over. Raises ValueError for a message that is not in review or
    failed (a sent message is never sent twice).
    """
    if message.status not in (MessageStatus.REVIEW, MessageStatus.FAILED):
        raise ValueError(
            f"message {message.id} is {message.status.value}; only a message in review or "
            "failed can be sent again"
        )
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = None
    message.updated_at = now
    session.add(message)
    session.flush()


def mark_message_sent(*, session: Session, message: OutboundMessage, now: datetime) -> None:
    """Close a message in review as sent: the owner checked that it arrived."""
    if message.status is not MessageStatus.REVIEW:
        raise ValueError(
            f"message {message.id} is {message.status.value}; only a message in review can "
            "be marked as sent"
        )
    message.status = MessageStatus.SENT
    message.sent_at = message.sent_at or now
    message.updated_at = now
    session.add(message)
    session.flush()
