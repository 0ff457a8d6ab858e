"""A customer who says the tank is empty, or nearly ("沒米了", "we're out", "快沒了"): the
first drop possible, booked at once, without waiting for the nightly plan.

``rush`` turns the ``level_thanks`` outcome of such a text into ``rushed``: a drop on the
first day still possible (tomorrow, or the first day after an away or no-delivery hold),
filling the tank, and a text back that names the day ("reply 3 if you don't need it").
"Nearly" is at most ``OUT_SHARE`` of the tank. The day counts from today, not from when
the answer goes out: "we're out" at 22:00 brings rice tomorrow, and the answer goes at
08:00. In turn:

* **an open proposal for that tank** (proposed, snoozed or booked): it is booked for that
  day with the tank's fill (a drop booked for today stays as it is: it may be on the
  van); a ``confirm`` customer who says they are out has said yes;
* **else a drop already planned** (the owner booked it by phone): it moves to that day
  (unless it is today's);
* **else** a new proposal, booked, in the cycle ``tank:<id>:<today>`` (``new_cycle_key``).
  A cycle already settled today (declined, delivered) books nothing: a person decides.

Nothing is rushed for an opted-out customer (no text could confirm it), a level the
text does not tie to one tank, or a tank filled today (old news, or a mistake: only the
reading is kept). The reading itself is recorded as for any level. The
caller applies the outcome to the row (``booking.move_proposal``) and flushes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from replenish.conversation.lookup import CustomerTanks
from replenish.conversation.outgoing import new_cycle_key
from replenish.conversation.rules import drop_day, planned_drop
from replenish.core.conversation import Outcome, ProposalState
from replenish.core.conversation import Proposal as Offer
from replenish.core.depletion import drop_size
from replenish.core.types import DropStatus
from replenish.db.history import capacity_of
from replenish.db.models import Customer, Drop, Product, Proposal, Tank
from replenish.db.queries.proposals import create_proposal

__all__ = ["OUT_SHARE", "Rushed", "rush"]

OUT_SHARE = 0.1  # at most this share of the tank left: "we're out", for all we can do


@dataclass(frozen=True)
class Rushed:
    """What ``rush`` decided: the outcome to apply to ``row`` (None: the owner's planned
    drop was moved instead, ``moved_drop_id``)."""

    outcome: Outcome
    row: Proposal | None
    moved_drop_id: int | None = None


def rush(*, session: Session, customer: Customer, tank: Tank | None, row: Proposal | None,
         offer: Offer, outcome: Outcome, tanks: CustomerTanks, products: Mapping[str, Product],
         today: date, now: datetime) -> Rushed | None:
    """The rushed outcome for a level ``outcome`` about ``tank``; None to leave it a plain
    level (not low, opted out, no tank, another tank's proposal open, cycle settled)."""
    if customer.opted_out or tank is None or tank.id is None or customer.id is None:
        return None
    product = next((p for p in products.values() if p.id == tank.product_id), None)
    if product is None:
        return None
    forecast = tanks.forecast.get(tank.id)
    capacity = forecast.capacity if forecast is not None else capacity_of(tank, product)
    if outcome.level_amount is not None:
        level = outcome.level_amount
    elif outcome.level_fraction is not None:
        level = outcome.level_fraction * capacity
    else:
        return None
    if level > OUT_SHARE * capacity + 1e-9:
        return None
    if session.exec(select(Drop.id).where(
            Drop.tank_id == tank.id, Drop.status == DropStatus.DELIVERED,
            Drop.delivered_on == today)).first() is not None:
        return None  # filled today: old news, or a mistake
    fill = drop_size(capacity - level, bag_sizes=tuple(product.bag_sizes),
                     min_drop=product.min_drop)
    earliest, _ = drop_day(session=session, customer_id=customer.id,
                           day=today + timedelta(days=1))
    if row is not None:
        if row.tank_id != tank.id:
            return None
        coming = offer.state is ProposalState.BOOKED and offer.drop_on == today  # en route:
        booked = replace(offer, state=ProposalState.BOOKED, product=product.key,  # as loaded
                         drop_on=today if coming else earliest,
                         quantity=offer.quantity if coming else fill, snoozed_until=None)
        return Rushed(replace(outcome, proposal=booked, message="rushed"), row)
    planned = planned_drop(session=session, tank_id=tank.id, since=today)
    if planned is not None:
        if planned.delivered_on not in (today, earliest):  # later, or on a held day
            planned.delivered_on = earliest
            session.add(planned)
        told = Offer(mode=customer.delivery_mode, state=ProposalState.BOOKED,
                     product=product.key, drop_on=planned.delivered_on,
                     quantity=planned.quantity)
        return Rushed(replace(outcome, proposal=told, message="rushed"), None, planned.id)
    key, _ = new_cycle_key(session, tank.id, today)
    if key is None:
        return None
    new = create_proposal(session=session, tank=tank, product=product, customer=customer,
                          drop_on=earliest, quantity=fill, cycle_key=key,
                          state=ProposalState.PROPOSED, now=now)
    booked = Offer(mode=customer.delivery_mode, state=ProposalState.BOOKED, product=product.key,
                   drop_on=earliest, quantity=fill)
    return Rushed(replace(outcome, proposal=booked, message="rushed"), new)
