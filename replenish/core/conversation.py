"""What a customer's reply does to a proposed drop (pure: no database, no clock).

A *proposal* is one drop the shop offers: customer, product, day, quantity. It starts
``proposed`` for ``confirm`` and ``will-call`` customers and ``booked`` for ``auto``
customers (standing consent: they get a heads-up, and are booked unless they say
otherwise). ``answer`` takes the proposal and the understood reply and returns an
``Outcome``: the new state, what is booked, which message to send back, and what the
rest of the system should learn (a level, a preference, an opt-out, the inbox).

    state      reply                      ->  state       message back
    proposed   confirm / quantity / product   booked      booked (naming day and quantity)
    proposed   snooze                      -> snoozed     snoozed (asks again on that day)
                                                          or snoozed_soon (see below)
    proposed   decline                     -> declined    declined
    booked     decline (auto: "3")         -> declined    declined
    booked     snooze (auto: "2")          -> snoozed     snoozed
    any        level                       -> unchanged   level_thanks (and a reading)
    any        stop                        -> cancelled   stopped (the one confirmation)
    any        start                       -> unchanged   started
    any        help                        -> unchanged   help
    any        unknown                     -> unchanged   unknown (the owner's inbox)

A ``confirm`` customer is never booked without a yes (confirm, a quantity or a product).

"Later" never waits past the tank: given ``ask_by`` (the last day to ask again and still
bring a drop in time, ``ask_again_by``), a snooze that would ask again after it asks on
that day instead (tomorrow at the soonest), and the answer, ``snoozed_soon``, says the
tank may run low before the day they had in mind. (The caller gives ``ask_by`` for the
first offer of a cycle only: a "later" to the re-ask waits as long as it says.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from replenish.core.depletion import drop_size
from replenish.core.replies import Intent, Reply, ReplyUnit
from replenish.core.types import DeliveryMode

__all__ = ["Outcome", "Proposal", "ProposalState", "TankRoom", "answer", "ask_again_by"]

DEFAULT_SNOOZE_DAYS = 3
ASK_LEAD_DAYS = 2  # ask again this many days before the order-by date: a day to answer


def ask_again_by(order_by: date | None) -> date | None:
    """The last day a snoozed proposal may ask again and still book a drop that comes by
    the tank's order-by date (None: no forecast, no limit)."""
    return None if order_by is None else order_by - timedelta(days=ASK_LEAD_DAYS)


class ProposalState(StrEnum):
    PROPOSED = "proposed"
    BOOKED = "booked"
    SNOOZED = "snoozed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TankRoom:
    """What fits: the room expected on the drop day, and the product's bags."""

    room: float
    bag_sizes: tuple[float, ...]
    min_drop: float
    unit: str


@dataclass(frozen=True)
class Proposal:
    mode: DeliveryMode
    state: ProposalState
    product: str  # product key
    drop_on: date
    quantity: float
    snoozed_until: date | None = None  # ask again (a new proposal) from this day

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"a proposal needs a positive quantity, got {self.quantity!r}")


@dataclass(frozen=True)
class Outcome:
    proposal: Proposal
    message: str  # template key of the reply to send ("" for none)
    note: str = ""  # template key of a polite note appended (e.g. "trimmed")
    level_fraction: float | None = None  # a level the customer reported (0..1 of capacity)
    level_amount: float | None = None  # ... or as an amount in the product's unit
    preferred_product: str | None = None  # the customer's new usual product
    opted_out: bool | None = None  # True: stop; False: start again
    to_inbox: bool = False  # a person should read this reply

    @property
    def booked(self) -> bool:
        return self.proposal.state is ProposalState.BOOKED


def _amount(quantity: float, unit: ReplyUnit | None, room: TankRoom,
            jin_kg: float) -> float | None:
    """A customer's amount in the product's unit; None when it cannot be (litres of rice)."""
    if unit is None or unit.value == room.unit:
        return quantity
    if unit is ReplyUnit.BAG:
        return quantity * (max(room.bag_sizes) if room.bag_sizes else 1.0)
    if unit is ReplyUnit.JIN and room.unit == "kg":
        return quantity * jin_kg
    return None


