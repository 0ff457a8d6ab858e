"""The rules every outgoing text keeps: when it goes out, how often, on which days.

* **When.** ``SendClock``: a text queued at ``now`` goes out at the end of quiet hours
  (``send_at``); a drop is offered for the day after that at the earliest, so that a
  prompt queued by the 21:00 plan and sent at 08:00 never asks about that same day.
* **Which days.** ``drop_day``: never a day an away or no-delivery hold covers;
  ``customer_area``: the customer's slice of town with area days, ``room_on``: the room
  expected in a tank on a day.
* **How often.** ``asks_this_week``: prompts, heads-ups and reminders already going to a
  customer within 7 days (``max_prompts_per_week`` caps them); ``promised_ask``: the one
  text a "later" was promised ("we'll check with you again on Monday"), which the cap
  does not hold back (once a cycle).
* **Loyalty.** ``loyalty_count``: every ``loyalty_every``-th delivered drop is on the
  house; ``loyalty_note`` is what the planned drop (the courier's stop) says.
* **Freshness.** ``delivered_since`` / ``overtaken``: a drop delivered after a forecast
  or the proposals were made, which they cannot know about; ``planned_drop``: a drop the
  owner already planned (booked by phone), so nobody is asked twice.

Reads only; the caller writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from replenish.conversation.texts import send_after
from replenish.core.areas import area_of
from replenish.core.conversation import ProposalState
from replenish.core.types import DropStatus, HoldKind
from replenish.db.history import drop_moment
from replenish.db.models import (
    Customer,
    Drop,
    Hold,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Proposal,
    Shop,
    Tank,
    TankForecast,
)
from replenish.settings import Settings

__all__ = [
    "CAPPED_KINDS",
    "LOYALTY_NOTE",
    "SendClock",
    "asks_this_week",
    "customer_area",
    "delivered_since",
    "drop_day",
    "first_offer",
    "loyalty_count",
    "loyalty_note",
    "overtaken",
    "promised_ask",
    "room_on",
    "planned_drop",
]

CAPPED_KINDS = (MessageKind.PROMPT, MessageKind.HEADS_UP, MessageKind.REMINDER)
LOYALTY_NOTE = "loyalty: on the house"
_WEEK = timedelta(days=7)
_NO_DROPS = (HoldKind.AWAY, HoldKind.NO_DELIVERY)


@dataclass(frozen=True)
class SendClock:
    """``now`` as the conversation sees it, in the shop's zone."""

    now: datetime
    tz: ZoneInfo
    today: date  # the shop's local date at ``now``
    send_at: datetime  # when a text queued now goes out (the end of quiet hours)
    earliest: date  # the first day a drop may be offered for: the day after send_at

    @classmethod
    def of(cls, now: datetime, shop: Shop, settings: Settings) -> SendClock:
        tz = ZoneInfo(shop.timezone)
        send_at = send_after(now, shop=shop, settings=settings)
        return cls(now=now, tz=tz, today=now.astimezone(tz).date(), send_at=send_at,
                   earliest=send_at.astimezone(tz).date() + timedelta(days=1))


def drop_day(*, session: Session, customer_id: int, day: date) -> tuple[date, date | None]:
    """``day``, or the first day after the away / no-delivery holds that cover it; and the
    end of the last such hold (None when no hold moved it)."""
    holds = session.exec(select(Hold).where(
        Hold.customer_id == customer_id, col(Hold.end_date) >= day,
        col(Hold.kind).in_(_NO_DROPS)).order_by(col(Hold.start_date))).all()
    hold_end = None
    for hold in holds:  # by start: each move can only run into a later hold
        if hold.start_date <= day <= hold.end_date:
            day, hold_end = hold.end_date + timedelta(days=1), hold.end_date
    return day, hold_end


def asks_this_week(*, session: Session, customer_id: int, send_at: datetime) -> int:
    """Prompts, heads-ups and reminders to this customer that go out within the 7 days
    before ``send_at`` (or later). A text that failed never reached them: not counted."""
    m = OutboundMessage
    moment = func.coalesce(col(m.not_before), col(m.created_at))
    statement = select(func.count()).select_from(m).where(
        m.customer_id == customer_id, col(m.kind).in_(CAPPED_KINDS),
        col(m.status) != MessageStatus.FAILED, moment > send_at - _WEEK)
    return int(session.exec(statement).one())


