"""Consolidation: offer day D to neighbours of the customers already booked for D.

When the routes of day D are built (``jobs.routes.build_day``, before the day is read),
``consolidate`` looks at the tanks whose forecast order-by date falls within D ..
D + ``routing.consolidate_days`` and whose customer lives within
``routing.consolidate_km`` (straight line) of a customer with a drop planned for D. Such
a customer is offered D, this cycle's drop a little early, when:

* they take texts (not opted out) and are not ``will-call`` (those call us);
* they have no open proposal and no planned drop, and no drop was delivered since the
  forecast was made (the same rules as the nightly ``propose``);
* no away / no-delivery hold covers D, and a text queued now goes out before D
  (``SendClock.earliest``: quiet hours hold texts back, so a build after 21:00 offers
  nothing for the next day);
* their tank has room on D for at least the product's smallest drop. The room on D is
  the forecast's level now, used down at its rate until D; what is offered is the
  forecast's drop size, or less when D is early and the tank fuller (in bag sizes);
* the weekly cap on prompts (``conversation.max_prompts_per_week``) is not reached.

What they get, through the nightly plan's own machinery (``create_proposal`` with the
cycle key ``tank:<id>:<order-by>`` of ``outgoing.new_cycle_key``, ``plan_drop``, the
outbox keyed by the proposal's id, quiet hours):

* ``auto``: a booked proposal for D and its planned drop (so the route being built
  includes it), and the usual ``heads_up`` text (``heads-up:<proposal>``);
* ``confirm``: a proposed proposal for D and the ``nearby`` prompt ("we're on your street
  on Thu 3 Dec; reply YES for 10 kg", ``prompt:<proposal>``). A yes books it through the
  ordinary reply path; it is not on tonight's routes (the yes comes later).

Because the proposal takes this cycle's key and is open, the nightly plan later finds
the cycle taken and asks nothing again; a second build of the same day finds the open
proposals and offers nothing twice. Nothing is done for a day whose routes are under
way (a courier has recorded a stop), nor when the shop has no location.

**What the savings figures mean (an estimate, not a measurement).** ``trips_saved`` is
the number of customers added: each added drop would otherwise have needed a visit on
another day. ``km_saved`` sums, for each added customer C with nearest booked
neighbour N, ``2 × d(shop, C) × detour`` (a trip made for C alone, out and back) minus
``2 × d(N, C) × detour`` (the detour of visiting C on the way to or from N, which the
triangle inequality bounds), never below 0 per customer; ``d`` is the straight-line
distance (``haversine_m``) and ``detour`` is ``routing.detour_factor``, also when the
routes themselves use OSRM. Both terms are upper bounds, and they err in opposite
directions: a visit on another day would usually share its trip with that day's other
stops (so the real saving is smaller than a dedicated round trip), while the insertion
usually costs less than twice the neighbour distance. Read it as "about this much, at
most", useful for comparing days, not for the odometer. Prompted customers count in
neither figure until they say yes.

Writes in the caller's session (flush, no commit), like ``outgoing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from replenish.conversation.outgoing import new_cycle_key, send_proposal
from replenish.conversation.rules import (
    SendClock,
    asks_this_week,
    delivered_since,
    drop_day,
    loyalty_count,
    loyalty_note,
    planned_drop,
    room_on,
)
from replenish.core.conversation import ProposalState
from replenish.core.depletion import drop_size
from replenish.core.types import DeliveryMode, DropStatus
from replenish.db.models import (
    Customer,
    Drop,
    MessageKind,
    Product,
    Route,
    RoutePlan,
    RouteStop,
    Shop,
    StopStatus,
    Tank,
    TankForecast,
)
from replenish.db.queries.proposals import create_proposal, open_proposal, plan_drop
from replenish.routing import Point, haversine_m
from replenish.settings import Settings

__all__ = ["Consolidation", "Skipped", "consolidate"]


@dataclass(frozen=True)
class Skipped:
    """A customer in the window and near a booked stop who was left alone, and why."""

    customer_id: int
    name: str
    reason: str


@dataclass(frozen=True)
class Consolidation:
    """What ``consolidate`` did for one shop and day, and what it is estimated to save."""

    day: date
    added: tuple[int, ...] = ()  # customer ids booked for the day (auto)
    prompted: tuple[int, ...] = ()  # customer ids asked (confirm)
    trips_saved: int = 0
    km_saved: float = 0.0
    skipped: tuple[Skipped, ...] = ()
    problem: str = ""  # why nothing was looked at (routes under way, no location...)

    def report(self, earlier: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON kept on the day's ``RoutePlan.consolidation``; with the report of an
        earlier build of the same day (which it replaces), what both offered, so that
        building again keeps the count of what the first build added."""
        before = earlier or {}
        added = list(dict.fromkeys([*before.get("added", []), *self.added]))
        prompted = list(dict.fromkeys([*before.get("prompted", []), *self.prompted]))
        return {"added": added, "prompted": prompted, "trips_saved": len(added),
                "km_saved": round(float(before.get("km_saved", 0.0)) + self.km_saved, 2)}


