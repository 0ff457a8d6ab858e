"""A customer's reply, applied: the proposal moves, a drop is planned, the answer is queued.

``handle_inbound(session=, inbound=, now=, settings=) -> InboundResult`` takes one stored
text (``record_inbound``), reads it (``core.replies.parse_reply``), lets
``core.conversation.answer`` decide, and applies the outcome in the caller's transaction
(flush, never commit):

    answer        what changes                                   text back (kind)
    booked        proposal booked; planned Drop "proposal:<id>"  booked + note (confirmation)
    snoozed       proposal snoozed; its planned drop cancelled   snoozed (confirmation)
    declined      proposal declined; its planned drop cancelled  declined (confirmation)
    level_thanks  a customer Reading on the tank                 level_thanks (auto-reply)
    rushed        the Reading, and out or nearly: the first drop  rushed (confirmation)
                  possible, booked (``conversation.rush``)
    stopped       customer opted out; proposal cancelled         stopped (confirmation)
    started       customer opted in again                        started (confirmation)
    help          nothing                                        help (auto-reply)
    unknown       nothing: stays unhandled (the owner's inbox)   unknown, once a day (auto-reply)

Rules:

* A yes to exactly what the last text named (amount, product, day: the proposal's
  ``told_on``) queues no text back, unless ``conversation.confirm_plain_yes``; a yes
  that changes any of it, has a note, or comes after a "later", is confirmed.
* Nothing is queued to an opted-out customer except the one "stopped" confirmation (a
  second STOP queues nothing).
* An answer is keyed ``reply:<MessageSid>``, so a retried webhook never queues twice;
  the unknown auto-reply is keyed ``autoreply:<customer>:<local date>`` (once a day).
* Answers wait for the end of quiet hours (``send_after``).
* A text from a number that is no customer's, and a yes, amount or no with no open
  proposal, go to the owner's inbox (unhandled); the latter gets the unknown auto-reply.

Round trips: what a text reads (its shop and products, the customer, the open proposal
with its planned drop, the tanks with their forecasts) goes through an ``InboundLookup``.
On its own a text reads each once (one query each: the proposal with its drop, the tanks
with their forecasts). ``replenish.conversation.pending.apply_batch`` hands one lookup to
a whole batch of texts and ``preload``s it for all of their customers in a few queries;
a proposal that an earlier text of the batch closed is then told by ``is_open``, not by
asking again. What a text changes is written in one flush at its end (a booked drop is
inserted first, for its id; in a batch, in one flush for the batch: ``apply_claimed``
with ``flush=False``), and its answer is queued with one ``INSERT ... ON CONFLICT DO
NOTHING`` (``insert_message``). The queries are built once per process: building a
statement cost more than running it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from replenish.conversation.booking import move_proposal, take_over_planned
from replenish.conversation.lookup import CustomerTanks, InboundLookup
from replenish.conversation.rules import (
    drop_day,
    first_offer,
)
from replenish.conversation.rush import rush
from replenish.conversation.texts import message_text, send_after, window_text
from replenish.core.conversation import Outcome, ProposalState, TankRoom, answer, ask_again_by
from replenish.core.conversation import Proposal as Offer
from replenish.core.replies import Intent, ProductNames, Reply, parse_reply
from replenish.core.types import ReadingSource
from replenish.db.history import capacity_of
from replenish.db.models import (
    Customer,
    InboundMessage,
    MessageKind,
    Product,
    Proposal,
    Shop,
    Tank,
)
from replenish.db.queries.customers import (
    find_customer_by_phone,
    opt_in_customer,
    opt_out_customer,
)
from replenish.db.queries.messages import insert_message
from replenish.db.queries.records import add_reading
from replenish.settings import Settings

__all__ = ["InboundResult", "answer_time", "apply_claimed", "book_by_phone", "handle_inbound"]

_AUTO_REPLIES = ("help", "level_thanks", "unknown")
# Twilio's OptOutType -> the answer Twilio has then already sent
_PROVIDER_ANSWERS = {"STOP": "stopped", "START": "started", "HELP": "help"}


@dataclass(frozen=True)
class InboundResult:
    """What one inbound text did."""

    intent: Intent | None  # None: not read (an unknown sender, or handled before)
    message: str = ""  # template key of the answer ("" for none)
    reply: Reply | None = None
    customer_id: int | None = None
    proposal_id: int | None = None
    drop_id: int | None = None  # the planned drop, when booked
    reading_id: int | None = None  # the level the customer reported
    queued: tuple[int, ...] = ()  # outbox ids of the texts this one queued
    to_inbox: bool = False  # left unhandled: a person reads it
    already_handled: bool = False


def handle_inbound(*, session: Session, inbound: InboundMessage, now: datetime,
                   settings: Settings, provider_answered: str | None = None,
                   lookup: InboundLookup | None = None) -> InboundResult:
    """Apply one customer's text; see the module docstring. ``now`` is aware.

    ``provider_answered``: Twilio's ``OptOutType`` (STOP, START or HELP) when Twilio has
    already answered the keyword itself; replenish then applies it but queues no text of
    its own (a second "stopped" would only fail with 21610).
    """
    if inbound.handled or inbound.processed_at is not None:
        return InboundResult(None, customer_id=inbound.customer_id, already_handled=True)
    inbound.processed_at = now
    session.add(inbound)
    return apply_claimed(session=session, inbound=inbound, now=now, settings=settings,
                         provider_answered=provider_answered, lookup=lookup)


def apply_claimed(*, session: Session, inbound: InboundMessage, now: datetime,
                  settings: Settings, provider_answered: str | None = None,
                  lookup: InboundLookup | None = None, flush: bool = True) -> InboundResult:
    """``handle_inbound`` for a text its caller has already claimed (``processed_at`` set,
    as ``apply_batch`` does for a whole batch in one UPDATE). ``flush=False`` leaves what
    is still pending to the caller's flush (``apply_batch``: one for the whole batch)."""
    lookup = lookup or InboundLookup(session)
    shop = lookup.shop(inbound.shop_id)
    customer = _sender(session, lookup, shop, inbound)
    products = lookup.products(inbound.shop_id)
    if customer is None or not products:
        if flush:
            session.flush()
        return InboundResult(None, to_inbox=True)
    assert customer.id is not None
    today = now.astimezone(ZoneInfo(shop.timezone)).date()
    names = [ProductNames(p.key, p.aliases) for p in products.values()]
    reply = parse_reply(inbound.body, products=names, today=today)
    row = lookup.open_proposal(customer.id)
    tanks = _customer_tanks(lookup, customer, products, row)
    offer = _offer(row, customer, products, tanks, today)
    forecast = None if row is None else tanks.forecast.get(row.tank_id)
    first_ask = row is not None and first_offer(row)  # a re-ask snoozes as asked
    outcome = answer(offer, reply, rooms=tanks.rooms, today=today,
                     snooze_days=settings.conversation.snooze_days,
                     jin_kg=0.5 if shop.region == "CN" else 0.6,
                     ask_by=ask_again_by(forecast.order_by)
                     if first_ask and forecast is not None else None)
    drop_id = None
    if outcome.message == "level_thanks":  # "we're out": the first drop possible
        rushed = rush(session=session, customer=customer, tank=_level_tank(reply, row, tanks),
                      row=row, offer=offer, outcome=outcome, tanks=tanks, products=products,
                      today=today, now=now)
        if rushed is not None:
            outcome, drop_id = rushed.outcome, rushed.moved_drop_id
            if rushed.row is not None and rushed.row is not row:
                row = rushed.row
                lookup.keep_proposal(row)

    if row is not None:
        outcome = take_over_planned(session, lookup, row, offer, outcome, tanks, products,
                                     today)
    message, to_inbox = outcome.message, outcome.to_inbox
    if message == "booked" and _plain_yes(row, offer, outcome, settings):
        message = ""  # the offer named all of it: no text back
    if row is not None:
        drop_id = move_proposal(session, lookup, row, outcome, tanks, products, now=now,
                                 settings=settings)
    if outcome.preferred_product in products:
        customer.preferred_product_id = products[outcome.preferred_product].id
        session.add(customer)
    reading_id, recorded = _record_level(session, outcome, reply, row, tanks, products,
                                         at=inbound.received_at, now=now, settings=settings)
    if not recorded and message == "level_thanks":  # no tank, or more than it holds
        message, to_inbox = "unknown", True
    was_opted_out = customer.opted_out
    if outcome.opted_out is True:
        opt_out_customer(session=session, customer=customer, at=now)
    elif outcome.opted_out is False:
        opt_in_customer(session=session, customer=customer)
    if not to_inbox:
        inbound.handled = True
        session.add(inbound)
    if flush:
        session.flush()  # everything this text changed, in one go

    queued: list[int] = []
    may_text = not customer.opted_out or (message == "stopped" and not was_opted_out)
    answered = _PROVIDER_ANSWERS.get((provider_answered or "").strip().upper())
    if message and may_text and message != answered:
        key = (f"autoreply:{customer.id}:{today.isoformat()}" if message == "unknown"
               else f"reply:{inbound.provider_sid}")
        product = products.get(outcome.proposal.product) or _usual_product(customer, products)
        queued_id = _queue_answer(
            session, shop, customer, product, outcome, message, key=key, now=now,
            settings=settings, runout_day=None if forecast is None or forecast.runout_p50 is None
            else max(forecast.runout_p50, today))  # "around today" for one already past
        if queued_id is not None:  # None: queued before (the unknown reply, once a day)
            queued.append(queued_id)
    return InboundResult(intent=reply.intent, message=message, reply=reply,
                         customer_id=customer.id, proposal_id=None if row is None else row.id,
                         drop_id=drop_id, reading_id=reading_id, queued=tuple(queued),
                         to_inbox=to_inbox)


