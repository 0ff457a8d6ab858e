"""Drive the real system through a simulated year: only the clock and the people are made up.

A fresh database (a temporary SQLite file unless a URL is given) gets a shop, its
couriers and a town of households (``people.make_households``). Then, for each day, in
the shop's time zone, the simulation does what ``replenish run`` and the people around
it would do, through the same functions:

====== ============================================================================
07:00  ``courier_morning`` (late yeses routed, route links queued)
08-20  the outbox (``dispatch_outbox``, console transport) at 08:00 and after every
       job (not after a single reply or stop: every 5 s in a shop); texts
       that went out are read by the simulated customers, who answer (or not) hours
       later through the webhook's store (``store_inbound``) and the worker's apply
       (``apply_stored``). A family says "later" only while more than 35% of its tank
       is left (it looks in the tank); below that its "later" becomes a yes
:05    ``reminders`` at 08:05, 10:05 ... 20:05, ``followups`` at 13:35 and 19:35
       (every hour in a shop; fewer passes save time and only delay a reminder by up to
       two hours, a "how was it?" by up to six)
couriers  each stop at its planned time: the courier reads the tape (the true level,
       ±0.3 cm), pours what was booked or what fits, or finds nobody home, and records
       it with ``complete_stop`` (the courier page's function)
10, 16 the owner's desk: phones everyone on the call list and whoever wrote words only
       a person can read (``book_by_phone``); hears about trips (a hold) and new babies
       (a household change) from half of the families
17:00  ``build_routes`` for tomorrow (the real PyVRP solver, ``--solver-iterations``)
21:00  ``nightly_plan``
====== ============================================================================

Policies: ``learned`` is replenish as shipped; ``prior-only`` the same with
``forecast.learn = false``; the two baselines switch off the planner's texts and let
the simulated owner book instead: ``fixed-interval`` (every household every N days,
N from what the shop knows at sign-up: 70% of a full tank at the household-size guess;
the first round when that guess says 30% of the level measured at sign-up is left)
and ``reactive`` (the family phones when the tank is empty; the drop comes the next
day). Every policy uses the same routes, couriers and door-step recording.
"""

from __future__ import annotations

import heapq
import math
import random
import shutil
import tempfile
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from jobs.conversation import followups, nightly_plan, reminders
from jobs.routes import build_routes, courier_morning
from replenish.conversation.inbound import book_by_phone
from replenish.conversation.pending import apply_stored
from replenish.core.depletion import drop_size
from replenish.core.types import DropStatus, HoldKind
from replenish.db import shared_engine, upgrade_database
from replenish.db.models import (
    Customer,
    Drop,
    HoldCreate,
    HouseholdChangeCreate,
    InboundMessage,
    MessageKind,
    OutboundMessage,
    Product,
    Proposal,
    Route,
    RouteStop,
    Shop,
    Tank,
    TankForecast,
)
from replenish.db.models.routes import StopStatus
from replenish.db.queries import (
    add_hold,
    record_household_change,
)
from replenish.db.queries.door import expected_at_door, last_level_at, missed_visits
from replenish.db.queries.inbound import mark_inbound_handled, store_inbound
from replenish.db.queries.proposals import call_list, open_proposal
from replenish.db.queries.records import add_drop
from replenish.db.queries.routes import complete_stop
from replenish.settings import Settings
from replenish.sim.people import (
    AnswerKind,
    Household,
    TownParams,
    answer_prompt,
    daily_use,
    make_households,
)
from replenish.sim.setup import register_town
from replenish.sim.town import measured_depth
from replenish.sms import DispatchParams, dispatch_outbox
from replenish.sms.console import ConsoleTransport

__all__ = ["POLICIES", "Policy", "SimConfig", "SimResult", "Trace", "sim_settings", "simulate"]

LATER_ONLY_ABOVE = 0.35  # a family says "later" only with more than this share left
FOLLOWUP_HOURS = (13, 19)  # the follow-up job's passes (hourly in a real shop)
REMINDER_HOURS = (8, 10, 12, 14, 16, 18, 20)  # the reminder job's passes (hourly in a shop)
QUIET = ("stop", "reply", "out", "trace")  # steps after which the outbox is not looked at
SHOP_PHONE = "+886900000000"
OUT_WORDS = ("沒米了", "米吃完了", "家裡沒米了")  # what a family texts when the rice ran out
ASK_AWAY_ABOVE = 0.1  # the courier asks "were you away?" when the tank is this much fuller
SIGN_UP_HOUR = 10  # the shop registers the town the day before the run, mid-morning


