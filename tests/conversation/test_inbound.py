from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from replenish.conversation.inbound import answer_time, book_by_phone
from replenish.core.conversation import ProposalState
from replenish.core.replies import Intent
from replenish.core.types import DeliveryMode, DropStatus, Locale, ReadingSource
from replenish.db.models import Drop, MessageKind, Reading, TankCreate, TankForecast
from replenish.db.queries import add_tank, get_product
from replenish.db.queries.inbound import list_inbound
from replenish.db.queries.records import add_drop
from tests.conversation.conftest import NOW, THURSDAY, Phone, propose

TAIPEI = ZoneInfo("Asia/Taipei")


def drops(session):
    return session.exec(select(Drop)).all()


def test_a_yes_books_a_planned_drop_and_confirms_the_day(session, tank, phone):
    proposal = propose(session, tank)

    result = phone.text("好喔", sid="SM" + "1" * 32)

    assert result.intent is Intent.CONFIRM and result.message == "booked"
    assert proposal.state is ProposalState.BOOKED and proposal.answered_at == NOW
    drop = session.get(Drop, result.drop_id)
    assert proposal.drop_id == drop.id
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THURSDAY, 10)
    assert drop.idempotency_key == f"proposal:{proposal.id}"
    [confirmation] = phone.outbox()
    assert confirmation.kind is MessageKind.CONFIRMATION
    assert "週四(11/26)" in confirmation.body and "10公斤" in confirmation.body
    assert confirmation.idempotency_key == "reply:SM" + "1" * 32


def test_a_yes_to_exactly_what_the_text_named_books_it_with_no_text_back(session, tank, phone):
    proposal = propose(session, tank, told=True)

    result = phone.text("好喔")

    assert result.intent is Intent.CONFIRM and result.message == ""
    assert proposal.state is ProposalState.BOOKED and proposal.answered_at == NOW
    drop = session.get(Drop, result.drop_id)
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THURSDAY, 10)
    assert phone.outbox() == []


def test_a_yes_to_a_day_moved_since_the_text_is_confirmed_with_the_new_day(
        session, tank, phone):
    proposal = propose(session, tank, told=True)
    proposal.drop_on = THURSDAY + timedelta(days=1)  # its day passed unanswered: moved

    phone.text("好")

    [confirmation] = phone.outbox()
    assert confirmation.kind is MessageKind.CONFIRMATION and "週五(11/27)" in confirmation.body


def test_a_yes_after_saying_later_is_confirmed(session, tank, phone):
    propose(session, tank, told=True)
    phone.text("改天")
    phone.text("好")
    assert [m.kind for m in phone.outbox()] == [MessageKind.CONFIRMATION] * 2
    assert "週四(11/26)" in phone.outbox()[1].body


def test_a_yes_with_another_amount_is_confirmed(session, tank, phone):
    propose(session, tank, told=True)
    phone.text("好 要15公斤")
    [confirmation] = phone.outbox()
    assert "15公斤" in confirmation.body


def test_a_shop_can_have_every_yes_confirmed(session, tank, phone):
    propose(session, tank, told=True)
    phone.settings = phone.settings.model_copy(update={
        "conversation": phone.settings.conversation.model_copy(
            update={"confirm_plain_yes": True})})
    result = phone.text("1")
    assert result.message == "booked" and len(phone.outbox()) == 1


def test_a_yes_on_a_named_day_books_that_day(session, tank, phone):
    propose(session, tank)
    result = phone.text("好喔 禮拜五來就可以了")
    assert session.get(Drop, result.drop_id).delivered_on == date(2026, 11, 27)
    assert "週五(11/27)" in phone.outbox()[0].body


def test_the_same_text_applied_twice_books_once_and_answers_once(session, tank, phone):
    propose(session, tank)
    first = phone.text("1", sid="SM" + "a" * 32)
    again = phone.text("1", sid="SM" + "a" * 32)
    assert again.already_handled and again.queued == ()
    assert len(drops(session)) == 1 and first.drop_id is not None
    assert len(phone.outbox()) == 1


def test_a_second_yes_keeps_one_planned_drop(session, tank, phone):
    propose(session, tank)
    first = phone.text("好")
    second = phone.text("要15公斤")
    assert first.drop_id == second.drop_id
    assert session.get(Drop, second.drop_id).quantity == 15
    assert len(drops(session)) == 1