def book_by_phone(*, session: Session, proposal: Proposal, now: datetime,
                  settings: Settings) -> int | None:
    """The owner phoned about ``proposal`` (the call list, a text only a person could
    read) and the customer said yes: book it as offered, as a YES by text would, but
    queue no text (they have just talked). The booked drop's id (the same one again for
    a proposal booked before); None when the proposal is no longer open (declined,
    cancelled or delivered meanwhile). Flushes, no commit."""
    lookup = InboundLookup(session)
    row = lookup.open_proposal(proposal.customer_id)
    customer = lookup.customer(proposal.customer_id)
    if row is None or row.id != proposal.id or customer is None:
        return None
    shop = lookup.shop(row.shop_id)
    products = lookup.products(row.shop_id)
    today = now.astimezone(ZoneInfo(shop.timezone)).date()
    tanks = _customer_tanks(lookup, customer, products, row)
    offer = _offer(row, customer, products, tanks, today)
    outcome = answer(offer, Reply(Intent.CONFIRM, "(by phone)"), rooms=tanks.rooms, today=today,
                     snooze_days=settings.conversation.snooze_days,
                     jin_kg=0.5 if shop.region == "CN" else 0.6)
    if outcome.proposal.state is not ProposalState.BOOKED:
        return None
    if outcome.proposal.drop_on <= today:  # the couriers are out: tomorrow at the soonest
        day, _ = drop_day(session=session, customer_id=row.customer_id,
                          day=today + timedelta(days=1))
        outcome = replace(outcome, proposal=replace(outcome.proposal, drop_on=day))
    outcome = take_over_planned(session, lookup, row, offer, outcome, tanks, products, today)
    drop_id = move_proposal(session, lookup, row, outcome, tanks, products, now=now,
                             settings=settings)
    row.on_call_list = False
    session.add(row)
    session.flush()
    return drop_id


