"""A rice customer of Wang's Rice (Tainan) with a 40 kg tank, and a way to text the shop.

Proposals are made here directly with the Proposal model (making them is the job of
``replenish.conversation.outgoing``); texts arrive through ``record_inbound`` as the
webhook stores them, then ``handle_inbound`` applies them.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from replenish.conversation.inbound import InboundResult, handle_inbound
from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode, TankShape
from replenish.db.models import (
    Customer,
    CustomerCreate,
    OutboundMessage,
    Proposal,
    Shop,
    Tank,
    TankCreate,
)
from replenish.db.queries import add_tank, create_customer, get_product
from replenish.db.queries.inbound import record_inbound
from replenish.settings import Settings

# Tuesday 24 Nov 2026, 10:00 in Taipei: the shop is open
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
THURSDAY = date(2026, 11, 26)
_sids = itertools.count(1)


@pytest.fixture
def customer(session: Session, shop: Shop) -> Customer:
    return create_customer(session=session, shop=shop, customer_in=CustomerCreate(
        name="王太太", phone="0912 345 678"))


@pytest.fixture
def tank(session: Session, shop: Shop, customer: Customer) -> Tank:
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    return add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))


def propose(session: Session, tank: Tank, *, quantity: float = 10.0, drop_on: date = THURSDAY,
            state: ProposalState = ProposalState.PROPOSED,
            mode: DeliveryMode = DeliveryMode.CONFIRM, told: bool = False) -> Proposal:
    """A proposal; ``told``: its text named its day (else nothing is known of the text)."""
    proposal = Proposal(shop_id=tank.shop_id, customer_id=tank.customer_id, tank_id=tank.id,
                        product_id=tank.product_id, mode=mode, state=state, drop_on=drop_on,
                        quantity=quantity, cycle_key=f"tank{tank.id}:{drop_on}:{next(_sids)}",
                        prompted_at=NOW, told_on=drop_on if told else None)
    session.add(proposal)
    session.flush()
    return proposal


class Phone:
    """The customer's phone: ``text("好")`` stores and applies a reply, like the webhook."""

    def __init__(self, session: Session, shop: Shop, settings: Settings, number: str) -> None:
        self.session, self.shop, self.settings, self.number = session, shop, settings, number

    def text(self, body: str, *, at: datetime = NOW, sid: str | None = None) -> InboundResult:
        sid = sid or f"SM{next(_sids):032x}"
        inbound, created = record_inbound(session=self.session, shop_id=self.shop.id,
                                          provider_sid=sid, from_phone=self.number,
                                          to_phone="+15005550006", body=body, received_at=at)
        return handle_inbound(session=self.session, inbound=inbound, now=at,
                              settings=self.settings)

    def outbox(self) -> list[OutboundMessage]:
        return list(self.session.exec(select(OutboundMessage)
                                      .where(OutboundMessage.to_phone == self.number)
                                      .order_by(OutboundMessage.id)).all())


@pytest.fixture
def phone(session: Session, shop: Shop, settings: Settings, customer: Customer) -> Phone:
    return Phone(session, shop, settings, customer.phone)