def consolidate(*, session: Session, shop: Shop, day: date, now: datetime,
                settings: Settings) -> Consolidation:
    """Offer ``day`` to the booked customers' neighbours (see the module docstring)."""
    assert shop.id is not None
    r = settings.routing
    if r.consolidate_days <= 0:
        return Consolidation(day, problem="consolidation is off (routing.consolidate_days)")
    if shop.lat is None or shop.lon is None:
        return Consolidation(day, problem="the shop's location is not set")
    clock = SendClock.of(now, shop, settings)
    if day < clock.earliest:
        return Consolidation(day, problem=f"a text queued now reaches them on {clock.earliest} "
                                          f"at the earliest")
    if _under_way(session, shop.id, day):
        return Consolidation(day, problem=f"the routes of {day} are under way")

    booked = _booked(session, shop.id, day)
    if not booked:
        return Consolidation(day)
    depot = Point(shop.lat, shop.lon)
    reach_m = r.consolidate_km * 1000
    until = day + timedelta(days=r.consolidate_days)
    rows = session.exec(
        select(Tank, Customer, Product, TankForecast)
        .join(Customer, col(Customer.id) == col(Tank.customer_id))
        .join(Product, col(Product.id) == col(Tank.product_id))
        .join(TankForecast, col(TankForecast.tank_id) == col(Tank.id))
        .where(Tank.shop_id == shop.id, col(TankForecast.order_by) >= day,
               col(TankForecast.order_by) <= until, col(Customer.lat).is_not(None),
               col(Customer.lon).is_not(None), col(Customer.id).not_in(list(booked)))
        .order_by(col(TankForecast.order_by), col(Tank.id))).all()

    added: list[int] = []
    prompted: list[int] = []
    skipped: list[Skipped] = []
    km = 0.0
    for tank, customer, product, forecast in rows:
        assert customer.id is not None and customer.lat is not None and customer.lon is not None
        here = Point(customer.lat, customer.lon)
        near_m = min(haversine_m(here, p) for p in booked.values())
        if near_m > reach_m:
            continue  # not a neighbour: nothing to say about them
        why = _why_not(session, settings, clock, day, tank, customer, product, forecast)
        if isinstance(why, str):
            skipped.append(Skipped(customer.id, customer.name, why))
            continue
        _offer(session, shop, settings, clock, day, why, tank, customer, product, forecast)
        if customer.delivery_mode is DeliveryMode.AUTO:
            added.append(customer.id)
            alone = 2 * haversine_m(depot, here)
            km += max(0.0, (alone - 2 * near_m) * r.detour_factor) / 1000
        else:
            prompted.append(customer.id)
    session.flush()
    return Consolidation(day, tuple(added), tuple(prompted), trips_saved=len(added),
                         km_saved=round(km, 2), skipped=tuple(skipped))