# --- reading the situation ----------------------------------------------------------------


def _sender(session: Session, lookup: InboundLookup, shop: Shop,
            inbound: InboundMessage) -> Customer | None:
    """The customer who sent it (linking the text to them), or None for a stranger."""
    if inbound.customer_id is not None:
        customer = lookup.customer(inbound.customer_id)
        if customer is not None and customer.shop_id == shop.id:
            return customer
    customer = find_customer_by_phone(session=session, shop=shop, phone=inbound.from_phone)
    if customer is not None and inbound.customer_id != customer.id:
        inbound.customer_id = customer.id
        session.add(inbound)
    return customer


def _customer_tanks(lookup: InboundLookup, customer: Customer,
                    products: Mapping[str, Product], row: Proposal | None) -> CustomerTanks:
    """Room per product: capacity less the level expected now (all of it when unknown)."""
    by_id = {p.id: p for p in products.values()}
    tanks = list(lookup.tanks(customer))
    if row is not None:  # the proposal's own tank stands for its product
        tanks.sort(key=lambda pair: pair[0].id != row.tank_id)
    out = CustomerTanks()
    for tank, forecast in tanks:
        product = by_id.get(tank.product_id)
        if product is None or product.key in out.tank:
            continue
        capacity = forecast.capacity if forecast is not None else capacity_of(tank, product)
        level = None if forecast is None else forecast.level_now
        room = capacity if level is None else max(capacity - level, 0.0)
        out.tank[product.key] = tank
        out.rooms[product.key] = _room(product, room)
        assert tank.id is not None
        out.forecast[tank.id] = forecast
    return out