def owners_drop(session, shop, tank, settings, day, quantity=20.0):
    """A drop the shop planned by hand (``replenish drop add --status planned``)."""
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    return add_drop(session=session, tank=tank, product=rice, delivered_on=day,
                    quantity=quantity, settings=settings, status=DropStatus.PLANNED, now=NOW)


def test_a_yes_takes_over_the_drop_the_shop_planned_by_hand_on_the_sooner_day(
        session, shop, tank, phone, settings):
    proposal = propose(session, tank, told=True)  # "10 kg on Thursday?"
    owners = owners_drop(session, shop, tank, settings, date(2026, 11, 27))  # Friday, 20 kg

    result = phone.text("好")

    assert result.drop_id == owners.id and proposal.drop_id == owners.id
    assert drops(session) == [owners]  # one planned drop, not two
    assert (owners.delivered_on, owners.quantity) == (THURSDAY, 10)  # what was said yes to
    assert phone.outbox() == []  # the text named all of it


def test_a_yes_to_a_later_day_keeps_the_shops_sooner_drop_and_says_so(
        session, shop, tank, phone, settings):
    propose(session, tank, drop_on=date(2026, 11, 28), told=True)  # Saturday
    owners = owners_drop(session, shop, tank, settings, THURSDAY)

    result = phone.text("好")

    assert drops(session) == [owners] and owners.delivered_on == THURSDAY
    assert result.message == "booked"
    [confirmation] = phone.outbox()
    assert "週四(11/26)" in confirmation.body


def test_a_yes_naming_its_own_day_takes_over_the_shops_drop_on_that_day(
        session, shop, tank, phone, settings):
    propose(session, tank, told=True)  # Thursday
    owners = owners_drop(session, shop, tank, settings, THURSDAY)

    phone.text("好喔 禮拜五來就可以了")

    assert drops(session) == [owners] and owners.delivered_on == date(2026, 11, 27)
    assert "週五(11/27)" in phone.outbox()[0].body


def test_the_owner_booking_by_phone_takes_over_the_drop_planned_by_hand(
        session, shop, tank, settings):
    proposal = propose(session, tank)
    owners = owners_drop(session, shop, tank, settings, date(2026, 11, 27))

    assert book_by_phone(session=session, proposal=proposal, now=NOW,
                         settings=settings) == owners.id
    assert drops(session) == [owners]


def test_cancelling_a_booked_drop_closes_its_offer(session, tank, phone):
    from replenish.db.queries.records import cancel_planned_drop

    proposal = propose(session, tank)
    booked = phone.text("好")

    cancel_planned_drop(session=session, drop=session.get(Drop, booked.drop_id), now=NOW)

    assert proposal.state is ProposalState.CANCELLED
    assert session.get(Drop, booked.drop_id).status is DropStatus.CANCELLED


def test_stop_opts_out_with_one_confirmation_and_a_later_yes_queues_nothing(
        session, tank, phone, customer):
    proposal = propose(session, tank)

    stop = phone.text("STOP")
    again = phone.text("stop please")
    later = phone.text("好")

    assert customer.opted_out and customer.opted_out_at == NOW
    assert proposal.state is ProposalState.CANCELLED
    assert stop.message == "stopped" and len(stop.queued) == 1
    assert again.queued == () and later.queued == ()
    [only] = phone.outbox()
    assert only.kind is MessageKind.CONFIRMATION and "START" in only.body
    assert later.to_inbox  # a yes with nothing to say yes to: a person reads it
    assert len(drops(session)) == 0


def test_start_turns_texts_back_on(session, tank, phone, customer):
    phone.text("STOP")
    result = phone.text("START")
    assert not customer.opted_out and result.message == "started"
    assert len(phone.outbox()) == 2


def test_stop_cancels_a_booked_drop(session, tank, phone):
    proposal = propose(session, tank, state=ProposalState.BOOKED, mode=DeliveryMode.AUTO)
    phone.text("好")
    phone.text("STOP")
    assert session.get(Drop, proposal.drop_id).status is DropStatus.CANCELLED