class Policy(StrEnum):
    LEARNED = "learned"
    PRIOR_ONLY = "prior-only"
    FIXED_INTERVAL = "fixed-interval"
    REACTIVE = "reactive"


POLICIES = tuple(Policy)


@dataclass(frozen=True)
class SimConfig:
    households: int = 500
    days: int = 365
    seed: int = 1
    couriers: int = 2
    risk: float | None = None  # forecast.risk for the run; None: the shop's setting
    policy: Policy = Policy.LEARNED
    start: date = date(2027, 1, 1)
    solver_iterations: int = 100  # the route solver stops here: the same run everywhere
    areas: int = 2  # the shop's area days (routing.areas): 2, one half of town a day
    database_url: str | None = None  # None: a temporary SQLite file, removed afterwards
    traces: int = 4  # households whose level is kept day by day for the report's plots
    country: str = "TW"
    modes: tuple[float, float, float] = (0.5, 0.45, 0.05)  # auto, confirm, will-call


@dataclass
class Trace:
    household: int
    customer_id: int
    capacity: float
    days: list[date] = field(default_factory=list)
    level: list[float] = field(default_factory=list)  # true, at 21:00
    expected: list[float | None] = field(default_factory=list)  # the forecast, at 21:00
    low: list[float | None] = field(default_factory=list)  # its p10 .. p90 band
    high: list[float | None] = field(default_factory=list)
    drops: list[tuple[date, float]] = field(default_factory=list)


@dataclass
class SimResult:
    config: SimConfig
    metrics: dict[str, Any]
    traces: list[Trace]
    seconds: float


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    what: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


def simulate(config: SimConfig, *, settings: Settings,
             progress: Callable[[str], None] | None = None) -> SimResult:
    """Run one policy on the town of ``config`` from a fresh database; the report's numbers."""
    started = wallclock.perf_counter()
    folder = None
    url = config.database_url
    if url is None:
        folder = tempfile.mkdtemp(prefix="replenish-sim-")
        url = f"sqlite:///{Path(folder) / 'town.db'}"
    try:
        town = _Town(config, settings, url, progress)
        town.run()
        metrics = town.metrics()
        metrics["seconds"] = round(wallclock.perf_counter() - started, 1)
        return SimResult(config, metrics, town.traces, wallclock.perf_counter() - started)
    finally:
        if folder is not None:
            shared_engine(url).dispose()
            shutil.rmtree(folder, ignore_errors=True)


def sim_settings(settings: Settings, config: SimConfig, url: str) -> Settings:
    """The shop's settings for a run: its own database, texts to the console only, the
    run's risk, a solver that stops after ``solver_iterations`` (not on the clock, so
    that a run is the same on a busy machine), the run's area days (``areas``: the
    planner's, so only ``learned`` and ``prior-only`` use them), and learning off for
    ``prior-only``. The baselines
    have no planner, so no "we're on your street" offers either (``consolidate_days``)."""
    risk = settings.forecast.risk if config.risk is None else config.risk
    forecast = settings.forecast.model_copy(update={
        "risk": risk, "learn": config.policy is not Policy.PRIOR_ONLY})
    planner = config.policy in (Policy.LEARNED, Policy.PRIOR_ONLY)
    routing = settings.routing.model_copy(update={
        "time_limit_seconds": 600.0, "max_iterations": config.solver_iterations,
        "areas": config.areas,
        "consolidate_days": settings.routing.consolidate_days if planner else 0})
    sms = settings.sms.model_copy(update={"transport": "console"})
    return settings.model_copy(update={"database_url": url, "forecast": forecast,
                                       "routing": routing, "sms": sms})


