from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replenish.core.conversation import Proposal, ProposalState, TankRoom, answer, ask_again_by
from replenish.core.replies import ProductNames, parse_reply
from replenish.core.types import DeliveryMode

TODAY = date(2026, 11, 24)  # a Tuesday
RICE = TankRoom(room=40.0, bag_sizes=(5.0, 10.0), min_drop=5.0, unit="kg")
WATER = TankRoom(room=4.0, bag_sizes=(1.0,), min_drop=2.0, unit="unit")
ROOMS = {"rice": RICE, "water": WATER}
NAMES = [ProductNames("rice", ("rice", "米", "白米", "蓬萊米")),
         ProductNames("water", ("water", "jug", "水", "桶裝水"))]


def offer(mode=DeliveryMode.CONFIRM, state=ProposalState.PROPOSED, quantity=10.0):
    return Proposal(mode=mode, state=state, product="rice", drop_on=date(2026, 11, 27),
                    quantity=quantity)


def reply_to(text, proposal=None, **kw):
    return answer(proposal or offer(), parse_reply(text, products=NAMES, today=TODAY),
                  rooms=ROOMS, today=TODAY, **kw)


@pytest.mark.parametrize("text", ["yes", "1", "好", "好的", "OK!", "要", "可以 謝謝"])
def test_a_yes_books_the_proposed_drop(text):
    out = reply_to(text)
    assert out.booked and out.message == "booked"
    assert (out.proposal.quantity, out.proposal.drop_on) == (10.0, date(2026, 11, 27))


def test_a_yes_with_an_amount_books_that_amount():
    out = reply_to("好喔 這次要15公斤")
    assert out.booked and out.proposal.quantity == 15


def test_an_amount_alone_books_it():
    assert reply_to("20kg").proposal.quantity == 20


def test_more_than_the_tank_holds_is_trimmed_to_bags_that_fit_with_a_note():
    out = reply_to("yes 55kg")
    assert out.booked and out.proposal.quantity == 40 and out.note == "trimmed"


def test_less_than_the_smallest_drop_is_raised_to_it_with_a_note():
    out = reply_to("yes 2kg")
    assert out.proposal.quantity == 5 and out.note == "minimum"


def test_bags_count_as_the_largest_bag():
    assert reply_to("two bags").proposal.quantity == 20


def test_jin_are_converted_to_kilograms():
    assert reply_to("要20斤").proposal.quantity == pytest.approx(12)
    assert reply_to("要20斤", jin_kg=0.5).proposal.quantity == pytest.approx(10)


def test_a_yes_naming_a_day_books_that_day():
    out = reply_to("好喔 禮拜四來就可以了")
    assert out.booked and out.proposal.drop_on == date(2026, 11, 26)


def test_a_product_change_books_the_new_product_and_remembers_it():
    out = reply_to("water")
    assert out.booked and out.proposal.product == "water"
    assert out.preferred_product == "water"
    assert out.proposal.quantity == 4  # what fits the water tank


@pytest.mark.parametrize(("text", "days"), [("later", 3), ("2", 3), ("in 3 days", 3),
                                            ("next week", 7), ("先不用 下禮拜再說", 7),
                                            ("改天", 3)])
def test_a_snooze_asks_again_later(text, days):
    out = reply_to(text)
    assert out.proposal.state is ProposalState.SNOOZED and not out.booked
    assert (out.proposal.snoozed_until - TODAY).days == days


@pytest.mark.parametrize(("text", "asks_on"), [
    ("next week", date(2026, 11, 27)),  # 7 days: past the last day to ask
    ("friday", date(2026, 11, 27)),  # a day they name: the same
    ("later", date(2026, 11, 27)),  # 3 days: exactly that day, as asked
])
def test_a_snooze_never_asks_again_after_the_last_day_a_drop_still_comes_in_time(
        text, asks_on):
    out = reply_to(text, ask_by=date(2026, 11, 27))
    assert out.proposal.state is ProposalState.SNOOZED
    assert out.proposal.snoozed_until == asks_on
    assert out.message == ("snoozed_soon" if text == "next week" else "snoozed")


def test_a_snooze_when_the_tank_is_already_due_asks_again_tomorrow():
    out = reply_to("next week", ask_by=TODAY - timedelta(days=1))
    assert out.proposal.snoozed_until == TODAY + timedelta(days=1)
    assert out.message == "snoozed_soon"


def test_the_last_day_to_ask_again_leaves_a_day_to_answer_before_the_order_by_date():
    assert ask_again_by(date(2026, 12, 5)) == date(2026, 12, 3)
    assert ask_again_by(None) is None


def test_a_weekday_alone_asks_again_that_day():
    out = reply_to("friday")
    assert out.proposal.snoozed_until == date(2026, 11, 27)


@pytest.mark.parametrize("text", ["no", "3", "不用", "不要", "no thanks, we still have plenty"])
def test_a_no_books_nothing_this_cycle(text):
    out = reply_to(text)
    assert out.proposal.state is ProposalState.DECLINED and not out.booked


def test_a_no_that_says_how_much_is_left_is_learned():
    out = reply_to("no, still have half")
    assert out.proposal.state is ProposalState.DECLINED and out.level_fraction == 0.5


def test_a_level_report_becomes_a_reading_and_keeps_the_proposal_open():
    out = reply_to("還有一半")
    assert out.level_fraction == 0.5 and out.proposal.state is ProposalState.PROPOSED
    assert out.message == "level_thanks"


def test_a_level_given_as_an_amount_is_kept_as_an_amount():
    out = reply_to("還剩兩公斤")
    assert out.level_amount == 2


def test_stop_cancels_and_opts_out_with_one_confirmation():
    out = reply_to("STOP")
    assert out.opted_out is True and out.message == "stopped"
    assert out.proposal.state is ProposalState.CANCELLED


def test_unknown_goes_to_a_person_with_a_polite_auto_reply():
    out = reply_to("你們店裡有賣醬油嗎")
    assert out.to_inbox and out.message == "unknown" and not out.booked


def test_an_auto_customer_who_says_3_skips_the_drop():
    out = reply_to("3", offer(DeliveryMode.AUTO, ProposalState.BOOKED))
    assert out.proposal.state is ProposalState.DECLINED


def test_an_auto_customer_who_says_2_moves_the_drop():
    out = reply_to("2", offer(DeliveryMode.AUTO, ProposalState.BOOKED))
    assert out.proposal.state is ProposalState.SNOOZED


def test_a_late_yes_to_a_declined_proposal_goes_to_a_person():
    out = reply_to("yes", offer(state=ProposalState.DECLINED))
    assert out.to_inbox and not out.booked


@given(st.text(max_size=60))
def test_a_confirm_customer_is_never_booked_without_a_yes(text):
    reply = parse_reply(text, products=NAMES, today=TODAY)
    out = answer(offer(), reply, rooms=ROOMS, today=TODAY)
    if out.booked:
        assert reply.intent.value in ("confirm", "quantity", "product")
        assert 0 < out.proposal.quantity <= max(RICE.room, WATER.room)