def _room(product: Product, room: float) -> TankRoom:
    return TankRoom(room=room, bag_sizes=tuple(product.bag_sizes), min_drop=product.min_drop,
                    unit=product.unit.value)


def _usual_product(customer: Customer, products: Mapping[str, Product]) -> Product:
    for product in products.values():
        if product.id == customer.preferred_product_id:
            return product
    return next(iter(products.values()))


def _offer(row: Proposal | None, customer: Customer, products: Mapping[str, Product],
           tanks: CustomerTanks, today: date) -> Offer:
    """The proposal as the core sees it. Without an open one, a closed stand-in: the core
    then answers stop, start, help and levels, and sends anything else to a person."""
    if row is not None:
        key = next(p.key for p in products.values() if p.id == row.product_id)
        if key not in tanks.rooms:  # the proposal's tank is gone: no room to speak of
            tanks.rooms[key] = _room(products[key], 0.0)
        return Offer(mode=row.mode, state=row.state, product=key, drop_on=row.drop_on,
                     quantity=row.quantity, snoozed_until=row.snoozed_until)
    usual = _usual_product(customer, products)
    key = usual.key if usual.key in tanks.rooms or not tanks.rooms else next(iter(tanks.rooms))
    tanks.rooms.setdefault(key, _room(products[key], 0.0))
    return Offer(mode=customer.delivery_mode, state=ProposalState.CANCELLED, product=key,
                 drop_on=today, quantity=1.0)


# --- applying the outcome -----------------------------------------------------------------


def _plain_yes(row: Proposal | None, offer: Offer, outcome: Outcome,
               settings: Settings) -> bool:
    """A yes that books exactly what the last text about ``row`` named (amount, product
    and day), with no note to add: the shop needs no text back (unless it wants one,
    ``conversation.confirm_plain_yes``)."""
    if (settings.conversation.confirm_plain_yes or row is None or row.told_on is None
            or offer.state is ProposalState.SNOOZED):  # they said "later" since the text
        return False
    booked = outcome.proposal
    return (not outcome.note and offer.drop_on == row.told_on
            and (booked.product, booked.quantity, booked.drop_on)
            == (offer.product, offer.quantity, offer.drop_on))


def _record_level(session: Session, outcome: Outcome, reply: Reply, row: Proposal | None,
                  tanks: CustomerTanks, products: Mapping[str, Product], *, at: datetime,
                  now: datetime, settings: Settings) -> tuple[int | None, bool]:
    """A reported level as a customer Reading: ``(reading id, recorded or nothing to do)``."""
    if outcome.level_fraction is None and outcome.level_amount is None:
        return None, True
    tank = _level_tank(reply, row, tanks)
    if tank is None:
        return None, False
    product = next(p for p in products.values() if p.id == tank.product_id)
    if outcome.level_amount is not None:
        level = outcome.level_amount
    else:
        assert outcome.level_fraction is not None and tank.id is not None
        forecast = tanks.forecast.get(tank.id)
        capacity = forecast.capacity if forecast is not None else capacity_of(tank, product)
        level = outcome.level_fraction * capacity
    try:
        reading = add_reading(session=session, tank=tank, product=product, at=min(at, now),
                              source=ReadingSource.CUSTOMER, settings=settings, level=level,
                              note=f"said: {reply.text}"[:500], now=now)
    except ValueError:  # more than the tank holds: a person looks
        return None, False
    return reading.id, True