def test_an_unknown_reply_goes_to_the_inbox_with_one_auto_reply_a_day(session, shop, tank,
                                                                      phone):
    propose(session, tank)

    first = phone.text("你們有賣糙米嗎")
    second = phone.text("喂?", at=NOW + timedelta(hours=2))
    tomorrow = phone.text("喂?", at=NOW + timedelta(days=1))

    assert first.to_inbox and first.intent is Intent.UNKNOWN
    unread = list_inbound(session=session, shop_id=shop.id, handled=False)
    assert len(unread) == 3
    assert len(first.queued) == 1 and second.queued == () and len(tomorrow.queued) == 1
    auto = phone.outbox()
    assert [m.kind for m in auto] == [MessageKind.AUTO_REPLY] * 2
    assert "我們今天會親自回覆您" in auto[0].body
    assert auto[0].idempotency_key == f"autoreply:{first.customer_id}:2026-11-24"


def test_a_text_from_a_stranger_waits_in_the_inbox_unanswered(session, shop, phone):
    stranger = Phone(session, shop, phone.settings, "+886922000111")
    result = stranger.text("請問你們有送貨到永康嗎?")
    assert result.intent is None and result.to_inbox and result.queued == ()
    [waiting] = list_inbound(session=session, shop_id=shop.id, handled=False)
    assert waiting.customer_id is None and stranger.outbox() == []


def test_a_yes_without_a_proposal_goes_to_a_person(session, tank, phone):
    result = phone.text("好")
    assert result.to_inbox and result.message == "unknown" and len(drops(session)) == 0


def test_half_left_records_a_customer_reading_of_half_the_tank(session, tank, phone):
    result = phone.text("還有一半")

    reading = session.get(Reading, result.reading_id)
    assert (reading.tank_id, reading.level, reading.source) == (tank.id, 20.0,
                                                                ReadingSource.CUSTOMER)
    assert result.message == "level_thanks" and not result.to_inbox
    assert phone.outbox()[0].kind is MessageKind.AUTO_REPLY


def test_a_quantity_above_the_room_is_trimmed_and_the_note_says_so(session, shop, tank, phone):
    forecast = TankForecast(tank_id=tank.id, shop_id=shop.id, customer_id=tank.customer_id,
                            product_id=tank.product_id, capacity=40.0, prior_mean=0.5,
                            prior_sd=0.1, level_now=12.0)  # room for 28 kg: 25 in bags
    session.add(forecast)
    propose(session, tank)

    result = phone.text("這次要30公斤")

    assert session.get(Drop, result.drop_id).quantity == 25
    [confirmation] = phone.outbox()
    assert "送25公斤" in confirmation.body
    assert confirmation.body.endswith("府上只裝得下25公斤,這次先送25公斤。")


def test_replies_late_at_night_are_answered_at_eight_in_the_morning(session, tank, phone):
    propose(session, tank)
    late = datetime(2026, 11, 24, 23, 0, tzinfo=TAIPEI)

    phone.text("好", at=late)
    phone.text("你們有賣糙米嗎", at=late + timedelta(minutes=5))

    wake = datetime(2026, 11, 25, 8, 0, tzinfo=TAIPEI)
    booked, auto = phone.outbox()
    assert booked.not_before == wake and auto.not_before == wake
    assert "我們今天會親自回覆您" in auto.body  # read at 08:00, when the shop is open


def test_no_skips_a_booked_auto_drop(session, tank, phone):
    proposal = propose(session, tank, state=ProposalState.BOOKED, mode=DeliveryMode.AUTO)
    phone.text("1")
    result = phone.text("3")
    assert proposal.state is ProposalState.DECLINED and result.drop_id is None
    assert session.get(Drop, proposal.drop_id).status is DropStatus.CANCELLED


def test_later_snoozes_and_says_when_we_ask_again(session, tank, phone):
    proposal = propose(session, tank)
    phone.text("改天")
    assert proposal.state is ProposalState.SNOOZED
    assert proposal.snoozed_until == date(2026, 11, 27)
    assert "週五(11/27)" in phone.outbox()[0].body


def test_later_past_the_tank_asks_again_in_time_and_says_when_it_may_run_out(
        session, shop, tank, phone):
    session.add(TankForecast(tank_id=tank.id, shop_id=shop.id, customer_id=tank.customer_id,
                             product_id=tank.product_id, capacity=40.0, prior_mean=0.5,
                             prior_sd=0.1, level_now=4.0, order_by=date(2026, 11, 29),
                             runout_p50=date(2026, 12, 1)))
    proposal = propose(session, tank)

    phone.text("下週再送")  # next week: after the tank's order-by date (Sunday)

    assert proposal.state is ProposalState.SNOOZED
    assert proposal.snoozed_until == date(2026, 11, 27)  # Friday, two days before
    [answer] = phone.outbox()
    assert "週二(12/1)" in answer.body and "週五(11/27)" in answer.body


