"""A customer who says the tank is empty, or nearly, gets the first drop possible."""

from datetime import date

import pytest
from sqlmodel import select

from replenish.core.conversation import ProposalState
from replenish.core.types import DropStatus, HoldKind
from replenish.db.models import Drop, HoldCreate, MessageKind, Proposal, Reading
from replenish.db.queries import add_hold, get_product
from replenish.db.queries.customers import opt_out_customer
from replenish.db.queries.records import add_drop
from tests.conversation.conftest import NOW, THURSDAY, propose

WEDNESDAY = date(2026, 11, 25)  # tomorrow: NOW is Tuesday 10:00 in Taipei
SATURDAY = date(2026, 11, 28)


def planned(session):
    return session.exec(select(Drop).where(Drop.status == DropStatus.PLANNED)).all()


def test_out_with_nothing_offered_books_a_full_tank_for_tomorrow(session, tank, phone):
    result = phone.text("沒米了")

    assert result.message == "rushed"
    [drop] = planned(session)
    assert (drop.tank_id, drop.delivered_on, drop.quantity) == (tank.id, WEDNESDAY, 40)
    [proposal] = session.exec(select(Proposal)).all()
    assert proposal.state is ProposalState.BOOKED and proposal.drop_id == drop.id
    assert proposal.cycle_key == f"tank:{tank.id}:2026-11-24"
    assert session.get(Reading, result.reading_id).level == 0  # and the level is learned
    [answer] = phone.outbox()
    assert answer.kind is MessageKind.CONFIRMATION
    assert "週三(11/25)" in answer.body and "40公斤" in answer.body and "回覆3" in answer.body


def test_nearly_out_books_the_offer_sooner_and_counts_as_a_yes(session, tank, phone):
    proposal = propose(session, tank, drop_on=SATURDAY)  # a confirm customer, not answered

    phone.text("快沒了")

    assert proposal.state is ProposalState.BOOKED and proposal.answered_at == NOW
    assert proposal.drop_on == WEDNESDAY
    [drop] = planned(session)
    assert (drop.delivered_on, drop.quantity) == (WEDNESDAY, 35)  # 40 less a tenth, in bags


def test_a_drop_already_coming_tomorrow_stays_and_a_no_then_cancels_it(session, tank, phone):
    proposal = propose(session, tank, drop_on=WEDNESDAY, state=ProposalState.BOOKED)

    phone.text("we ran out")
    assert proposal.drop_on == WEDNESDAY and len(planned(session)) == 1
    phone.text("3")

    assert proposal.state is ProposalState.DECLINED and planned(session) == []


def test_a_drop_booked_for_today_stays_as_it_is(session, tank, phone):
    proposal = propose(session, tank, drop_on=date(2026, 11, 24), state=ProposalState.BOOKED)
    phone.text("沒米了")
    assert proposal.drop_on == date(2026, 11, 24) and proposal.quantity == 10  # on the van


def test_a_drop_booked_inside_a_hold_moves_to_the_first_day_back(session, customer, tank,
                                                                  phone):
    proposal = propose(session, tank, drop_on=THURSDAY, state=ProposalState.BOOKED)
    add_hold(session=session, customer=customer, hold_in=HoldCreate(
        kind=HoldKind.NO_DELIVERY, start_date=WEDNESDAY, end_date=THURSDAY))  # after booking

    phone.text("沒米了")

    assert proposal.drop_on == date(2026, 11, 27)


@pytest.mark.parametrize("offered", [False, True])
def test_the_owners_planned_drop_moves_to_tomorrow_and_nothing_is_booked_twice(
        session, shop, tank, phone, settings, offered):
    proposal = propose(session, tank) if offered else None  # Thursday, not answered yet
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    owners = add_drop(session=session, tank=tank, product=rice, delivered_on=SATURDAY,
                      quantity=20, settings=settings, status=DropStatus.PLANNED, now=NOW)

    result = phone.text("沒米了")

    assert result.message == "rushed" and result.drop_id == owners.id
    assert planned(session) == [owners] and owners.delivered_on == WEDNESDAY
    if proposal is None:  # nothing offered: nothing new is made
        assert session.exec(select(Proposal)).all() == []
        assert "20公斤" in phone.outbox()[0].body
    else:  # the open offer is booked onto the shop's drop
        assert proposal.drop_id == owners.id and proposal.state is ProposalState.BOOKED


def test_away_tomorrow_the_drop_comes_the_first_day_back(session, customer, tank, phone):
    add_hold(session=session, customer=customer, hold_in=HoldCreate(
        kind=HoldKind.AWAY, start_date=WEDNESDAY, end_date=THURSDAY))

    phone.text("沒米了")

    assert [d.delivered_on for d in planned(session)] == [date(2026, 11, 27)]


def test_half_left_or_an_opted_out_customer_books_nothing(session, customer, tank, phone):
    assert phone.text("還有一半").message == "level_thanks"
    opt_out_customer(session=session, customer=customer, at=NOW)
    assert phone.text("沒米了").message == "level_thanks"
    assert planned(session) == [] and session.exec(select(Proposal)).all() == []


def test_out_after_a_drop_today_books_nothing_more(session, shop, tank, phone, settings):
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    add_drop(session=session, tank=tank, product=rice, delivered_on=date(2026, 11, 24),
             quantity=20, settings=settings, now=NOW)

    assert phone.text("沒米了").message == "level_thanks"
    assert planned(session) == []
