"""A settled answer written down: the proposal row and the drop it books.

``inbound.apply_claimed`` (a text) and ``inbound.book_by_phone`` (the owner's call) decide
the outcome; ``take_over_planned`` points a booking at a drop the shop already planned by
hand (a tank takes one planned drop at a time, docs/sms.md), and ``move_proposal`` writes
the outcome into the row and its drop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import Session, select

from replenish.conversation.lookup import CustomerTanks, InboundLookup
from replenish.conversation.rules import loyalty_count, loyalty_note, planned_drop
from replenish.core.conversation import Outcome, ProposalState
from replenish.core.conversation import Proposal as Offer
from replenish.core.types import DropStatus
from replenish.db.models import Product, Proposal
from replenish.db.queries.records import add_drop
from replenish.settings import Settings

__all__ = ["move_proposal", "take_over_planned"]

# answers that settle (or re-settle) the proposal: it counts as answered
ANSWERS = ("booked", "rushed", "snoozed", "snoozed_soon", "declined", "stopped")


def take_over_planned(session: Session, lookup: InboundLookup, row: Proposal,
                       offer: Offer, outcome: Outcome, tanks: CustomerTanks,
                       products: Mapping[str, Product], today: date) -> Outcome:
    """A booking for a tank the shop has already planned a drop into by hand (one no
    proposal holds) takes that drop over rather than adding a second: ``row`` points at
    it, and it comes with the booking's amount on the day the answer named (a day the
    customer asked for, or "we're out"'s first day possible), else on the sooner of the
    offer's day and the shop's. A drop planned for today is on its way: its day and
    amount stay."""
    p = outcome.proposal
    current = lookup.drop(row.drop_id)
    if p.state is not ProposalState.BOOKED or (
            current is not None and current.status in (DropStatus.PLANNED, DropStatus.DELIVERED)):
        return outcome
    product, new_tank = products[p.product], tanks.tank.get(p.product)
    tank_id = (new_tank.id if product.id != row.product_id and new_tank is not None
               and new_tank.id is not None else row.tank_id)
    planned = planned_drop(session=session, tank_id=tank_id, since=today)
    if planned is None or session.exec(select(Proposal.id).where(
            Proposal.drop_id == planned.id)).first() is not None:
        return outcome
    row.drop_id = planned.id
    lookup.keep_drop(planned)
    if planned.delivered_on == today:
        return replace(outcome, proposal=replace(p, drop_on=today, quantity=planned.quantity))
    named = p.drop_on != offer.drop_on
    return replace(outcome, proposal=replace(
        p, drop_on=p.drop_on if named else min(p.drop_on, planned.delivered_on)))


def move_proposal(session: Session, lookup: InboundLookup, row: Proposal, outcome: Outcome,
                   tanks: CustomerTanks, products: Mapping[str, Product], *, now: datetime,
                   settings: Settings) -> int | None:
    """Write the outcome into the proposal row and its planned drop; the booked drop's id.

    The drop is written first (a new one is inserted for its id), then the row's changes
    in one go: the caller flushes."""
    p = outcome.proposal
    product = products[p.product]
    new_tank = tanks.tank.get(p.product)
    product_id, tank_id = row.product_id, row.tank_id
    if product.id != row.product_id and new_tank is not None:  # "要水": the water tank
        assert product.id is not None and new_tank.id is not None
        product_id, tank_id = product.id, new_tank.id
    drop = lookup.drop(row.drop_id)
    drop_id = row.drop_id
    if p.state is ProposalState.BOOKED:
        if drop is None:  # planned once: a drop keyed proposal:<id> comes back as it is
            tank = lookup.tank(tank_id)
            note = loyalty_note(loyalty_count(session=session, customer_id=row.customer_id,
                                              settings=settings))
            drop = add_drop(session=session, tank=tank, product=product, delivered_on=p.drop_on,
                            quantity=p.quantity, settings=settings, status=DropStatus.PLANNED,
                            idempotency_key=f"proposal:{row.id}", now=now, note=note)
            lookup.keep_drop(drop)
        if drop.status is not DropStatus.DELIVERED:  # (a new one already is as planned)
            drop.tank_id, drop.delivered_on, drop.quantity = tank_id, p.drop_on, p.quantity
            drop.status = DropStatus.PLANNED
            session.add(drop)
        drop_id = drop.id
    elif drop is not None and drop.status is DropStatus.PLANNED:
        drop.status = DropStatus.CANCELLED  # "3": skip it; "2": ask again later
        session.add(drop)
    row.product_id, row.tank_id, row.drop_id = product_id, tank_id, drop_id
    row.state, row.quantity, row.drop_on = p.state, p.quantity, p.drop_on
    row.snoozed_until = p.snoozed_until
    if outcome.message in ANSWERS:
        row.answered_at = now
    row.updated_at = now
    session.add(row)
    return drop_id if p.state is ProposalState.BOOKED else None