def test_later_to_the_re_ask_waits_as_long_as_it_says(session, shop, tank, phone):
    session.add(TankForecast(tank_id=tank.id, shop_id=shop.id, customer_id=tank.customer_id,
                             product_id=tank.product_id, capacity=40.0, prior_mean=0.5,
                             prior_sd=0.1, level_now=4.0, order_by=date(2026, 11, 29),
                             runout_p50=date(2026, 12, 1)))
    proposal = propose(session, tank)
    proposal.cycle_key += "#2"  # asked again after an earlier "later": once a cycle

    phone.text("下週再送")

    assert proposal.snoozed_until == date(2026, 12, 1)  # a week, as they said
    assert "再跟您確認" in phone.outbox()[0].body and "用完" not in phone.outbox()[0].body


def test_naming_another_product_books_it_and_remembers_the_preference(session, shop, tank,
                                                                     phone, customer):
    water = get_product(session=session, shop_id=shop.id, key="water")
    jugs = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=water.id, shape="capacity", capacity=4.0))
    proposal = propose(session, tank)

    result = phone.text("要桶裝水")

    assert customer.preferred_product_id == water.id
    assert (proposal.product_id, proposal.tank_id) == (water.id, jugs.id)
    assert session.get(Drop, result.drop_id).tank_id == jugs.id


def test_help_answers_with_the_menu(session, tank, phone):
    result = phone.text("?")
    assert result.message == "help" and "回覆1確認" in phone.outbox()[0].body


def test_english_customers_are_answered_in_english(session, shop, tank, phone, customer):
    customer.language = Locale.EN
    propose(session, tank)
    phone.text("yes")
    assert phone.outbox()[0].body.startswith("Great! 10 kg of Rice on Thu 26 Nov")


@pytest.mark.parametrize(("local", "locale", "expected"), [
    (time(10, 0), "zh-TW", "今天"),
    (time(20, 30), "zh-TW", "明天早上8:00後"),
    (time(6, 0), "zh-CN", "今天早上8:00后"),
    (time(21, 0), "en", "tomorrow after 08:00"),
    (time(14, 0), "en", "today"),
])
def test_the_auto_reply_says_when_a_person_answers(shop, local, locale, expected):
    moment = datetime.combine(date(2026, 11, 24), local, tzinfo=TAIPEI).astimezone(UTC)
    assert answer_time(moment, shop=shop, locale=locale) == expected


def test_a_yes_after_the_drop_was_delivered_goes_to_a_person(session, tank, phone):
    proposal = propose(session, tank)
    booked = phone.text("好")
    drop = session.get(Drop, booked.drop_id)
    drop.status = DropStatus.DELIVERED
    session.add(drop)
    session.flush()

    late = phone.text("好", at=NOW + timedelta(days=3))

    assert late.to_inbox and late.proposal_id is None
    assert proposal.state is ProposalState.BOOKED and drop.quantity == 10


def test_a_level_more_than_the_tank_holds_goes_to_a_person(session, tank, phone):
    result = phone.text("還剩50公斤")
    assert result.to_inbox and result.reading_id is None
    assert session.exec(select(Reading)).all() == []


def test_the_owner_books_by_phone_for_tomorrow_at_the_soonest_and_sends_no_text(
        session, shop, settings, tank, phone):
    proposal = propose(session, tank, drop_on=NOW.date())  # its day is today
    proposal.on_call_list = True
    session.add(proposal)

    drop_id = book_by_phone(session=session, proposal=proposal, now=NOW, settings=settings)

    drop = session.get(Drop, drop_id)
    assert proposal.state is ProposalState.BOOKED and not proposal.on_call_list
    assert drop.status is DropStatus.PLANNED and drop.delivered_on == date(2026, 11, 25)
    assert proposal.drop_on == drop.delivered_on and proposal.answered_at == NOW
    assert phone.outbox() == []
    again = book_by_phone(session=session, proposal=proposal, now=NOW, settings=settings)
    assert again == drop_id  # a second click books nothing more
    assert len(session.exec(select(Drop).where(Drop.tank_id == tank.id)).all()) == 1
