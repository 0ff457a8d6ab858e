"""The inbox: texts customers send. Functions add and flush; the caller commits.

``record_inbound`` stores a text (a retried webhook, the same MessageSid, is stored
once); ``store_inbound`` is the webhook's one-statement form of it (``INSERT ... SELECT
... ON CONFLICT DO NOTHING RETURNING``, the addressee found in the same statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from replenish.db.errors import NotFoundError
from replenish.db.models import Customer, Shop
from replenish.db.models.messages import InboundMessage, InboundMessageCreate
from replenish.db.queries._common import check_reference, dialect_insert
from replenish.db.values import normalize_phone

__all__ = ["list_inbound", "mark_inbound_handled", "record_inbound", "store_inbound"]


def record_inbound(
    *,
    session: Session,
    shop_id: int,
    provider_sid: str,
    from_phone: str,
    to_phone: str,
    body: str,
    received_at: datetime,
    customer_id: int | None = None,
) -> tuple[InboundMessage, bool]:
    """Store a text a customer sent; ``created`` is False for a retried webhook (same sid).

    The retry returns the row stored the first time, unchanged.
    """
    existing = _find_inbound(session, provider_sid)
    if existing is not None:
        return existing, False
    check_reference(session, Customer, shop_id=shop_id, row_id=customer_id, field="customer_id")
    inbound_in = InboundMessageCreate.model_validate(
        {
            "provider_sid": provider_sid,
            "from_phone": from_phone,
            "to_phone": to_phone,
            "body": body,
            "received_at": received_at,
            "customer_id": customer_id,
        }
    )
    inbound = InboundMessage.model_validate(inbound_in, update={"shop_id": shop_id})
    try:
        with session.begin_nested():  # Twilio may retry while the first is still running
            session.add(inbound)
    except IntegrityError:
        existing = _find_inbound(session, provider_sid)
        if existing is None:
            raise
        return existing, False
    return inbound, True


def store_inbound(
    *,
    connection: sa.Connection,
    provider_sid: str,
    from_phone: str,
    to_phone: str,
    body: str,
    received_at: datetime,
    opt_out_type: str | None = None,
) -> int | None:
    """Store a text in one statement (the webhook's store); its id, or None for a retried
    webhook (the same sid, stored before, left unchanged). The caller commits.
    ``opt_out_type`` is Twilio's ``OptOutType`` (STOP, START, HELP), kept with the text.

    The text belongs to the first shop (by id) with a customer of that phone (linked to
    that customer), else to the first shop: all shops share one Twilio account, so ``To``
    cannot tell them apart. Raises NotFoundError when there is no shop at all, and
    ValidationError for fields too long to store.
    """
    fields = {"provider_sid": provider_sid, "from_phone": from_phone, "to_phone": to_phone,
              "body": body, "received_at": received_at,
              "opt_out_type": (opt_out_type or "").strip().upper()[:16] or None}
    if not (0 < len(provider_sid) <= 64 and 0 < len(from_phone) <= 32
            and 0 < len(to_phone) <= 32 and received_at.utcoffset() is not None):
        InboundMessageCreate.model_validate(  # raises, saying which field
            {k: v for k, v in fields.items() if k != "opt_out_type"})
    statement = _store_statement(connection.dialect.name)
    new_id = connection.execute(statement, fields | {"phone": _lookup_phone(from_phone)}).scalar()
    if new_id is not None:
        return int(new_id)
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    stored = connection.execute(
        sa.select(table.c.id).where(table.c.provider_sid == provider_sid)
    ).scalar()
    if stored is None:
        raise NotFoundError("no shop yet: run `replenish init`")
    return None


@lru_cache(maxsize=4)
def _store_statement(dialect: str) -> Any:
    """``INSERT INTO inbound_messages (...) SELECT :sid, ..., <customer>, <shop> WHERE a
    shop exists ON CONFLICT (provider_sid) DO NOTHING RETURNING id``, built once."""
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    customers = Customer.__table__  # type: ignore[attr-defined]
    shops = Shop.__table__  # type: ignore[attr-defined]
    phone = sa.bindparam("phone", type_=customers.c.phone.type)

    def first(column: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        # shop by shop (the unique (shop_id, phone) index answers each probe)
        return (
            sa.select(column)
            .select_from(shops.join(customers, customers.c.shop_id == shops.c.id))
            .where(customers.c.phone == phone)
            .order_by(shops.c.id)
            .limit(1)
            .scalar_subquery()
        )

    first_shop = sa.select(sa.func.min(shops.c.id)).scalar_subquery()
    given = ("provider_sid", "from_phone", "to_phone", "body", "received_at", "opt_out_type")
    row = sa.select(
        *(sa.bindparam(name, type_=table.c[name].type) for name in given),
        first(customers.c.id),
        sa.func.coalesce(first(customers.c.shop_id), first_shop),
        sa.literal(False, table.c.handled.type),
    ).where(sa.exists(sa.select(shops.c.id)))  # (a WHERE also keeps SQLite's upsert unambiguous)
    return (
        dialect_insert(dialect, table)
        .from_select([*given, "customer_id", "shop_id", "handled"], row)
        .on_conflict_do_nothing(index_elements=["provider_sid"])
        .returning(table.c.id)
    )


@lru_cache(maxsize=4096)
def _lookup_phone(raw: str) -> str:
    """A sender's number as customers are stored (E.164), or as sent when it is no number."""
    try:
        return normalize_phone(raw, region=None)
    except ValueError:
        return raw


def _find_inbound(session: Session, provider_sid: str) -> InboundMessage | None:
    statement = select(InboundMessage).where(InboundMessage.provider_sid == provider_sid)
    return session.exec(statement).first()


def list_inbound(
    *,
    session: Session,
    shop_id: int,
    handled: bool | None = None,
    customer_id: int | None = None,
    limit: int | None = None,
) -> Sequence[InboundMessage]:
    """The shop's inbox, newest first."""
    statement = select(InboundMessage).where(InboundMessage.shop_id == shop_id)
    if handled is not None:
        statement = statement.where(InboundMessage.handled == handled)
    if customer_id is not None:
        statement = statement.where(InboundMessage.customer_id == customer_id)
    statement = statement.order_by(
        col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc()
    ).limit(limit)
    return session.exec(statement).all()


def mark_inbound_handled(*, session: Session, inbound: InboundMessage) -> None:
    inbound.handled = True
    session.add(inbound)
    session.flush()
