from datetime import UTC, date, datetime

import pytest

from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode, DropStatus, TankShape
from replenish.db.models import CustomerCreate, DropUpdate, TankCreate
from replenish.db.queries import add_tank, create_customer, get_product, update_drop
from replenish.db.queries.proposals import (
    call_list,
    create_proposal,
    get_proposal,
    is_open,
    list_proposals,
    open_proposal,
    open_proposals,
    plan_drop,
)

NOW = datetime(2026, 11, 24, 2, tzinfo=UTC)
THU = date(2026, 11, 26)


@pytest.fixture
def rice(session, shop):
    return get_product(session=session, shop_id=shop.id, key="rice")


def household(session, shop, rice, *, phone="0912 000 001", mode=DeliveryMode.CONFIRM):
    customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
        name="Mrs. Wang", phone=phone, delivery_mode=mode))
    tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
    return customer, tank


def offer(session, customer, tank, rice, *, key=None, quantity=10.0,
          state=ProposalState.PROPOSED):
    return create_proposal(session=session, tank=tank, product=rice, customer=customer,
                           drop_on=THU, quantity=quantity, state=state, now=NOW,
                           cycle_key=key or f"tank:{tank.id}:{THU}")


def test_a_cycle_is_proposed_once_and_the_second_call_returns_the_first(session, shop, rice):
    customer, tank = household(session, shop, rice)
    first = offer(session, customer, tank, rice)
    again = offer(session, customer, tank, rice, quantity=15)
    assert again.id == first.id and again.quantity == 10
    assert first.mode is DeliveryMode.CONFIRM and first.created_at == NOW
    assert get_proposal(session=session, shop_id=shop.id, proposal_id=first.id) is first


def test_a_proposal_for_someone_elses_tank_is_refused(session, shop, rice):
    customer, _ = household(session, shop, rice)
    _, other_tank = household(session, shop, rice, phone="0912 000 002")
    with pytest.raises(ValueError, match="is not customer"):
        offer(session, customer, other_tank, rice)


def test_the_open_proposal_is_the_one_a_reply_would_answer(session, shop, rice):
    customer, tank = household(session, shop, rice)
    assert open_proposal(session=session, customer_id=customer.id) is None
    proposal = offer(session, customer, tank, rice)
    assert open_proposal(session=session, customer_id=customer.id) is proposal
    proposal.state = ProposalState.SNOOZED
    assert open_proposal(session=session, customer_id=customer.id) is proposal
    proposal.state = ProposalState.DECLINED
    session.flush()
    assert open_proposal(session=session, customer_id=customer.id) is None


def test_a_booked_proposal_stays_open_until_its_drop_is_recorded(session, shop, rice):
    customer, tank = household(session, shop, rice, mode=DeliveryMode.AUTO)
    proposal = offer(session, customer, tank, rice, state=ProposalState.BOOKED)
    drop = plan_drop(session=session, proposal=proposal, note="loyalty: on the house")
    assert open_proposal(session=session, customer_id=customer.id) is proposal
    update_drop(session=session, drop=drop, drop_in=DropUpdate(status=DropStatus.DELIVERED))
    assert open_proposal(session=session, customer_id=customer.id) is None


def test_a_booked_proposal_is_planned_once(session, shop, rice):
    customer, tank = household(session, shop, rice)
    proposal = offer(session, customer, tank, rice, state=ProposalState.BOOKED)
    drop = plan_drop(session=session, proposal=proposal, note="loyalty: on the house")
    again = plan_drop(session=session, proposal=proposal)
    assert again.id == drop.id == proposal.drop_id
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THU, 10)
    assert drop.idempotency_key == f"proposal:{proposal.id}"
    assert drop.note == "loyalty: on the house"


def test_only_a_booked_proposal_gets_a_planned_drop(session, shop, rice):
    customer, tank = household(session, shop, rice)
    proposal = offer(session, customer, tank, rice)
    with pytest.raises(ValueError, match="only a booked proposal"):
        plan_drop(session=session, proposal=proposal)


def test_proposals_are_listed_newest_first_and_narrowed(session, shop, rice):
    wang, wang_tank = household(session, shop, rice)
    chen, chen_tank = household(session, shop, rice, phone="0912 000 002")
    old = offer(session, wang, wang_tank, rice, key="old", state=ProposalState.DECLINED)
    new = offer(session, wang, wang_tank, rice, key="new")
    chens = offer(session, chen, chen_tank, rice)
    assert list_proposals(session=session, shop_id=shop.id) == [chens, new, old]
    assert list_proposals(session=session, shop_id=shop.id, customer_id=wang.id) == [new, old]
    assert list_proposals(session=session, shop_id=shop.id, only_open=True,
                          customer_id=wang.id) == [new]
    assert list_proposals(session=session, shop_id=shop.id,
                          states=[ProposalState.DECLINED]) == [old]
    assert list_proposals(session=session, shop_id=shop.id, limit=1) == [chens]


def test_the_call_list_holds_the_unanswered_marked_for_a_call(session, shop, rice):
    wang, wang_tank = household(session, shop, rice)
    chen, chen_tank = household(session, shop, rice, phone="0912 000 002")
    waiting = offer(session, wang, wang_tank, rice)
    answered = offer(session, chen, chen_tank, rice)
    waiting.on_call_list = answered.on_call_list = True
    answered.state = ProposalState.BOOKED  # they answered before the owner phoned
    session.flush()
    assert list(call_list(session=session, shop_id=shop.id)) == [waiting]
    assert list_proposals(session=session, shop_id=shop.id, on_call_list=True) == [
        answered, waiting]


def test_open_proposals_for_many_customers_agree_with_one_at_a_time(session, shop, rice):
    wang, wang_tank = household(session, shop, rice)
    chen, chen_tank = household(session, shop, rice, phone="0912 000 002")
    lin, _ = household(session, shop, rice, phone="0912 000 003")
    offer(session, wang, wang_tank, rice, key="old", state=ProposalState.DECLINED)
    waiting = offer(session, wang, wang_tank, rice, key="new")
    booked = offer(session, chen, chen_tank, rice, state=ProposalState.BOOKED)
    drop = plan_drop(session=session, proposal=booked)

    found, drops = open_proposals(session=session, customer_ids=[wang.id, chen.id, lin.id])

    assert found == {wang.id: [waiting], chen.id: [booked], lin.id: []}
    assert drops == [drop]
    for customer in (wang, chen, lin):
        assert open_proposal(session=session, customer_id=customer.id) == next(
            iter(found[customer.id]), None)
    assert open_proposals(session=session, customer_ids=[]) == ({}, [])


def test_is_open_tells_what_the_query_would(session, shop, rice):
    customer, tank = household(session, shop, rice)
    proposal = offer(session, customer, tank, rice, state=ProposalState.BOOKED)
    assert is_open(proposal, None)  # booked, no drop planned yet
    drop = plan_drop(session=session, proposal=proposal)
    assert is_open(proposal, drop)
    update_drop(session=session, drop=drop, drop_in=DropUpdate(status=DropStatus.DELIVERED))
    assert not is_open(proposal, drop)
    assert open_proposal(session=session, customer_id=customer.id) is None
    proposal.state = ProposalState.SNOOZED
    assert is_open(proposal, drop)
    proposal.state = ProposalState.CANCELLED
    assert not is_open(proposal, None)
