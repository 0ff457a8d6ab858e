"""A week of the shop's timed jobs, driven by APScheduler's own job processing under a
moved clock (time-machine): five customers of Wang's Rice, a reply, a delivery, a
server that is down over the nightly plan, and a nightly plan run twice by hand."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import Session, select

from jobs.runs import run_job
from jobs.scheduler import JOBS, SchedulerService
from replenish.conversation.inbound import handle_inbound
from replenish.core.types import DeliveryMode, DropStatus, Locale, ReadingSource, TankShape
from replenish.db.models import (
    Customer,
    CustomerCreate,
    Drop,
    DropUpdate,
    HouseholdChangeCreate,
    JobRun,
    OutboundMessage,
    Proposal,
    ShopCreate,
    Tank,
    TankCreate,
)
from replenish.db.queries import (
    add_tank,
    create_customer,
    create_shop,
    get_product,
    record_household_change,
    update_drop,
)
from replenish.db.queries.inbound import record_inbound
from replenish.db.queries.records import add_reading
from replenish.settings import JobsSettings
from tests.jobs.conftest import SteppedScheduler

TAIPEI = ZoneInfo("Asia/Taipei")


def local(day, hour, minute=0):
    """``day`` days after Monday 30 Nov 2026, at that time in Taipei."""
    return datetime(2026, 11, 30, hour, minute, tzinfo=TAIPEI) + timedelta(days=day)


MONDAY = local(0, 8)
SUNDAY_NIGHT = local(6, 23, 59)


@dataclass
class Town:
    url: str
    engine: object
    settings: object
    ids: dict


def town(database, settings):
    """Five rice households, each with a 40 kg tank and a reading taken this morning."""
    cfg = settings.model_copy(update={
        "database_url": database.url,
        "jobs": JobsSettings.model_validate({**settings.jobs.model_dump(),
                                             "outbox_seconds": 900})})
    people = [  # name, mode, kg left on Monday morning
        ("Amy", DeliveryMode.CONFIRM, 3.0),
        ("Bo", DeliveryMode.AUTO, 3.0),
        ("Chen", DeliveryMode.WILL_CALL, 3.0),
        ("Dee", DeliveryMode.CONFIRM, 2.0),
        ("Eve", DeliveryMode.CONFIRM, 38.0),
    ]
    ids = {}
    with Session(database.engine) as session:
        shop = create_shop(session=session, products=cfg.products,
                           shop_in=ShopCreate.from_params(cfg.shop, name="Wang's Rice"))
        rice = get_product(session=session, shop_id=shop.id, key="rice")
        for i, (name, mode, left) in enumerate(people):
            customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
                name=name, phone=f"0912 000 00{i}", delivery_mode=mode, language=Locale.EN))
            record_household_change(session=session, customer=customer,
                                    change_in=HouseholdChangeCreate(
                                        effective_date=date(2026, 1, 1), adults=3))
            tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
                product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
            add_reading(session=session, tank=tank, product=rice, at=MONDAY,
                        source=ReadingSource.COURIER, level=left, settings=cfg, now=MONDAY)
            ids[name] = customer.id
        session.commit()
    return Town(database.url, database.engine, cfg, ids)


def reply(town, name, text, *, sid):
    now = datetime.now(UTC)
    with Session(town.engine) as session:
        customer = session.get(Customer, town.ids[name])
        inbound, _ = record_inbound(session=session, shop_id=customer.shop_id,
                                    provider_sid=sid, from_phone=customer.phone,
                                    to_phone="console", body=text, received_at=now,
                                    customer_id=customer.id)
        handle_inbound(session=session, inbound=inbound, now=now, settings=town.settings)
        session.commit()


def deliver(town, name):
    now = datetime.now(UTC)
    with Session(town.engine) as session:
        [drop] = session.exec(select(Drop).join(Proposal, Proposal.drop_id == Drop.id)
                              .where(Proposal.customer_id == town.ids[name])).all()
        update_drop(session=session, drop=drop, drop_in=DropUpdate(
            status=DropStatus.DELIVERED, at=now, level_before=1.0))
        session.commit()


def run_until(service, clock, end, events):
    """Step the clock from one due job (or event) to the next, as a scheduler would."""
    while True:
        due = [job.next_run_time for job in service.scheduler.get_jobs() if job.next_run_time]
        moment = max(min([*due, *events]), datetime.now(UTC))  # a missed run: now
        if moment > end:
            clock.move_to(end)
            return
        clock.move_to(moment)
        if moment in events:
            events.pop(moment)()
        service.scheduler.step()


def scheduler_for(town, holder):
    return SchedulerService(town.settings, engine=town.engine, timezone="Asia/Taipei",
                            scheduler=SteppedScheduler(), holder=holder)


def test_a_week_of_jobs_texts_each_customer_as_planned_across_a_restart_and_a_rerun(
        database, settings):
    with time_machine.travel(MONDAY, tick=False) as clock:
        shop = town(database, settings)
        events = {
            local(1, 9, 30): lambda: reply(shop, "Amy", "yes please", sid="SM-amy-1"),
            local(2, 15, 10): lambda: deliver(shop, "Amy"),
            local(2, 15, 20): lambda: deliver(shop, "Bo"),
        }
        first = scheduler_for(shop, "first")
        first.start(keeper_thread=False)
        run_until(first, clock, local(3, 20), events)
        first.shutdown()  # the shop's computer is off from Thursday 20:00 ...
        clock.move_to(local(4, 1))  # ... to Friday 01:00: Thursday's 21:00 plan was missed
        second = scheduler_for(shop, "second")
        second.start(keeper_thread=False)
        run_until(second, clock, SUNDAY_NIGHT, events)
        second.shutdown()

        # the owner runs Sunday's plan again by hand: nothing new is booked or sent
        before = outcome(shop)
        rerun = run_job("nightly_plan", JOBS["nightly_plan"].function, engine=shop.engine,
                        settings=shop.settings, now=local(6, 21), manual=True)
        assert outcome(shop) == before and "prompt" not in rerun.summary

    texts, proposals, drops, nightly = before
    assert texts == [
        ("Dee", "prompt", "Tue 08:00", "Wang's Rice: Hi Dee, your Rice will run out around "
         "Fri 4 Dec. Shall we bring 35 kg on Wed 2 Dec? Reply 1 yes, 2 later, 3 no, or the "
         "amount you want."),
        ("Amy", "prompt", "Tue 08:00", "Wang's Rice: Hi Amy, your Rice will run out around "
         "Mon 7 Dec. Shall we bring 35 kg on Wed 2 Dec? Reply 1 yes, 2 later, 3 no, or the "
         "amount you want."),
        ("Bo", "heads-up", "Tue 08:00", "Wang's Rice: Hi Bo, we'll drop 35 kg of Rice on "
         "Wed 2 Dec. Reply 2 to move it, 3 to skip."),
        ("Chen", "reminder", "Tue 08:00", "Wang's Rice: Hi Chen, shall we bring 35 kg of Rice "
         "on Wed 2 Dec? Reply 1 yes, 2 later, 3 no."),
        # Amy's "yes please" books what her prompt named: no text back
        ("Dee", "reminder", "Tue 14:15", "Wang's Rice: Hi Dee, shall we bring 35 kg of Rice "
         "on Wed 2 Dec? Reply 1 yes, 2 later, 3 no."),
        ("Bo", "followup", "Wed 15:45", "Hi Bo, how was today's delivery? Reply 1-5. Thank you!"),
        ("Amy", "followup", "Wed 15:45",
         "Hi Amy, how was today's delivery? Reply 1-5. Thank you!"),
    ]
    assert proposals == [  # unanswered ones moved to the first day a yes could still make
        ("Dee", "proposed", "2026-12-08", True),  # silent: on the call list since Tuesday
        ("Amy", "booked", "2026-12-02", False),
        ("Bo", "booked", "2026-12-02", False),
        ("Chen", "proposed", "2026-12-08", True),  # will-call: reminded, never booked
    ]
    assert drops == [("Bo", "2026-12-02", "delivered"), ("Amy", "2026-12-02", "delivered")]
    assert nightly == [  # Thursday's plan, missed while the server was off, ran once at 01:00
        ("Mon 30 21:00", "first"), ("Tue 01 21:00", "first"), ("Wed 02 21:00", "first"),
        ("Fri 04 01:00", "second"), ("Fri 04 21:00", "second"), ("Sat 05 21:00", "second"),
        ("Sun 06 21:00", "second"),
    ]


def outcome(town):
    """Every text, proposal, drop and nightly run so far, in readable tuples."""
    names = {v: k for k, v in town.ids.items()}
    with Session(town.engine) as session:
        texts = [(names[m.customer_id], m.kind.value, m.sent_at.astimezone(TAIPEI)
                  .strftime("%a %H:%M") if m.sent_at else m.status.value, m.body)
                 for m in session.exec(select(OutboundMessage).order_by(OutboundMessage.id))]
        proposals = [(names[p.customer_id], p.state.value, p.drop_on.isoformat(),
                      p.on_call_list)
                     for p in session.exec(select(Proposal).order_by(Proposal.id))]
        drops = [(names[tank.customer_id], d.delivered_on.isoformat(), d.status.value)
                 for d, tank in session.exec(select(Drop, Tank).join(Tank)
                                             .order_by(Drop.id))]
        nightly = [(r.as_of.astimezone(TAIPEI).strftime("%a %d %H:%M"), r.holder)
                   for r in session.exec(select(JobRun).where(JobRun.job == "nightly_plan",
                                                               JobRun.manual == False)  # noqa: E712
                                         .order_by(JobRun.id))]
    return texts, proposals, drops, nightly