def _level_tank(reply: Reply, row: Proposal | None, tanks: CustomerTanks) -> Tank | None:
    """The tank a level is about: one named, the proposal's, or the customer's only one."""
    if reply.product is not None and reply.product in tanks.tank:
        return tanks.tank[reply.product]
    if row is not None:
        for tank in tanks.tank.values():
            if tank.id == row.tank_id:
                return tank
    return next(iter(tanks.tank.values())) if len(tanks.tank) == 1 else None


def _queue_answer(session: Session, shop: Shop, customer: Customer, product: Product,
                  outcome: Outcome, message: str, *, key: str, now: datetime,
                  settings: Settings, runout_day: date | None = None) -> int | None:
    """Queue the answer (keyed ``key``); its outbox id, or None when queued before.
    ``runout_day``: the tank's likely run-out day, for ``snoozed_soon``."""
    assert shop.id is not None
    after = send_after(now, shop=shop, settings=settings)
    p = outcome.proposal
    locale = customer.language.value

    def text(key: str, **values: Any) -> str:
        return message_text(key, settings=settings, shop=shop, customer=customer,
                            product=product, **values)

    if message in ("booked", "rushed"):
        body = text(message, quantity=p.quantity, drop_day=p.drop_on,
                    window=window_text(customer, p.drop_on, locale))
        if outcome.note:  # "your tank only has room for ...", "our smallest drop is ..."
            body += ("" if locale.startswith("zh") else " ") + text(outcome.note,
                                                                    quantity=p.quantity)
    elif message == "snoozed" and p.snoozed_until is not None:
        body = text("snoozed", ask_day=p.snoozed_until)
    elif message == "snoozed_soon" and p.snoozed_until is not None:
        body = (text("snoozed_soon", ask_day=p.snoozed_until, runout_day=runout_day)
                if runout_day is not None else text("snoozed", ask_day=p.snoozed_until))
    elif message == "unknown":  # said when it arrives: after the quiet hours
        body = text("unknown", when=answer_time(after, shop=shop, locale=locale))
    else:
        body = text(message)
    kind = MessageKind.AUTO_REPLY if message in _AUTO_REPLIES else MessageKind.CONFIRMATION
    return insert_message(session=session, shop_id=shop.id, customer_id=customer.id,
                          to_phone=customer.phone, body=body, kind=kind,
                          idempotency_key=key, not_before=after)


_TODAY = {"en": "today", "zh-TW": "今天", "zh-CN": "今天"}
_TOMORROW = {"en": "tomorrow", "zh-TW": "明天", "zh-CN": "明天"}


def answer_time(moment: datetime, *, shop: Shop, locale: str) -> str:
    """When a person will answer a text read at ``moment``, in the customer's words.

    Within the shop's hours: "today" / 今天; else the next opening: "tomorrow after
    08:00" / 明天早上8:00後 (or "today after 08:00" before the shop opens).
    """
    local = moment.astimezone(ZoneInfo(shop.timezone)).time()
    if shop.open_time <= local < shop.close_time:
        return _TODAY.get(locale, "today")
    words = _TODAY if local < shop.open_time else _TOMORROW
    opening = shop.open_time
    if not locale.startswith("zh"):
        return f"{words['en']} after {opening:%H:%M}"
    part = "早上" if opening.hour < 12 else "下午" if opening.hour < 18 else "晚上"
    after = "後" if locale == "zh-TW" else "后"
    return f"{words[locale]}{part}{opening.hour}:{opening.minute:02d}{after}"