class _Town:
    def __init__(self, config: SimConfig, settings: Settings, url: str,
                 progress: Callable[[str], None] | None) -> None:
        self.cfg, self.url, self.progress = config, url, progress
        self.settings = sim_settings(settings, config, url)
        self.rnd = random.Random(config.seed * 101 + 7)
        self.params = TownParams()
        self.people = make_households(config.households, seed=config.seed, start=config.start,
                                      days=config.days, params=self.params)
        self.transport = ConsoleTransport(start=1)
        self.dispatch = DispatchParams.from_settings(self.settings.sms)
        self.events: list[_Event] = []
        self.order = 0
        self.answered: set[int] = set()  # proposal ids whose answer is decided
        self.last_send: datetime | None = None  # texts sent by then were read already
        self.inbound_n = 0
        self.unanswered = 0
        self.phoned = 0
        self.texts_in = 0
        self.out_texts = 0  # "we're out" texts the families sent
        self.away_told = 0  # stops at which the family told the courier of days away
        upgrade_database(url)
        self.engine = shared_engine(url)
        self.tz = ZoneInfo(self.settings.shop.timezone)
        signed_up = config.start - timedelta(days=1)
        town = register_town(
            self.engine, people=self.people, settings=self.settings, couriers=config.couriers,
            modes=config.modes,
            registered=datetime.combine(signed_up, time(SIGN_UP_HOUR), self.tz))
        self.shop_id, self.rice_id, self.members = town.shop_id, town.rice_id, town.members
        self.kitchens = {cid: m.kitchen for cid, m in self.members.items()}
        self.house_of = {cid: m.home for cid, m in self.members.items()}
        for customer_id, kitchen in self.kitchens.items():  # the sign-up reading was taken
            # mid-morning: the family eats the rest of that day before the run's first
            kitchen.begin_at(signed_up, daily_use(self.house_of[customer_id], signed_up,
                                                  country=config.country, params=self.params),
                             SIGN_UP_HOUR)
            kitchen.end_day()
        self.tank_of = {cid: m.tank_id for cid, m in self.members.items()}
        self.traces = [Trace(m.home.id, cid, m.kitchen.tank.capacity)
                       for cid, m in list(self.members.items())[:config.traces]]

    # --- the event loop ---------------------------------------------------------------

    def _at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz).astimezone(UTC)

    def _push(self, at: datetime, what: str, payload: Any = None) -> None:
        self.order += 1
        heapq.heappush(self.events, _Event(at, self.order, what, payload))

    def run(self) -> None:
        planner = self.cfg.policy in (Policy.LEARNED, Policy.PRIOR_ONLY)
        for i in range(self.cfg.days):
            day = self.cfg.start + timedelta(days=i)
            for customer_id, kitchen in self.kitchens.items():
                kitchen.begin_day(day, daily_use(self.house_of[customer_id], day,
                                                 country=self.cfg.country, params=self.params))
            self._push(self._at(day, 7), "morning")
            self._push(self._at(day, 8), "outbox")  # the night's texts go at 08:00
            for hour in (10, 16):
                self._push(self._at(day, hour), "desk")
            self._push(self._at(day, 17), "routes")
            if planner:
                for hour in REMINDER_HOURS:
                    self._push(self._at(day, hour, 5), "reminders")
                for hour in FOLLOWUP_HOURS:
                    self._push(self._at(day, hour, 35), "followups")
                self._push(self._at(day, 21), "nightly")
            else:
                self._push(self._at(day, 8), "owner books")
            self._push(self._at(day, 21, 30), "trace")
            end = self._at(day + timedelta(days=1), 0)
            while self.events and self.events[0].at < end:
                event = heapq.heappop(self.events)
                self._handle(event, day)
            for customer_id, kitchen in self.kitchens.items():
                if kitchen.end_day() and planner and kitchen.tally.runout_starts[-1:] == [day]:
                    self._out(customer_id, day)
            if self.progress is not None and (i + 1) % 30 == 0:
                self.progress(f"{self.cfg.policy.value}: day {i + 1} of {self.cfg.days}")

    def _handle(self, event: _Event, day: date) -> None:
        now = event.at
        s, url = self.settings, self.url
        what = event.what
        if what == "morning":
            courier_morning(database_url=url, now=now, settings=s)
            self._schedule_stops(day)
        elif what == "desk":
            self._desk(now, day)
        elif what == "routes":
            build_routes(database_url=url, now=now, settings=s)
        elif what == "reminders":
            reminders(database_url=url, now=now, settings=s)
        elif what == "followups":
            followups(database_url=url, now=now, settings=s)
        elif what == "nightly":
            nightly_plan(database_url=url, now=now, settings=s)
        elif what == "owner books":
            self._owner_books(now, day)
        elif what == "stop":
            self._stop(event.payload, now)
        elif what == "reply":
            self._reply(event.payload, now)
        elif what == "out":
            self._text_out(event.payload, now)
        elif what == "trace":
            self._trace(now, day)
        if what not in QUIET:  # texts these queue (a booking's confirmation) go at the next
            self._send(now)    # step's outbox run: at most a few hours' delay in the count

    # --- texts --------------------------------------------------------------------------

    def _send(self, now: datetime) -> None:
        """The outbox at ``now``; the customers read what went out and decide an answer."""
        dispatch_outbox(engine=self.engine, transport=self.transport, now=now,
                        params=self.dispatch, rng=self.rnd)
        sent = col(OutboundMessage.sent_at)
        with Session(self.engine) as session:
            statement = select(OutboundMessage).where(
                sent.is_not(None), sent <= now, col(OutboundMessage.customer_id).is_not(None))
            if self.last_send is not None:
                statement = statement.where(sent > self.last_send)
            rows = session.exec(statement.order_by(col(OutboundMessage.id))).all()
            news = [(m.id or 0, m.customer_id or 0, m.kind, m.idempotency_key, m.sent_at)
                    for m in rows]
            asked = [i for i in (_proposal_id(k) for _, _, _, k, _ in news) if i is not None]
            quantities = {p.id: p.quantity for p in session.exec(select(Proposal).where(
                col(Proposal.id).in_(asked)))} if asked else {}
        self.last_send = now
        for _, customer_id, kind, key, sent_at in news:
            proposal_id = _proposal_id(key)
            if kind not in (MessageKind.PROMPT, MessageKind.REMINDER) or proposal_id is None:
                continue
            if proposal_id in self.answered:
                continue
            self.answered.add(proposal_id)
            home = self.house_of[customer_id]
            reply = answer_prompt(home, proposal_id, quantity=quantities.get(proposal_id, 10.0),
                                  params=self.params)
            if reply is None:
                self.unanswered += 1
                continue
            assert sent_at is not None
            kitchen = self.kitchens[customer_id]
            if reply.kind is AnswerKind.LATER and (
                    kitchen.level < LATER_ONLY_ABOVE * kitchen.tank.capacity):
                reply = replace(reply, kind=AnswerKind.YES, text="好")  # they looked in the tank
            self._push(sent_at + timedelta(hours=reply.after_hours), "reply",
                       (customer_id, reply.text))

    def _out(self, customer_id: int, day: date) -> None:
        """The family ran out today: it texts the shop first thing tomorrow (with a
        planner; the baselines' families phone the owner, or wait for the round), if
        no drop came later today."""
        words = random.Random(f"{self.cfg.seed}:out:{customer_id}:{day}").choice(OUT_WORDS)
        self._push(self._at(day + timedelta(days=1), 7, 30), "out", (customer_id, words))

    def _text_out(self, payload: tuple[int, str], now: datetime) -> None:
        customer_id, _ = payload
        local = now.astimezone(self.tz)
        if self.kitchens[customer_id].level_at(local.hour + local.minute / 60) > 0:
            return  # the drop came after all: nothing to say
        self.out_texts += 1
        self._reply(payload, now)

    def _reply(self, payload: tuple[int, str], now: datetime) -> None:
        """A customer's text, through the webhook's store and the worker's apply."""
        customer_id, body = payload
        self.inbound_n += 1
        self.texts_in += 1
        phone = self.members[customer_id].phone
        with self.engine.begin() as connection:
            inbound_id = store_inbound(
                connection=connection, provider_sid=f"SIM{self.inbound_n:010d}",
                from_phone=phone, to_phone=SHOP_PHONE, body=body, received_at=now)
        if inbound_id is not None:
            apply_stored(engine=self.engine, settings=self.settings, inbound_id=inbound_id,
                         now=now)

    # --- the owner ----------------------------------------------------------------------

    def _desk(self, now: datetime, day: date) -> None:
        """The owner phones the call list and whoever wrote what only a person reads; a
        family that is reached says yes. Half the families tell the shop about a trip
        (a hold) or a change in the household, the day before it starts."""
        with Session(self.engine) as session:
            shop = session.get(Shop, self.shop_id)
            assert shop is not None
            waiting = list(call_list(session=session, shop_id=self.shop_id))
            inbox = session.exec(select(InboundMessage).where(
                InboundMessage.shop_id == self.shop_id, col(InboundMessage.handled).is_(False),
                col(InboundMessage.processed_at).is_not(None))).all()
            for message in inbox:
                if message.customer_id is not None:
                    proposal = open_proposal(session=session, customer_id=message.customer_id)
                    if proposal is not None and proposal not in waiting:
                        waiting.append(proposal)
                mark_inbound_handled(session=session, inbound=message)
            for proposal in waiting:
                rnd = random.Random(f"{self.cfg.seed}:{proposal.id}:{now.isoformat()}")
                reached = rnd.random() < 0.9  # on the phone; else tried again later
                if reached and book_by_phone(session=session, proposal=proposal, now=now,
                                             settings=self.settings) is not None:
                    self.phoned += 1
            if now.astimezone(self.tz).hour == 10:
                self._news(session, day)
            session.commit()

    def _news(self, session: Session, day: date) -> None:
        tomorrow = day + timedelta(days=1)
        for customer_id, home in self.house_of.items():
            if not _tells(home) or not (any(start == tomorrow for start, _ in home.away)
                                        or any(since == tomorrow for since, _ in home.changes)):
                continue
            customer = session.get(Customer, customer_id)
            assert customer is not None
            for start, end in home.away:
                if start == tomorrow:
                    add_hold(session=session, customer=customer, hold_in=HoldCreate(
                        kind=HoldKind.AWAY, start_date=start, end_date=end, note="trip"))
            for since, factor in home.changes:
                if since == tomorrow:
                    adults, children = home.adults, home.children
                    if factor > 1:
                        children += 1
                    elif children > 0:
                        children -= 1
                    else:
                        adults = max(1, adults - 1)
                    record_household_change(session=session, customer=customer,
                                            change_in=HouseholdChangeCreate(
                                                effective_date=since, adults=adults,
                                                children=children, elders=home.elders))

    def _owner_books(self, now: datetime, day: date) -> None:
        """The baselines' bookings, made by the owner at 08:00 for tomorrow."""
        tomorrow = day + timedelta(days=1)
        index = (tomorrow - self.cfg.start).days
        with Session(self.engine) as session:
            rice = session.get(Product, self.rice_id)
            assert rice is not None
            booked = set(session.exec(select(Drop.tank_id).where(
                Drop.shop_id == self.shop_id, Drop.status == DropStatus.PLANNED)).all())
            for customer_id, kitchen in self.kitchens.items():
                tank_id = self.tank_of[customer_id]
                if tank_id in booked:
                    continue
                if self.cfg.policy is Policy.FIXED_INTERVAL:
                    member = self.members[customer_id]
                    since = index - member.first
                    due = since >= 0 and since % member.every == 0
                else:  # reactive: the family phones when the tank is empty
                    due = kitchen.level_at(8.0) <= 0.0
                if not due:
                    continue
                tank = session.get(Tank, tank_id)
                assert tank is not None
                fill = drop_size(kitchen.tank.capacity, bag_sizes=tuple(rice.bag_sizes),
                                 min_drop=rice.min_drop)
                add_drop(session=session, tank=tank, product=rice, delivered_on=tomorrow,
                         quantity=fill, settings=self.settings, status=DropStatus.PLANNED,
                         idempotency_key=f"sim:{tank_id}:{tomorrow}", now=now,
                         note="fixed round" if self.cfg.policy is Policy.FIXED_INTERVAL
                         else "phoned: empty")
            session.commit()

    # --- couriers -----------------------------------------------------------------------

    def _schedule_stops(self, day: date) -> None:
        with Session(self.engine) as session:
            stops = session.exec(select(RouteStop, Route).join(
                Route, col(Route.id) == col(RouteStop.route_id)).where(
                Route.shop_id == self.shop_id, Route.day == day,
                RouteStop.status == StopStatus.PENDING)).all()
            for stop, route in stops:
                at = stop.arrive_at or route.starts_at or self._at(day, 9)
                self._push(at, "stop", stop.id)

    def _stop(self, stop_id: int, now: datetime) -> None:
        with Session(self.engine) as session:
            stop = session.get(RouteStop, stop_id)
            if stop is None or stop.status is not StopStatus.PENDING:
                return
            drop = session.get(Drop, stop.drop_id)
            if drop is None or drop.status is not DropStatus.PLANNED:
                return
            kitchen = self.kitchens[stop.customer_id]
            home = self.house_of[stop.customer_id]
            local = now.astimezone(self.tz)
            hour = local.hour + local.minute / 60
            rnd = random.Random(self.cfg.seed * 1_000_003 + stop_id)
            rice = session.get(Product, self.rice_id)
            assert rice is not None
            if home.is_away(local.date()):
                kitchen.tally.not_home += 1
                complete_stop(session=session, stop=stop, status=StopStatus.NOT_HOME, now=now,
                              settings=self.settings, submission_key=f"sim:{stop_id}")
            else:
                level = kitchen.level_at(hour)
                depth = measured_depth(level, kitchen.tank, rnd)
                fits = drop_size(kitchen.tank.capacity - level, bag_sizes=tuple(rice.bag_sizes),
                                 min_drop=rice.min_drop)
                quantity = min(drop.quantity, fits)
                if quantity <= 0:
                    kitchen.tally.too_full += 1
                    complete_stop(session=session, stop=stop, status=StopStatus.REFUSED,
                                  now=now, settings=self.settings,
                                  submission_key=f"sim:{stop_id}", note="still full")
                else:
                    away = self._away_told(session, drop, level, now)
                    kitchen.pour(hour, quantity)
                    complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED,
                                  now=now, settings=self.settings,
                                  submission_key=f"sim:{stop_id}", quantity=quantity,
                                  depth_before_cm=depth, away_days=away)
                    for trace in self.traces:
                        if trace.customer_id == stop.customer_id:
                            trace.drops.append((local.date(), quantity))
            session.commit()

    def _away_told(self, session: Session, drop: Drop, level: float,
                   now: datetime) -> int | None:
        """What the family says when the courier asks "were you away?": the courier asks
        when the tank is fuller than the sheet expected by a tenth of it or more, or when
        the sheet says a visit since found nobody home, and the family counts its days
        away since the day the sheet names (the shop's last level before today),
        honestly."""
        tank = session.get(Tank, drop.tank_id)
        assert tank is not None
        today = now.astimezone(self.tz).date()
        level_at = last_level_at(session, tank, self._at(today, 0), self.tz)  # the sheet's
        if level_at is None:
            return None
        since = level_at.astimezone(self.tz).date()  # day
        expected = expected_at_door(session.get(TankForecast, drop.tank_id), now)
        capacity = self.kitchens[tank.customer_id].tank.capacity
        fuller = expected is not None and level >= expected + ASK_AWAY_ABOVE * capacity
        if not fuller and not missed_visits(session, tank, level_at, today, self.tz):
            return None
        home = self.house_of[tank.customer_id]
        days = sum(1 for i in range(1, (today - since).days) if home.is_away(
            since + timedelta(days=i)))
        self.away_told += days > 0
        return days or None

    # --- the report -----------------------------------------------------------------------

    def _trace(self, now: datetime, day: date) -> None:
        if not self.traces:
            return
        hour = 21.5
        with Session(self.engine) as session:
            for trace in self.traces:
                kitchen = self.kitchens[trace.customer_id]
                forecast = session.get(TankForecast, self.tank_of[trace.customer_id])
                trace.days.append(day)
                trace.level.append(kitchen.level_at(hour))
                expected = low = high = None
                if forecast is not None and forecast.level is not None and (
                        forecast.level_at is not None and forecast.rate is not None):
                    days = max(now.timestamp() - forecast.level_at, 0.0) / 86400
                    expected = max(forecast.level - forecast.rate * days, 0.0)
                    spread = math.sqrt(forecast.level_var + ((forecast.rate_sd or 0.0) * days) ** 2
                                       + (self.settings.forecast.daily_cv * forecast.rate) ** 2
                                       * days)
                    low = max(expected - 1.2816 * spread, 0.0)
                    high = min(expected + 1.2816 * spread, trace.capacity)
                trace.expected.append(expected)
                trace.low.append(low)
                trace.high.append(high)

    def _untold_trip_before(self, customer_id: int, day: date) -> bool:
        """A trip the shop was not told about ended within the 60 days before ``day``:
        the planner took the quiet weeks for a slow eater."""
        home = self.house_of[customer_id]
        return not _tells(home) and any(
            end < day <= end + timedelta(days=60) for _, end in home.away)

    def metrics(self) -> dict[str, Any]:
        tallies = [k.tally for k in self.kitchens.values()]
        drops = sum(t.drops for t in tallies)
        shares = [x for t in tallies for x in t.level_shares]
        with Session(self.engine) as session:
            by_kind = dict(session.exec(
                select(OutboundMessage.kind, func.count()).where(
                    col(OutboundMessage.customer_id).is_not(None),
                    col(OutboundMessage.sent_at).is_not(None))
                .group_by(OutboundMessage.kind)).all())
            courier_texts = session.exec(select(func.count()).select_from(OutboundMessage).where(
                OutboundMessage.kind == MessageKind.COURIER_LINK,
                col(OutboundMessage.sent_at).is_not(None))).one()
            routes = session.exec(select(Route).where(Route.shop_id == self.shop_id)).all()
            visited = set(session.exec(select(RouteStop.route_id).where(
                RouteStop.status != StopStatus.PENDING)).all())
            km = sum(r.km for r in routes if r.id in visited)
            hours = sum(r.duration_s for r in routes if r.id in visited) / 3600
            proposals = session.exec(select(func.count()).select_from(Proposal)).one()
        after_trip = sum(1 for cid, kitchen in self.kitchens.items()
                         for day in kitchen.tally.runout_starts
                         if self._untold_trip_before(cid, day))
        sms = sum(by_kind.values())
        asks = sum(n for kind, n in by_kind.items()
                   if kind in (MessageKind.PROMPT, MessageKind.HEADS_UP, MessageKind.REMINDER))
        household_months = self.cfg.households * self.cfg.days / (365 / 12)
        runouts = sum(t.runouts for t in tallies)
        return {
            "policy": self.cfg.policy.value,
            "households": self.cfg.households,
            "days": self.cfg.days,
            "seed": self.cfg.seed,
            "areas": self.cfg.areas,
            "runouts": runouts,
            "runouts_per_1000_household_months": round(1000 * runouts / household_months, 2),
            "runout_household_days": sum(t.runout_days for t in tallies),
            "households_that_ran_out": sum(1 for t in tallies if t.runouts),
            "runouts_after_untold_trip": after_trip,
            "drops": drops,
            "delivered_kg": round(sum(t.delivered_kg for t in tallies), 1),
            "mean_drop_kg": round(sum(t.delivered_kg for t in tallies) / drops, 2) if drops else 0,
            "mean_level_at_drop": round(sum(shares) / len(shares), 3) if shares else None,
            "not_home": sum(t.not_home for t in tallies),
            "too_full": sum(t.too_full for t in tallies),
            "sms_sent": sms,
            "sms_by_kind": {str(k.value if hasattr(k, "value") else k): n
                            for k, n in sorted(by_kind.items(), key=lambda kv: str(kv[0]))},
            "sms_per_drop": round(sms / drops, 2) if drops else None,
            "asks_per_drop": round(asks / drops, 2) if drops else None,
            "courier_link_texts": courier_texts,
            "texts_received": self.texts_in,
            "out_texts": self.out_texts,
            "away_told_at_door": self.away_told,
            "proposals": proposals,
            "unanswered_prompts": self.unanswered,
            "owner_calls_booked": self.phoned,
            "km": round(km, 1),
            "courier_hours": round(hours, 1),
        }


def _tells(home: Household) -> bool:
    """Whether the family tells the shop about its trips and changes (half do)."""
    return random.Random(home.seed + 3).random() < 0.5


def _proposal_id(key: str | None) -> int | None:
    if not key:
        return None
    kind, _, rest = key.partition(":")
    if kind in ("prompt", "reminder", "heads-up") and rest.isdigit():
        return int(rest)
    return None