def _book(p: Proposal, reply: Reply, rooms: Mapping[str, TankRoom], product: str, *,
          today: date, jin_kg: float) -> Outcome:
    """A yes: book, with the asked quantity bounded by the room in the tank."""
    room = rooms[product]
    quantity = p.quantity if product == p.product else _fit(room.room, room)
    note = ""
    if reply.quantity is not None:
        asked = _amount(reply.quantity, reply.unit, room, jin_kg)
        if asked is None:  # an amount we cannot convert: a person decides
            return Outcome(p, "unknown", to_inbox=True)
        if asked > room.room + 1e-9:
            quantity, note = _fit(room.room, room), "trimmed"
        elif asked < room.min_drop:
            quantity, note = room.min_drop, "minimum"
        else:
            quantity = asked
    drop_on = reply.day if reply.day is not None and reply.day >= today else p.drop_on
    booked = replace(p, state=ProposalState.BOOKED, product=product, quantity=quantity,
                     drop_on=drop_on)
    return Outcome(booked, message="booked", note=note,
                   preferred_product=product if product != p.product else None)


def _fit(space: float, room: TankRoom) -> float:
    return drop_size(space, bag_sizes=room.bag_sizes, min_drop=room.min_drop)


def _level(reply: Reply, room: TankRoom, jin_kg: float) -> tuple[float | None, float | None]:
    """The level a reply reports: as a fraction of the tank, or as an amount."""
    amount = None
    if reply.level_quantity is not None:
        amount = _amount(reply.level_quantity, reply.level_unit, room, jin_kg)
    return reply.level_fraction, amount


def answer(p: Proposal, reply: Reply, *, rooms: Mapping[str, TankRoom], today: date,
           snooze_days: int = DEFAULT_SNOOZE_DAYS, jin_kg: float = 0.6,
           ask_by: date | None = None) -> Outcome:
    """What ``reply`` does to ``p``. ``rooms`` has an entry for each product the customer
    has a tank for (at least ``p.product``). ``jin_kg``: one 斤 in kg (0.6 in Taiwan and
    Hong Kong, 0.5 in mainland China). ``ask_by``: the last day a snooze may ask again
    (``ask_again_by``; None: any day)."""
    if p.product not in rooms:
        raise ValueError(f"rooms must include the proposal's product {p.product!r}")
    intent = reply.intent
    if intent is Intent.STOP:
        return Outcome(replace(p, state=ProposalState.CANCELLED), "stopped", opted_out=True)
    if intent is Intent.START:
        return Outcome(p, "started", opted_out=False)
    if intent is Intent.HELP:
        return Outcome(p, "help")
    if intent is Intent.UNKNOWN:
        return Outcome(p, "unknown", to_inbox=True)
    fraction, amount = _level(reply, rooms[p.product], jin_kg)
    if intent is Intent.LEVEL:
        return Outcome(p, "level_thanks", level_fraction=fraction, level_amount=amount)
    open_states = (ProposalState.PROPOSED, ProposalState.BOOKED, ProposalState.SNOOZED)
    if p.state not in open_states:
        # a late answer to a closed proposal: a person decides
        return Outcome(p, "unknown", to_inbox=True)
    if intent is Intent.DECLINE:
        return Outcome(replace(p, state=ProposalState.DECLINED), "declined",
                       level_fraction=fraction, level_amount=amount)
    if intent is Intent.SNOOZE:  # ask again later, with a fresh proposal then
        if reply.day is not None and reply.day > today:
            until = reply.day
        else:
            days = reply.snooze_days if reply.snooze_days is not None else snooze_days
            until = today + timedelta(days=max(days, 1))
        soon = ask_by is not None and until > ask_by
        if soon:
            assert ask_by is not None
            until = max(ask_by, today + timedelta(days=1))
        return Outcome(replace(p, state=ProposalState.SNOOZED, snoozed_until=until),
                       "snoozed_soon" if soon else "snoozed")
    if intent is Intent.PRODUCT:
        wanted = reply.product or p.product
        if wanted not in rooms:  # no tank for that product: the owner decides
            return Outcome(p, "unknown", to_inbox=True)
        return _book(p, reply, rooms, wanted, today=today, jin_kg=jin_kg)
    if intent in (Intent.CONFIRM, Intent.QUANTITY):
        product = reply.product if reply.product in rooms else p.product
        return _book(p, reply, rooms, product or p.product, today=today, jin_kg=jin_kg)
    return Outcome(p, "unknown", to_inbox=True)

