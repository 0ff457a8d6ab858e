"""Prompts, heads-ups and reminders, as the nightly plan and the jobs make them.

Customers of Wang's Rice (Tainan). Forecasts are set directly (``TankForecast`` rows) so
that each test says exactly when a tank is due; one test goes through the nightly
refresh from a courier's reading.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from replenish.conversation.outgoing import Action, propose, remind
from replenish.core.conversation import ProposalState
from replenish.core.texting import segments
from replenish.core.types import (
    DeliveryMode,
    DropStatus,
    HoldKind,
    Locale,
    ReadingSource,
    TankShape,
)
from replenish.db.models import (
    CustomerCreate,
    Drop,
    DropCreate,
    HoldCreate,
    HouseholdChangeCreate,
    MessageKind,
    OutboundMessage,
    Proposal,
    TankCreate,
    TankForecast,
)
from replenish.db.queries import (
    add_hold,
    add_tank,
    create_customer,
    get_product,
    opt_out_customer,
    record_drop,
    record_household_change,
)
from replenish.db.queries.messages import queue_message
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.proposals import call_list
from replenish.db.queries.records import add_reading

TAIPEI = ZoneInfo("Asia/Taipei")


def local(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


TUESDAY_10 = local(24, 10)  # Tuesday 24 Nov 2026, 10:00 in Taipei
MONDAY_21 = local(23, 21)  # the nightly plan, the evening before
THU, FRI = date(2026, 11, 26), date(2026, 11, 27)


def household(session, shop, *, name="Mrs. Wang", phone="0912 000 001",
              mode=DeliveryMode.CONFIRM, language=Locale.EN):
    customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
        name=name, phone=phone, delivery_mode=mode, language=language))
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
    return customer, tank


def due(session, tank, order_by, *, runout=None, drop_size=10.0, at=TUESDAY_10, level_now=5.0):
    """The saved forecast: order by ``order_by``, run out (p50) two days later."""
    runout = runout or order_by + timedelta(days=2)
    session.add(TankForecast(
        tank_id=tank.id, shop_id=tank.shop_id, customer_id=tank.customer_id,
        product_id=tank.product_id, stale=False, capacity=40.0, prior_mean=0.6, prior_sd=0.2,
        as_of=at.astimezone(TAIPEI).date(), computed_at=at, rate=0.6, rate_sd=0.1,
        level_now=level_now, runout_p10=runout - timedelta(days=1), runout_p50=runout,
        runout_p90=runout + timedelta(days=2), order_by=order_by, drop_size=drop_size,
        drop_fits=True))
    session.flush()


def outbox(session, customer=None):
    statement = select(OutboundMessage).order_by(OutboundMessage.id)
    if customer is not None:
        statement = statement.where(OutboundMessage.customer_id == customer.id)
    return list(session.exec(statement).all())


def proposals(session, customer):
    return list(session.exec(select(Proposal).where(Proposal.customer_id == customer.id)
                             .order_by(Proposal.id)).all())


def drops(session, tank):
    return list(session.exec(select(Drop).where(Drop.tank_id == tank.id)).all())


def delivered(session, tank, count, *, since=date(2026, 1, 5)):
    for i in range(count):
        record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=since + timedelta(days=30 * i), quantity=10,
            status=DropStatus.DELIVERED))


# --- propose ------------------------------------------------------------------------------


def test_a_confirm_customer_due_in_two_days_gets_one_prompt_and_no_booking(
        session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    assert result.prompted == 1 and result.booked == 0
    [proposal] = proposals(session, customer)
    assert proposal.state is ProposalState.PROPOSED and proposal.drop_id is None
    assert (proposal.drop_on, proposal.quantity) == (THU, 10)
    assert proposal.cycle_key == f"tank:{tank.id}:{THU}"
    assert drops(session, tank) == []
    [prompt] = outbox(session, customer)
    assert prompt.kind is MessageKind.PROMPT
    assert prompt.idempotency_key == f"prompt:{proposal.id}"
    assert "run out around Sat 28 Nov" in prompt.body and "10 kg on Thu 26 Nov" in prompt.body
    assert prompt.not_before == TUESDAY_10 == proposal.prompted_at  # daytime: at once
    assert proposal.told_on == THU  # the day the text named


def test_with_area_days_each_side_of_town_is_offered_its_own_day_with_what_fits_then(
        session, shop, settings):
    shop.lat, shop.lon = 22.99, 120.21
    two = settings.model_copy(update={"routing": settings.routing.model_copy(
        update={"areas": 2})})
    wednesday = THU - timedelta(days=1)
    sides = {0: (22.99 + 0.01, 120.21), 1: (22.99 - 0.01, 120.21)}  # north, south
    early, late = wednesday.toordinal() % 2, THU.toordinal() % 2
    homes = {}
    for side, phone in ((early, "0912 000 001"), (late, "0912 000 002")):
        customer, tank = household(session, shop, name=f"side {side}", phone=phone)
        customer.lat, customer.lon = sides[side]
        # 16 kg left of 40 on Tuesday at 0.6 a day: 24.6 kg of room on Wednesday (20 kg
        # in bags), 25.2 kg on Thursday (25 kg)
        due(session, tank, THU, drop_size=25.0, level_now=16.0)
        homes[side] = customer

    propose(session=session, shop=shop, now=TUESDAY_10, settings=two)

    [on_wednesday] = proposals(session, homes[early])
    [on_thursday] = proposals(session, homes[late])
    assert (on_wednesday.drop_on, on_wednesday.quantity) == (wednesday, 20)
    assert (on_thursday.drop_on, on_thursday.quantity) == (THU, 25)
    assert "20 kg on Wed 25 Nov" in outbox(session, homes[early])[0].body


def test_with_weekly_area_days_a_drop_six_days_off_is_offered_on_its_weekday(
        session, shop, settings):
    shop.lat, shop.lon = 22.99, 120.21
    weekly = settings.model_copy(update={"routing": settings.routing.model_copy(
        update={"areas": 7})})
    order_by = date(2026, 11, 30)  # a Monday, six days after Tuesday the 24th
    customer, tank = household(session, shop)
    customer.lat, customer.lon = 22.99 + 0.01, 120.21  # due north: slice 0 of 7
    due(session, tank, order_by, level_now=20.0)

    propose(session=session, shop=shop, now=TUESDAY_10, settings=weekly)

    [proposal] = proposals(session, customer)
    assert proposal.drop_on.toordinal() % 7 == 0 and proposal.drop_on <= order_by
    assert proposal.drop_on == date(2026, 11, 29)  # the Sunday of slice 0


def test_with_weekly_area_days_the_nightly_plan_reaches_every_areas_day(
        session, shop, settings):
    import math

    shop.lat, shop.lon = 22.99, 120.21
    weekly = settings.model_copy(update={"routing": settings.routing.model_copy(
        update={"areas": 7})})
    # planned Monday 21:00: texts go Tuesday 08:00, so Wednesday 25th is the first day
    # a drop can come; a week of areas reaches Tuesday 1 Dec
    homes = []
    for k in range(7):
        customer, tank = household(session, shop, name=f"slice {k}",
                                   phone=f"0912 000 {k + 1:03d}", mode=DeliveryMode.AUTO)
        angle = (k + 0.5) / 7 * 2 * math.pi  # the middle of slice k, clockwise from north
        customer.lat = 22.99 + 0.01 * math.cos(angle)
        customer.lon = 120.21 + 0.01 * math.sin(angle)
        due(session, tank, date(2026, 12, 1), level_now=20.0, at=MONDAY_21)
        homes.append(customer)

    propose(session=session, shop=shop, now=MONDAY_21, settings=weekly)

    days = [proposals(session, customer)[0].drop_on for customer in homes]
    assert [d.toordinal() % 7 for d in days] == list(range(7))
    assert all(date(2026, 11, 25) <= d <= date(2026, 12, 1) for d in days)


def test_running_propose_twice_queues_one_prompt(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)

    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    again = propose(session=session, shop=shop, now=TUESDAY_10 + timedelta(hours=1),
                    settings=settings)

    assert len(outbox(session, customer)) == 1 and len(proposals(session, customer)) == 1
    [decision] = again.for_customer(customer.id)
    assert decision.action is Action.SKIP and decision.reason.startswith("waiting on proposal")


def test_an_auto_customer_gets_a_booked_planned_drop_and_a_heads_up(session, shop, settings):
    customer, tank = household(session, shop, mode=DeliveryMode.AUTO)
    due(session, tank, THU)

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    assert result.booked == 1
    [proposal] = proposals(session, customer)
    assert proposal.state is ProposalState.BOOKED
    [drop] = drops(session, tank)
    assert proposal.drop_id == drop.id and drop.idempotency_key == f"proposal:{proposal.id}"
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THU, 10)
    [heads_up] = outbox(session, customer)
    assert heads_up.kind is MessageKind.HEADS_UP
    assert "we'll drop 10 kg of Rice on Thu 26 Nov" in heads_up.body
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    assert len(drops(session, tank)) == 1 and len(outbox(session, customer)) == 1


def test_a_will_call_customer_gets_a_reminder_and_no_booking(session, shop, settings):
    customer, tank = household(session, shop, mode=DeliveryMode.WILL_CALL)
    due(session, tank, THU)

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    assert result.reminded == 1 and result.prompted == result.booked == 0
    [proposal] = proposals(session, customer)
    assert proposal.state is ProposalState.PROPOSED and drops(session, tank) == []
    [reminder] = outbox(session, customer)
    assert reminder.kind is MessageKind.REMINDER
    remind(session=session, shop=shop, now=TUESDAY_10 + timedelta(hours=8), settings=settings)
    assert len(outbox(session, customer)) == 1  # that reminder was their one text


def test_an_opted_out_customer_gets_nothing(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    opt_out_customer(session=session, customer=customer, at=TUESDAY_10 - timedelta(days=3))

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    assert [d.reason for d in result.for_customer(customer.id)] == ["opted out"]
    assert outbox(session) == [] and proposals(session, customer) == []


def test_a_customer_away_is_not_prompted_for_a_day_in_the_hold(session, shop, settings):
    away, away_tank = household(session, shop)
    due(session, away_tank, date(2026, 11, 23))  # overdue
    add_hold(session=session, customer=away, hold_in=HoldCreate(
        kind=HoldKind.AWAY, start_date=date(2026, 11, 20), end_date=date(2026, 12, 6)))
    back, back_tank = household(session, shop, name="Mr. Chen", phone="0912 000 002")
    due(session, back_tank, date(2026, 11, 23))
    add_hold(session=session, customer=back, hold_in=HoldCreate(
        kind=HoldKind.NO_DELIVERY, start_date=date(2026, 11, 22), end_date=THU))

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    [skipped] = result.for_customer(away.id)
    assert skipped.action is Action.SKIP and skipped.reason == "on hold until 2026-12-06"
    assert outbox(session, away) == [] and proposals(session, away) == []
    [prompted] = result.for_customer(back.id)
    assert prompted.action is Action.PROMPT and prompted.drop_on == FRI  # the day after


def test_prompts_made_at_nine_in_the_evening_wait_until_eight(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, date(2026, 11, 24), at=MONDAY_21)

    propose(session=session, shop=shop, now=MONDAY_21, settings=settings)

    [prompt] = outbox(session, customer)
    assert prompt.not_before == local(24, 8)
    [proposal] = proposals(session, customer)
    assert proposal.prompted_at == local(24, 8)
    assert proposal.drop_on == date(2026, 11, 25)  # not the day the prompt is read


def test_the_weekly_cap_holds(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    for i, days_ago in enumerate((6, 2)):
        queue_message(session=session, shop_id=shop.id, customer_id=customer.id,
                      to_phone=customer.phone, body="Earlier prompt", kind=MessageKind.PROMPT,
                      idempotency_key=f"test-earlier:{customer.id}:{i}",
                      not_before=TUESDAY_10 - timedelta(days=days_ago))

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    assert result.for_customer(customer.id)[0].reason.startswith("prompt cap: 2 texts")
    assert proposals(session, customer) == []

    a_day_later = propose(session=session, shop=shop, now=TUESDAY_10 + timedelta(days=1),
                          settings=settings)  # the one 6 days ago is 7 days old now
    assert a_day_later.prompted == 1


def test_one_reminder_after_the_delay_then_the_call_list_when_the_run_out_is_near(
        session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU, runout=FRI)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [proposal] = proposals(session, customer)

    too_soon = remind(session=session, shop=shop, now=local(24, 15), settings=settings)
    assert too_soon.reminded == 0
    first = remind(session=session, shop=shop, now=local(24, 16), settings=settings)
    second = remind(session=session, shop=shop, now=local(24, 17), settings=settings)
    assert first.reminded == 1 and second.reminded == 0
    prompt, reminder = outbox(session, customer)
    assert reminder.kind is MessageKind.REMINDER
    assert reminder.idempotency_key == f"reminder:{proposal.id}"
    assert not proposal.on_call_list  # run-out Fri is more than two days from Tue

    wednesday = remind(session=session, shop=shop, now=local(25, 9), settings=settings)

    assert wednesday.call_listed == 1 and proposal.on_call_list
    assert list(call_list(session=session, shop_id=shop.id)) == [proposal]
    assert len(outbox(session, customer)) == 2


def test_a_snoozed_customer_is_asked_again_on_the_day(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [first] = proposals(session, customer)
    first.state, first.snoozed_until = ProposalState.SNOOZED, FRI  # "later"

    thursday = propose(session=session, shop=shop, now=local(26, 10), settings=settings)
    assert thursday.prompted == 0
    thursday_night = propose(session=session, shop=shop, now=local(26, 21), settings=settings)

    assert first.state is ProposalState.CANCELLED
    assert thursday_night.prompted == 1
    _, again = proposals(session, customer)
    assert again.cycle_key == f"tank:{tank.id}:{THU}#2"
    assert again.drop_on == date(2026, 11, 28)  # the day after Friday's prompt
    assert outbox(session, customer)[-1].not_before == local(27, 8)


def test_the_text_a_later_was_promised_goes_out_past_the_weekly_cap_once(
        session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [first] = proposals(session, customer)
    remind(session=session, shop=shop, now=local(24, 16), settings=settings)
    assert len(outbox(session, customer)) == 2  # the prompt and its reminder: the cap
    first.state, first.snoozed_until = ProposalState.SNOOZED, FRI  # "later"

    thursday_night = propose(session=session, shop=shop, now=local(26, 21), settings=settings)

    assert thursday_night.prompted == 1  # promised on Tuesday: "we ask again Friday"
    assert len(outbox(session, customer)) == 3
    _, again = proposals(session, customer)
    again.state = ProposalState.CANCELLED  # (their phone was off: asked again below)
    friday_night = propose(session=session, shop=shop, now=local(27, 21), settings=settings)
    assert friday_night.for_customer(customer.id)[0].reason.startswith("prompt cap: 3 texts")


def test_a_declined_cycle_is_not_offered_again(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [proposal] = proposals(session, customer)
    proposal.state = ProposalState.DECLINED

    result = propose(session=session, shop=shop, now=local(25, 21), settings=settings)

    assert result.for_customer(customer.id)[0].reason.startswith("declined this cycle")
    assert len(outbox(session, customer)) == 1


def test_a_nightly_refresh_after_a_low_reading_leads_to_a_prompt(session, shop, settings):
    customer, tank = household(session, shop)
    record_household_change(session=session, customer=customer, change_in=HouseholdChangeCreate(
        effective_date=date(2026, 1, 1), adults=2, children=1))
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    add_reading(session=session, tank=tank, product=rice, at=local(23, 11),
                source=ReadingSource.COURIER, level=2.0, settings=settings, now=MONDAY_21)
    refresh_forecasts(session=session, shop=shop, now=MONDAY_21, settings=settings)

    result = propose(session=session, shop=shop, now=MONDAY_21, settings=settings)

    assert result.prompted == 1
    [proposal] = proposals(session, customer)
    assert proposal.drop_on == date(2026, 11, 25) and proposal.quantity >= rice.min_drop


def test_an_unknown_tank_is_reported_as_without_a_forecast(session, shop, settings):
    customer, _ = household(session, shop)
    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [decision] = result.for_customer(customer.id)
    assert decision.action is Action.SKIP and decision.reason.startswith("no forecast")


# --- loyalty and segments -----------------------------------------------------------------


@pytest.mark.parametrize("mode", [DeliveryMode.CONFIRM, DeliveryMode.AUTO])
def test_every_tenth_drop_is_announced_as_on_the_house(session, shop, settings, mode):
    customer, tank = household(session, shop, mode=mode)
    delivered(session, tank, 9)
    due(session, tank, THU)

    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    [text] = outbox(session, customer)
    assert text.body.endswith("This is delivery number 10: the Rice is on us!")
    if mode is DeliveryMode.AUTO:
        planned = [d for d in drops(session, tank) if d.status is DropStatus.PLANNED]
        assert planned[0].note == "loyalty: on the house (delivery 10)"


def test_the_ninth_drop_is_not_on_the_house(session, shop, settings):
    customer, tank = household(session, shop)
    delivered(session, tank, 8)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    assert "on us" not in outbox(session, customer)[0].body


@pytest.mark.parametrize("language", [Locale.ZH_TW, Locale.ZH_CN])
@pytest.mark.parametrize("deliveries", [0, 9])
def test_chinese_prompts_fit_in_two_sms_segments(session, shop, settings, language,
                                                 deliveries):
    shop.name = "林記米行"
    customer, tank = household(session, shop, name="王太太", language=language)
    delivered(session, tank, deliveries)
    due(session, tank, THU, drop_size=12.5)

    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    [prompt] = outbox(session, customer)
    assert "王太太" in prompt.body and "(11/26)" in prompt.body and "12.5公斤" in prompt.body
    assert segments(prompt.body).encoding == "UCS-2"
    assert segments(prompt.body).count <= 2, prompt.body


def test_an_unanswered_proposal_whose_day_is_over_moves_to_the_first_day_still_possible(
        session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [proposal] = proposals(session, customer)

    thursday = remind(session=session, shop=shop, now=local(26, 10), settings=settings)
    assert proposal.drop_on == THU and thursday.count(Action.MOVE) == 0
    thursday_night = remind(session=session, shop=shop, now=local(26, 21), settings=settings)

    assert thursday_night.count(Action.MOVE) == 1
    assert proposal.drop_on == date(2026, 11, 28)  # texts go out Friday: Saturday at once
    assert proposal.state is ProposalState.PROPOSED  # still theirs to answer
    assert proposal.told_on == THU  # not texted again: a yes now is confirmed (new day)


def test_a_customer_over_the_cap_goes_to_the_call_list_without_a_reminder(
        session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, date(2026, 11, 24), runout=date(2026, 11, 25))
    queue_message(session=session, shop_id=shop.id, customer_id=customer.id,
                  to_phone=customer.phone, body="An earlier prompt", kind=MessageKind.PROMPT,
                  idempotency_key=f"test-earlier:{customer.id}",
                  not_before=TUESDAY_10 - timedelta(days=3))
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    result = remind(session=session, shop=shop, now=local(24, 16), settings=settings)

    assert result.reminded == 0 and result.call_listed == 1
    assert [p.customer_id for p in call_list(session=session, shop_id=shop.id)] == [customer.id]
    assert len(outbox(session, customer)) == 2


def test_a_drop_the_owner_already_planned_is_not_offered_again(session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, THU)
    record_drop(session=session, tank=tank, drop_in=DropCreate(
        delivered_on=date(2026, 11, 25), quantity=10, status=DropStatus.PLANNED))

    result = propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)

    [decision] = result.for_customer(customer.id)
    assert decision.reason.startswith("a drop is already planned for 2026-11-25")
    assert outbox(session, customer) == []


def test_the_call_list_waits_for_the_order_by_date_not_the_median_run_out(
        session, shop, settings):
    customer, tank = household(session, shop)
    due(session, tank, date(2026, 11, 30), runout=date(2026, 12, 9))  # a wide forecast
    propose(session=session, shop=shop, now=MONDAY_21, settings=settings, horizon_days=7)
    [proposal] = proposals(session, customer)
    remind(session=session, shop=shop, now=local(24, 15), settings=settings)  # reminded
    early = remind(session=session, shop=shop, now=local(26, 21), settings=settings)
    assert early.count(Action.CALL_LIST) == 0  # order by Mon 30th: more than 2 days away
    on_time = remind(session=session, shop=shop, now=local(28, 10), settings=settings)
    assert on_time.count(Action.CALL_LIST) == 1 and proposal.on_call_list
    assert [p.id for p in call_list(session=session, shop_id=shop.id)] == [proposal.id]


def test_a_booked_drop_no_route_took_moves_to_tomorrow_at_the_nightly_plan(
        session, shop, settings):
    customer, tank = household(session, shop, mode=DeliveryMode.AUTO)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [proposal] = proposals(session, customer)
    [drop] = drops(session, tank)
    assert drop.delivered_on == THU and drop.status is DropStatus.PLANNED

    night = propose(session=session, shop=shop, now=local(26, 21), settings=settings)

    assert [d.reason for d in night.decisions if d.action is Action.MOVE] == [
        f"not brought on {THU}; now {FRI}"]
    assert drop.delivered_on == FRI and proposal.drop_on == FRI
    assert drop.status is DropStatus.PLANNED and proposal.state is ProposalState.BOOKED
