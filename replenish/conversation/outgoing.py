"""The outgoing half of the conversation: prompts, heads-ups and reminders (follow-ups
after a drop: ``replenish.conversation.followups``).

Service functions for the nightly plan and the timed jobs. Each takes ``now`` (no clock
inside), reads the saved forecasts (``TankForecast``), and writes proposals, planned
drops and texts in the caller's session (flush, no commit). Texts go through the outbox
keyed by row ids, so running any of them twice queues nothing twice::

    propose    tanks whose order-by date is at most PROPOSE_HORIZON_DAYS away (or past;
               with area days, up to ``routing.areas`` − 1 days after the first day a
               drop can be made, so that every area's day is still ahead):
                 confirm    proposal (proposed) + prompt            prompt:<proposal>
                 auto       proposal (booked) + planned drop + heads-up
                                                                    heads-up:<proposal>
                 will-call  proposal (proposed, nothing booked) + reminder
                                                                    reminder:<proposal>
    remind     one reminder after reminder_after_hours without an answer; then the
               owner's call list once the run-out (p50) is within call_list_days
                                                                    reminder:<proposal>

Both ``propose`` and ``remind`` first close what is settled: a snooze whose day has
come (so that ``propose`` asks again, as a new cycle ``tank:<id>:<order-by>#2``), and a
proposal overtaken by a drop delivered without it. An unanswered proposal whose day
has passed moves to the first day still possible, so that a late yes books a real day.
``propose`` also carries over booked drops no courier will bring on their day (on no
route by the evening of their day, or left pending on an earlier day's route) to
tomorrow.

The rules nobody may break: nothing to an opted-out customer; nothing sent in quiet
hours (``not_before``); at most ``max_prompts_per_week`` prompts, heads-ups and
reminders per customer in any 7 days (but the text a "later" was promised goes on its
day, once a cycle: ``rules.promised_ask``); a drop is offered for the day after the text goes
out at the earliest, never on a day an away or no-delivery hold covers; only ``auto``
customers are booked without a yes. Each function returns what it did and, per
customer, why it skipped them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from replenish.conversation.decisions import (
    Action,
    Decision,
    ProposeResult,
    RemindResult,
)
from replenish.conversation.rules import (
    SendClock,
    asks_this_week,
    customer_area,
    delivered_since,
    drop_day,
    loyalty_count,
    loyalty_note,
    overtaken,
    planned_drop,
    promised_ask,
    room_on,
)
from replenish.conversation.texts import message_text
from replenish.core.areas import area_day
from replenish.core.conversation import ProposalState
from replenish.core.depletion import drop_size
from replenish.core.types import DeliveryMode, DropStatus
from replenish.db.models import (
    Customer,
    Drop,
    MessageKind,
    Product,
    Proposal,
    RouteStop,
    Shop,
    Tank,
    TankForecast,
)
from replenish.db.models.routes import StopStatus
from replenish.db.queries.messages import queue_message
from replenish.db.queries.proposals import (
    create_proposal,
    find_proposal,
    list_proposals,
    open_proposals,
    plan_drop,
)
from replenish.settings import Settings

__all__ = [
    "PROPOSE_HORIZON_DAYS",
    "Action",
    "Decision",
    "ProposeResult",
    "RemindResult",
    "propose",
    "remind",
]

PROPOSE_HORIZON_DAYS = 3  # offer drops whose order-by date is at most this many days away


# --- propose ------------------------------------------------------------------------------


def propose(*, session: Session, shop: Shop, now: datetime, settings: Settings,
            horizon_days: int = PROPOSE_HORIZON_DAYS) -> ProposeResult:
    """Offer a drop to every customer whose tank is due (see the module docstring)."""
    assert shop.id is not None
    clock = SendClock.of(now, shop, settings)
    decisions = _carry_over(session, shop, clock) + _close_settled(session, shop, clock)
    until = max(clock.today + timedelta(days=horizon_days),  # with area days: far enough
                clock.earliest + timedelta(days=settings.routing.areas - 1))  # for each area
    statement = (
        select(Tank, Customer, Product, TankForecast)
        .join(Customer, col(Customer.id) == col(Tank.customer_id))
        .join(Product, col(Product.id) == col(Tank.product_id))
        .outerjoin(TankForecast, col(TankForecast.tank_id) == col(Tank.id))
        .where(Tank.shop_id == shop.id,
               col(TankForecast.order_by).is_(None) | (col(TankForecast.order_by) <= until))
        .order_by(col(TankForecast.order_by).is_(None), col(TankForecast.order_by),
                  col(Tank.id))
    )
    rows = session.exec(statement).all()
    waiting, _ = open_proposals(session=session, customer_ids=[c.id or 0 for _, c, _, _ in rows])
    for tank, customer, product, forecast in rows:
        decisions.append(_propose_one(session, shop, settings, clock, until, tank, customer,
                                      product, forecast, waiting[customer.id or 0]))
    not_due = session.exec(select(func.count()).select_from(TankForecast).where(
        TankForecast.shop_id == shop.id, col(TankForecast.order_by) > until)).one()
    return ProposeResult(decisions=tuple(decisions), not_due=int(not_due))


def _propose_one(session: Session, shop: Shop, settings: Settings, clock: SendClock, until: date,
                 tank: Tank, customer: Customer, product: Product,
                 forecast: TankForecast | None, waiting: list[Proposal]) -> Decision:
    """One tank's offer; ``waiting`` is the customer's open proposals, newest first (a
    new one is added to it)."""
    def skip(reason: str) -> Decision:
        return Decision(customer.id or 0, customer.name, Action.SKIP, reason, tank.id,
                        product.key)

    if customer.opted_out:
        return skip("opted out")
    if forecast is None:
        return skip("no forecast yet: run `replenish forecast`")
    if forecast.order_by is None:
        return skip("no forecast: no level recorded yet")
    pending = waiting[0] if waiting else None
    if pending is not None:
        return skip(f"waiting on proposal #{pending.id} ({pending.state.value})")
    if delivered_since(session=session, tank=tank, forecast=forecast, tz=clock.tz):
        return skip("delivered since the last forecast")
    planned = planned_drop(session=session, tank_id=tank.id or 0, since=clock.today)
    if planned is not None:
        return skip(f"a drop is already planned for {planned.delivered_on} (drop #{planned.id})")
    day, quantity = _area_day(shop, settings, clock, customer, product, forecast)
    drop_on, hold_end = drop_day(session=session, customer_id=customer.id or 0, day=day)
    if hold_end is not None and drop_on > until:
        return skip(f"on hold until {hold_end}")
    cycle_key, why_not = new_cycle_key(session, tank.id or 0, forecast.order_by)
    if cycle_key is None:
        return skip(why_not)
    asked = asks_this_week(session=session, customer_id=customer.id or 0,
                           send_at=clock.send_at)
    cap = settings.conversation.max_prompts_per_week
    if asked >= cap and not promised_ask(session=session, tank_id=tank.id or 0,
                                         ask_day=clock.send_at.astimezone(clock.tz).date()):
        return skip(f"prompt cap: {asked} texts in 7 days (at most {cap})")

    mode = customer.delivery_mode
    state = ProposalState.BOOKED if mode is DeliveryMode.AUTO else ProposalState.PROPOSED
    proposal = create_proposal(session=session, tank=tank, product=product, customer=customer,
                               drop_on=drop_on, quantity=quantity, cycle_key=cycle_key,
                               state=state, now=clock.now)
    waiting.insert(0, proposal)
    loyalty = loyalty_count(session=session, customer_id=customer.id or 0, settings=settings)
    if mode is DeliveryMode.AUTO:
        plan_drop(session=session, proposal=proposal, note=loyalty_note(loyalty))
        action, kind, template = Action.BOOK, MessageKind.HEADS_UP, "heads_up"
    elif mode is DeliveryMode.WILL_CALL:
        action, kind, template = Action.REMIND, MessageKind.REMINDER, "reminder"
        proposal.reminded_at = clock.send_at  # their one text is this reminder
    else:
        action, kind, template = Action.PROMPT, MessageKind.PROMPT, "prompt"
    send_proposal(session=session, shop=shop, settings=settings, clock=clock,
                  proposal=proposal, customer=customer, product=product, forecast=forecast,
                  loyalty=loyalty, template=template, kind=kind)
    reason = f"order-by {forecast.order_by}" + (
        " (overdue)" if forecast.order_by < clock.today else "")
    if hold_end is not None:
        reason += f"; after a hold ending {hold_end}"
    if loyalty is not None:
        reason += f"; delivery {loyalty} is on the house"
    return Decision(customer.id or 0, customer.name, action, reason, tank.id, product.key,
                    proposal.id, proposal.drop_on, proposal.quantity, clock.send_at)


def _area_day(shop: Shop, settings: Settings, clock: SendClock, customer: Customer,
              product: Product, forecast: TankForecast) -> tuple[date, float]:
    """The day to offer and the drop for it: the last safe day (the order-by date, or
    the first day still possible) with the forecast's drop, or, with area days
    (``routing.areas``, core/areas.py), the customer's last area day before it, with
    what fits on that day. A day on which not even the smallest drop fits yet is not
    taken."""
    assert forecast.order_by is not None
    last_safe = max(forecast.order_by, clock.earliest)
    quantity = forecast.drop_size if forecast.drop_size else product.min_drop
    areas = settings.routing.areas
    area = customer_area(shop, customer, areas)
    if area is None:
        return last_safe, quantity
    day = area_day(last_safe=last_safe, earliest=clock.earliest, area=area, areas=areas)
    room = room_on(forecast, day) if day < last_safe else None
    if room is None:
        return day, quantity
    fits = drop_size(room, bag_sizes=product.bag_sizes, min_drop=product.min_drop)
    if fits > room + 1e-9:
        return last_safe, quantity
    return day, min(quantity, fits)


def new_cycle_key(session: Session, tank_id: int, order_by: date) -> tuple[str | None, str]:
    """A key for a new proposal in this cycle, or None and why the cycle is over."""
    base = f"tank:{tank_id}:{order_by.isoformat()}"
    key, n = base, 1
    while (earlier := find_proposal(session=session, cycle_key=key)) is not None:
        if earlier.state is ProposalState.DECLINED:
            return None, f"declined this cycle (proposal #{earlier.id})"
        if earlier.state is ProposalState.BOOKED:
            drop = session.get(Drop, earlier.drop_id) if earlier.drop_id else None
            if drop is None or drop.status in (DropStatus.PLANNED, DropStatus.DELIVERED,
                                               DropStatus.REFUSED):
                status = drop.status.value if drop else "booked"
                return None, f"{status} this cycle (proposal #{earlier.id})"
        elif earlier.state is not ProposalState.CANCELLED:
            return None, f"waiting on proposal #{earlier.id} ({earlier.state.value})"
        n += 1  # cancelled, or its drop found nobody home: ask again, as a new cycle
        key = f"{base}#{n}"
    return key, ""


def send_proposal(*, session: Session, shop: Shop, settings: Settings, clock: SendClock,
                  proposal: Proposal, customer: Customer, product: Product,
                  forecast: TankForecast | None, loyalty: int | None, template: str,
                  kind: MessageKind) -> None:
    """Queue the text that offers ``proposal`` (once: key ``<kind>:<proposal>``), for the
    next allowed send time, and note when it goes out."""
    body = proposal_text(template, settings=settings, shop=shop, customer=customer,
                         product=product, proposal=proposal, forecast=forecast, loyalty=loyalty)
    queue_message(session=session, shop_id=shop.id or 0, customer_id=customer.id,
                  to_phone=customer.phone, body=body, kind=kind,
                  idempotency_key=f"{kind.value}:{proposal.id}", not_before=clock.send_at)
    proposal.prompted_at, proposal.told_on = clock.send_at, proposal.drop_on
    session.add(proposal)
    session.flush()


def proposal_text(key: str, *, settings: Settings, shop: Shop, customer: Customer, product: Product,
          proposal: Proposal, forecast: TankForecast | None, loyalty: int | None) -> str:
    runout = forecast.runout_p50 if forecast is not None else None
    body = message_text(key, settings=settings, shop=shop, customer=customer, product=product,
                        quantity=proposal.quantity, drop_day=proposal.drop_on,
                        runout_day=runout or proposal.drop_on)
    if loyalty is None:
        return body
    told = message_text("loyalty", settings=settings, shop=shop, customer=customer,
                        product=product, count=loyalty)
    return body + ("" if customer.language.value.startswith("zh") else " ") + told


# --- closing what is settled --------------------------------------------------------------


def _close_settled(session: Session, shop: Shop, clock: SendClock) -> list[Decision]:
    """Close snoozes whose day has come (when a text queued now goes out) and proposals
    that a drop delivered without them overtook."""
    decisions = []
    ask_day = clock.send_at.astimezone(clock.tz).date()
    open_ = list_proposals(session=session, shop_id=shop.id or 0, only_open=True)
    done = overtaken(session=session, tz=clock.tz, proposals=[
        p for p in open_ if p.state is not ProposalState.BOOKED or p.drop_id is None])
    for p in open_:
        if p.state is ProposalState.SNOOZED and p.snoozed_until and p.snoozed_until <= ask_day:
            reason = f"snoozed until {p.snoozed_until}: asking again"
        elif p.state is not ProposalState.BOOKED or p.drop_id is None:
            if p.id not in done:
                continue
            reason = "a drop was delivered without it"
        else:
            continue
        p.state, p.updated_at = ProposalState.CANCELLED, clock.now
        session.add(p)
        decisions.append(_about(session, p, Action.CLOSE, reason))
    session.flush()
    return decisions


def _carry_over(session: Session, shop: Shop, clock: SendClock) -> list[Decision]:
    """Booked drops no courier will bring on their day move to the next possible day:
    those on no route (booked after the routes were built, or left off them) by
    today, and those a courier did not get to on an earlier day (taken off that route)."""
    tomorrow = clock.today + timedelta(days=1)
    stale = session.exec(
        select(Drop, RouteStop)
        .outerjoin(RouteStop, col(RouteStop.drop_id) == col(Drop.id))
        .where(Drop.shop_id == shop.id, Drop.status == DropStatus.PLANNED,
               col(Drop.delivered_on) <= clock.today)
        .order_by(col(Drop.id))).all()
    decisions = []
    for drop, stop in stale:
        if stop is not None and (drop.delivered_on >= clock.today
                                 or stop.status is not StopStatus.PENDING):
            continue  # on today's route still, or recorded (its drop is closed then)
        if stop is not None:
            session.delete(stop)
        tank = session.get(Tank, drop.tank_id)
        customer_id = tank.customer_id if tank is not None else 0
        old = drop.delivered_on
        drop.delivered_on, _ = drop_day(session=session, customer_id=customer_id, day=tomorrow)
        session.add(drop)
        proposal = session.exec(select(Proposal).where(Proposal.drop_id == drop.id)).first()
        if proposal is not None:
            proposal.drop_on, proposal.updated_at = drop.delivered_on, clock.now
            session.add(proposal)
            decisions.append(_about(session, proposal, Action.MOVE,
                                    f"not brought on {old}; now {drop.delivered_on}"))
    session.flush()
    return decisions


def _about(session: Session, p: Proposal, action: Action, reason: str,
           send_at: datetime | None = None) -> Decision:
    customer = session.get(Customer, p.customer_id)
    product = session.get(Product, p.product_id)
    return Decision(p.customer_id, customer.name if customer else "?", action, reason,
                    p.tank_id, product.key if product else None, p.id, p.drop_on, p.quantity,
                    send_at)


# --- remind -------------------------------------------------------------------------------


def remind(*, session: Session, shop: Shop, now: datetime, settings: Settings) -> RemindResult:
    """Nudge the unanswered once, then put them on the call list when it gets close."""
    assert shop.id is not None
    clock = SendClock.of(now, shop, settings)
    decisions = _close_settled(session, shop, clock)
    statement = (
        select(Proposal, Customer, Product, TankForecast)
        .join(Customer, col(Customer.id) == col(Proposal.customer_id))
        .join(Product, col(Product.id) == col(Proposal.product_id))
        .outerjoin(TankForecast, col(TankForecast.tank_id) == col(Proposal.tank_id))
        .where(Proposal.shop_id == shop.id, Proposal.state == ProposalState.PROPOSED,
               col(Proposal.answered_at).is_(None))
        .order_by(col(Proposal.id))
    )
    for p, customer, product, forecast in session.exec(statement).all():
        if customer.opted_out:
            decisions.append(_about(session, p, Action.SKIP, "opted out"))
            continue
        decisions.extend(_remind_one(session, shop, settings, clock, p, customer, product,
                                     forecast))
    session.flush()
    return RemindResult(decisions=tuple(decisions))


def _remind_one(session: Session, shop: Shop, settings: Settings, clock: SendClock, p: Proposal,
                customer: Customer, product: Product,
                forecast: TankForecast | None) -> Sequence[Decision]:
    c = settings.conversation
    delay = timedelta(hours=c.reminder_after_hours)
    out = []
    if p.drop_on < clock.send_at.astimezone(clock.tz).date():
        # unanswered, and its day is over before a text could reach them: a yes books the
        # first day still possible
        old = p.drop_on
        p.drop_on, _ = drop_day(session=session, customer_id=customer.id or 0,
                                  day=clock.earliest)
        session.add(p)
        out.append(_about(session, p, Action.MOVE, f"no answer for {old}; now {p.drop_on}"))
    waited = p.reminded_at  # since when they have not answered a nudge
    if waited is None:
        if p.prompted_at is None or clock.now < p.prompted_at + delay:
            return out
        asked = asks_this_week(session=session, customer_id=customer.id or 0,
                               send_at=clock.send_at)
        if asked < c.max_prompts_per_week:
            body = proposal_text("reminder", settings=settings, shop=shop,
                                 customer=customer, product=product, proposal=p,
                                 forecast=forecast, loyalty=None)
            queue_message(session=session, shop_id=shop.id or 0, customer_id=customer.id,
                          to_phone=customer.phone, body=body, kind=MessageKind.REMINDER,
                          idempotency_key=f"reminder:{p.id}", not_before=clock.send_at)
            p.reminded_at, p.told_on, p.updated_at = clock.send_at, p.drop_on, clock.now
            session.add(p)
            return [*out, _about(session, p, Action.REMIND, "no answer to the prompt",
                                 clock.send_at)]
        out.append(_about(session, p, Action.SKIP, f"prompt cap: {asked} texts in 7 days "
                          f"(at most {c.max_prompts_per_week}); no reminder"))
        waited = p.prompted_at - delay  # no reminder to wait for: the call list may follow
    # the last day a drop still comes in time (the order-by date; else the median run-out)
    due = None if forecast is None else forecast.order_by or forecast.runout_p50
    if (not p.on_call_list and clock.now >= waited + delay and due is not None
            and due <= clock.today + timedelta(days=c.call_list_days)):
        p.on_call_list, p.updated_at = True, clock.now
        session.add(p)
        out.append(_about(session, p, Action.CALL_LIST,
                          f"no answer; order by {due}"))
    return out
