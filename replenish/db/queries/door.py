"""What the courier sees and hears at a door, beyond the drop itself.

The sheet shows the level the forecast expects at the door (``expected_at_door``) and
the day of the tank's last level (``last_level_day``); a tank much fuller than expected
is the moment to ask how many days the family was away since then, and so is a visit
since then that found nobody home (``missed_visits``). ``days_away`` turns
the answer into date ranges (``core.away.told_away``, checked before anything is
written) and ``hold_days_away`` holds them, so that the refolded forecast does not learn
a trip as slow eating (docs/forecasting.md §5). ``routes.complete_stop`` calls both.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from replenish.core.away import told_away
from replenish.core.types import DropStatus, HoldKind
from replenish.db.history import drop_moment
from replenish.db.models import Customer, Drop, Hold, HoldCreate, Reading, Shop, Tank, TankForecast
from replenish.db.queries.customers import add_hold
from replenish.db.queries.forecasts import mark_customer_stale

__all__ = ["days_away", "expected_at_door", "hold_days_away", "last_level_at",
           "last_level_day", "missed_visits"]


def expected_at_door(forecast: TankForecast | None, at: datetime | None) -> float | None:
    """The level the tank's last forecast expects at ``at``: its level then, less its
    pace for the days since (ignoring holds and holidays: a guide for the courier)."""
    if forecast is None or forecast.level_now is None or forecast.computed_at is None:
        return None
    days = max((at - forecast.computed_at).total_seconds() / 86400, 0.0) if at else 0.0
    return max(forecast.level_now - (forecast.rate or 0.0) * days, 0.0)


def last_level_day(session: Session, tank: Tank, now: datetime, tz: ZoneInfo) -> date | None:
    """The local day of the tank's last known level up to ``now`` (``last_level_at``):
    the days away the courier asks about are the days after it."""
    at = last_level_at(session, tank, now, tz)
    return at.astimezone(tz).date() if at is not None else None


def last_level_at(session: Session, tank: Tank, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment of the tank's last known level up to ``now``: its last reading, or its
    last delivery (at noon on its day when no time was recorded, as the forecast takes
    it)."""
    last_reading = session.exec(select(Reading.at).where(
        Reading.tank_id == tank.id, col(Reading.at) <= now)
        .order_by(col(Reading.at).desc()).limit(1)).first()
    drops = session.exec(select(Drop).where(
        Drop.tank_id == tank.id, Drop.status == DropStatus.DELIVERED,
        col(Drop.delivered_on) <= now.astimezone(tz).date())
        .order_by(col(Drop.delivered_on).desc()).limit(5)).all()
    known = [t for t in (drop_moment(d, tz) for d in drops) if t <= now]
    if last_reading is not None:
        known.append(last_reading)
    return max(known) if known else None


def missed_visits(session: Session, tank: Tank, since: datetime | None, today: date,
                  tz: ZoneInfo) -> tuple[date, ...]:
    """The days before ``today`` on which a visit to the tank after ``since`` (the last
    level's moment, ``last_level_at``) found nobody home: the family may have been away,
    so ask. A visit's moment is taken as the forecast takes it (``drop_moment``)."""
    if since is None:
        return ()
    visits = session.exec(select(Drop).where(
        Drop.tank_id == tank.id, Drop.status == DropStatus.NOT_HOME,
        col(Drop.delivered_on) >= since.astimezone(tz).date(),
        col(Drop.delivered_on) < today)).all()
    return tuple(sorted({d.delivered_on for d in visits if drop_moment(d, tz) > since}))


def days_away(session: Session, tank: Tank, days: int,
               now: datetime) -> list[tuple[date, date]]:
    """The ranges to hold for the days away the family told the courier of, between
    the tank's last level and today, on top of the holds the shop already has (raises
    ValueError, naming the field, for more days than that)."""
    shop = session.get(Shop, tank.shop_id)
    assert shop is not None
    tz = ZoneInfo(shop.timezone)
    today = now.astimezone(tz).date()
    # the day the sheet asks about: the last level before today (a text this morning
    # does not shorten the question)
    since = last_level_day(session, tank, datetime.combine(today, time(0), tz), tz)
    if since is None:
        return []  # no level yet: no interval the days could be in
    holds = session.exec(select(Hold).where(Hold.customer_id == tank.customer_id,
                                            col(Hold.end_date) > since,
                                            col(Hold.start_date) < today)).all()
    held = [(h.start_date, h.end_date) for h in holds if h.kind is not HoldKind.NO_DELIVERY]
    return told_away(days, since=since, visit=today, held=held)


def hold_days_away(session: Session, tank: Tank, ranges: list[tuple[date, date]], days: int,
                   today: date) -> None:
    """Hold ``ranges`` (from ``days_away``) as away holds, and refold the household."""
    customer = session.get(Customer, tank.customer_id)
    assert customer is not None
    for start, end in ranges:
        add_hold(session=session, customer=customer, hold_in=HoldCreate(
            kind=HoldKind.AWAY, start_date=start, end_date=end,
            note=f"told the courier on {today.isoformat()}: away {days} days since the "
                 "last visit"))
    mark_customer_stale(session=session, customer_id=tank.customer_id)