def first_offer(proposal: Proposal) -> bool:
    """Whether ``proposal`` is its cycle's first offer: a re-ask's key ends ``#<n>``
    (``outgoing.new_cycle_key``)."""
    return "#" not in proposal.cycle_key


def promised_ask(*, session: Session, tank_id: int, ask_day: date) -> bool:
    """Whether the tank's latest proposal is a snooze that came due within the 7 days
    before ``ask_day``: the customer said "later" and was told which day we would ask
    again, so that text goes out whatever the weekly cap says. Once a cycle: only the
    cycle's first proposal counts (a "later" to the re-ask, ``#2``, waits for the cap)."""
    latest = session.exec(select(Proposal).where(Proposal.tank_id == tank_id)
                          .order_by(col(Proposal.id).desc()).limit(1)).first()
    return (latest is not None and latest.state is ProposalState.CANCELLED
            and latest.snoozed_until is not None and first_offer(latest)
            and ask_day - timedelta(days=7) < latest.snoozed_until <= ask_day)


def loyalty_count(*, session: Session, customer_id: int, settings: Settings) -> int | None:
    """N when the customer's next drop is their Nth and N is a multiple of
    ``loyalty_every`` (that drop is on the house); None otherwise."""
    every = settings.conversation.loyalty_every
    if every <= 0:
        return None
    delivered = session.exec(
        select(func.count()).select_from(Drop).join(Tank, col(Tank.id) == col(Drop.tank_id))
        .where(Tank.customer_id == customer_id, Drop.status == DropStatus.DELIVERED)).one()
    n = int(delivered) + 1
    return n if n % every == 0 else None


def loyalty_note(count: int | None) -> str:
    """The planned drop's note, shown at the courier's stop ("" for an ordinary drop)."""
    return "" if count is None else f"{LOYALTY_NOTE} (delivery {count})"


def delivered_since(*, session: Session, tank: Tank, forecast: TankForecast,
                    tz: ZoneInfo) -> bool:
    """A drop was delivered into ``tank`` after ``forecast`` was made (it thinks the tank
    is still low until the next refresh)."""
    last = session.exec(select(Drop).where(
        Drop.tank_id == tank.id, Drop.status == DropStatus.DELIVERED,
    ).order_by(col(Drop.delivered_on).desc(), col(Drop.id).desc()).limit(1)).first()
    if last is None or forecast.computed_at is None:
        return False
    return drop_moment(last, tz) > forecast.computed_at


def overtaken(*, session: Session, proposals: Sequence[Proposal], tz: ZoneInfo) -> set[int]:
    """The ids of ``proposals`` into whose tank a drop was delivered after the proposal
    was made."""
    if not proposals:
        return set()
    since = min(p.created_at for p in proposals).astimezone(tz).date()
    poured: dict[int, list[tuple[date, datetime]]] = {}
    for drop in session.exec(select(Drop).where(
            col(Drop.tank_id).in_({p.tank_id for p in proposals}),
            Drop.status == DropStatus.DELIVERED, col(Drop.delivered_on) >= since)).all():
        poured.setdefault(drop.tank_id, []).append((drop.delivered_on, drop_moment(drop, tz)))
    return {p.id or 0 for p in proposals
            if any(day >= p.created_at.astimezone(tz).date() and moment > p.created_at
                   for day, moment in poured.get(p.tank_id, ()))}


def customer_area(shop: Shop, customer: Customer, areas: int) -> int | None:
    """The customer's slice of town with area days (``routing.areas``, core/areas.py);
    None when the shop has none (fewer than 2) or a location is missing."""
    if (areas < 2 or shop.lat is None or shop.lon is None or customer.lat is None
            or customer.lon is None):
        return None
    return area_of(shop=(shop.lat, shop.lon), place=(customer.lat, customer.lon), areas=areas)


def room_on(forecast: TankForecast, day: date) -> float | None:
    """The room expected in the tank on ``day`` (None when the forecast cannot say)."""
    if forecast.level_now is None or forecast.rate is None or forecast.as_of is None:
        return None
    days = max((day - forecast.as_of).days, 0)
    return forecast.capacity - max(forecast.level_now - forecast.rate * days, 0.0)


def planned_drop(*, session: Session, tank_id: int, since: date) -> Drop | None:
    """The first drop planned into the tank on or after ``since`` (None if none)."""
    return session.exec(select(Drop).where(
        Drop.tank_id == tank_id, Drop.status == DropStatus.PLANNED,
        col(Drop.delivered_on) >= since,
    ).order_by(col(Drop.delivered_on), col(Drop.id)).limit(1)).first()
