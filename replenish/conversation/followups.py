"""Follow-ups: "how was today's delivery?" after a drop recorded as delivered.

``follow_up(session=, shop=, now=, settings=)`` asks once per drop (``followup:<drop>``)
delivered today or ``FOLLOW_UP_DAYS`` before: after a customer's first drop, then at most
once in ``conversation.followup_every_days``; never before the drop is recorded done,
never to an opted-out customer, never in quiet hours (``not_before``). Like the rest of
the conversation it takes ``now`` and writes in the caller's session (flush, no commit).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from replenish.conversation.decisions import Action, Decision, FollowUpResult
from replenish.conversation.rules import SendClock
from replenish.conversation.texts import message_text
from replenish.core.types import DropStatus
from replenish.db.models import (
    Customer,
    Drop,
    MessageKind,
    OutboundMessage,
    Product,
    Shop,
    Tank,
)
from replenish.db.queries.messages import queue_message
from replenish.settings import Settings

__all__ = ["FOLLOW_UP_DAYS", "follow_up"]

FOLLOW_UP_DAYS = 1  # ask about drops delivered today or this many days before


def _asked_lately(session: Session, customer_ids: set[int], now: datetime,
                  settings: Settings) -> set[int]:
    """Those of ``customer_ids`` a follow-up went to within ``followup_every_days`` (none
    at 0)."""
    days = settings.conversation.followup_every_days
    if days == 0 or not customer_ids:
        return set()
    m = OutboundMessage
    since = now - timedelta(days=days)
    moment = func.coalesce(col(m.not_before), col(m.created_at))
    return {c for c in session.exec(select(m.customer_id).where(
        col(m.customer_id).in_(customer_ids), m.kind == MessageKind.FOLLOWUP,
        moment > since).distinct()).all() if c is not None}


def follow_up(*, session: Session, shop: Shop, now: datetime, settings: Settings,
              within_days: int = FOLLOW_UP_DAYS) -> FollowUpResult:
    """Ask how it went, once per drop recorded as delivered (today or ``within_days``
    before): never before the drop is recorded done, never to an opted-out customer."""
    assert shop.id is not None
    clock = SendClock.of(now, shop, settings)
    statement = (
        select(Drop, Tank, Customer, Product)
        .join(Tank, col(Tank.id) == col(Drop.tank_id))
        .join(Customer, col(Customer.id) == col(Tank.customer_id))
        .join(Product, col(Product.id) == col(Tank.product_id))
        .where(Drop.shop_id == shop.id, Drop.status == DropStatus.DELIVERED,
               col(Drop.delivered_on) >= clock.today - timedelta(days=within_days),
               col(Drop.delivered_on) <= clock.today)
        .order_by(col(Drop.id))
    )
    decisions = []
    rows = session.exec(statement).all()
    keys = [f"followup:{drop.id}" for drop, _, _, _ in rows]
    asked = set(session.exec(select(OutboundMessage.idempotency_key).where(
        col(OutboundMessage.idempotency_key).in_(keys))).all()) if keys else set()
    lately = _asked_lately(session, {customer.id or 0 for _, _, customer, _ in rows},
                           clock.now, settings)
    for (drop, tank, customer, product), key in zip(rows, keys, strict=True):
        if (drop.at is not None and drop.at > now) or key in asked:
            continue  # not poured yet (as of ``now``), or already asked
        if customer.id in lately:
            continue
        decision = Decision(customer.id or 0, customer.name, Action.SKIP, "opted out", tank.id,
                            product.key, drop_on=drop.delivered_on, quantity=drop.quantity)
        if not customer.opted_out:
            body = message_text("followup", settings=settings, shop=shop, customer=customer,
                                product=product, quantity=drop.quantity,
                                drop_day=drop.delivered_on)
            queue_message(session=session, shop_id=shop.id, customer_id=customer.id,
                          to_phone=customer.phone, body=body, kind=MessageKind.FOLLOWUP,
                          idempotency_key=key, not_before=clock.send_at)
            if settings.conversation.followup_every_days:
                lately.add(customer.id or 0)
            decision = Decision(customer.id or 0, customer.name, Action.FOLLOW_UP,
                                f"drop #{drop.id} delivered", tank.id, product.key,
                                drop_on=drop.delivered_on, quantity=drop.quantity,
                                send_at=clock.send_at)
        decisions.append(decision)
    session.flush()
    return FollowUpResult(decisions=tuple(decisions))