def _under_way(session: Session, shop_id: int, day: date) -> bool:
    """A courier has recorded a stop of the day's plan (``save_plan`` then refuses)."""
    return session.exec(
        select(RouteStop.id).join(Route, col(Route.id) == col(RouteStop.route_id))
        .join(RoutePlan, col(RoutePlan.id) == col(Route.plan_id))
        .where(RoutePlan.shop_id == shop_id, RoutePlan.day == day,
               RouteStop.status != StopStatus.PENDING).limit(1)).first() is not None


def _booked(session: Session, shop_id: int, day: date) -> dict[int, Point]:
    """Where the customers with a drop planned for ``day`` live (those with a place)."""
    rows = session.exec(
        select(Customer)
        .join(Tank, col(Tank.customer_id) == col(Customer.id))
        .join(Drop, col(Drop.tank_id) == col(Tank.id))
        .where(Drop.shop_id == shop_id, Drop.delivered_on == day,
               Drop.status == DropStatus.PLANNED)).all()
    return {c.id: Point(c.lat, c.lon) for c in rows
            if c.id is not None and c.lat is not None and c.lon is not None}


def _why_not(session: Session, settings: Settings, clock: SendClock, day: date, tank: Tank,
             customer: Customer, product: Product,
             forecast: TankForecast) -> str | tuple[str, float]:
    """Why the customer is left alone, or (the cycle key, the quantity) to offer."""
    if customer.opted_out:
        return "opted out"
    if customer.delivery_mode is DeliveryMode.WILL_CALL:
        return "will-call: they call us"
    if not forecast.drop_size or forecast.drop_fits is False:
        return "no room for the smallest drop"
    quantity = forecast.drop_size
    room = room_on(forecast, day)
    if room is not None:
        fits = drop_size(room, bag_sizes=product.bag_sizes, min_drop=product.min_drop)
        if fits > room + 1e-9:
            return f"no room for the smallest drop on {day} ({max(room, 0):g} {product.unit.value})"
        quantity = min(quantity, fits)
    pending = open_proposal(session=session, customer_id=customer.id or 0)
    if pending is not None:
        return f"waiting on proposal #{pending.id} ({pending.state.value})"
    if delivered_since(session=session, tank=tank, forecast=forecast, tz=clock.tz):
        return "delivered since the last forecast"
    planned = planned_drop(session=session, tank_id=tank.id or 0, since=clock.today)
    if planned is not None:
        return f"a drop is already planned for {planned.delivered_on} (drop #{planned.id})"
    moved, hold_end = drop_day(session=session, customer_id=customer.id or 0, day=day)
    if moved != day:
        return f"on hold until {hold_end}"
    assert forecast.order_by is not None
    cycle_key, why_not = new_cycle_key(session, tank.id or 0, forecast.order_by)
    if cycle_key is None:
        return why_not
    asked = asks_this_week(session=session, customer_id=customer.id or 0,
                           send_at=clock.send_at)
    cap = settings.conversation.max_prompts_per_week
    if asked >= cap:
        return f"prompt cap: {asked} texts in 7 days (at most {cap})"
    return cycle_key, quantity


def _offer(session: Session, shop: Shop, settings: Settings, clock: SendClock, day: date,
           offer: tuple[str, float], tank: Tank, customer: Customer, product: Product,
           forecast: TankForecast) -> None:
    """Book an auto customer for ``day`` (heads-up), or prompt a confirm customer."""
    cycle_key, quantity = offer
    auto = customer.delivery_mode is DeliveryMode.AUTO
    proposal = create_proposal(
        session=session, tank=tank, product=product, customer=customer, drop_on=day,
        quantity=quantity, cycle_key=cycle_key,
        state=ProposalState.BOOKED if auto else ProposalState.PROPOSED, now=clock.now)
    loyalty = loyalty_count(session=session, customer_id=customer.id or 0, settings=settings)
    if auto:
        plan_drop(session=session, proposal=proposal, note=loyalty_note(loyalty))
        kind, template = MessageKind.HEADS_UP, "heads_up"
    else:
        kind, template = MessageKind.PROMPT, "nearby"
    send_proposal(session=session, shop=shop, settings=settings, clock=clock,
                  proposal=proposal, customer=customer, product=product, forecast=forecast,
                  loyalty=loyalty, template=template, kind=kind)
