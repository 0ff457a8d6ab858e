"""Follow-ups after a drop, as the hourly job makes them (the customers and forecasts
of ``test_outgoing``)."""

from datetime import date

from replenish.conversation.followups import follow_up
from replenish.conversation.outgoing import propose
from replenish.core.types import DeliveryMode, DropStatus
from replenish.db.models import DropCreate, DropUpdate, MessageKind
from replenish.db.queries import opt_out_customer, record_drop, update_drop
from tests.conversation.test_outgoing import (
    THU,
    TUESDAY_10,
    drops,
    due,
    household,
    local,
    outbox,
)


def test_the_follow_up_comes_only_after_the_drop_is_recorded_delivered(session, shop, settings):
    customer, tank = household(session, shop, mode=DeliveryMode.AUTO)
    due(session, tank, THU)
    propose(session=session, shop=shop, now=TUESDAY_10, settings=settings)
    [drop] = drops(session, tank)

    before = follow_up(session=session, shop=shop, now=local(26, 11), settings=settings)
    assert before.sent == 0  # planned, not done
    update_drop(session=session, drop=drop, drop_in=DropUpdate(
        status=DropStatus.DELIVERED, at=local(26, 11)))
    after = follow_up(session=session, shop=shop, now=local(26, 12), settings=settings)
    again = follow_up(session=session, shop=shop, now=local(26, 13), settings=settings)

    assert after.sent == 1 and again.sent == 0
    followup = outbox(session, customer)[-1]
    assert followup.kind is MessageKind.FOLLOWUP
    assert followup.idempotency_key == f"followup:{drop.id}"
    assert "how was today's delivery" in followup.body


def test_no_follow_up_to_an_opted_out_customer_and_none_in_quiet_hours(session, shop, settings):
    quiet, quiet_tank = household(session, shop)
    loud, loud_tank = household(session, shop, name="Mr. Lee", phone="0912 000 003")
    for tank in (quiet_tank, loud_tank):
        record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=THU, at=local(26, 19), quantity=10, status=DropStatus.DELIVERED))
    opt_out_customer(session=session, customer=quiet, at=local(26, 19, 30))

    result = follow_up(session=session, shop=shop, now=local(26, 22), settings=settings)

    assert [d.reason for d in result.for_customer(quiet.id)] == ["opted out"]
    assert outbox(session, quiet) == []
    [followup] = outbox(session, loud)
    assert followup.not_before == local(27, 8)


def test_after_a_first_follow_up_the_next_drops_within_the_spacing_are_not_asked_about(
        session, shop, settings):
    customer, tank = household(session, shop)
    for day in (3, 20):  # two drops 17 days apart
        record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=date(2026, 11, day), at=local(day, 11), quantity=10,
            status=DropStatus.DELIVERED))
        follow_up(session=session, shop=shop, now=local(day, 12), settings=settings)
    assert [m.kind for m in outbox(session, customer)] == [MessageKind.FOLLOWUP]

    every = settings.model_copy(update={"conversation": settings.conversation.model_copy(
        update={"followup_every_days": 0})})
    record_drop(session=session, tank=tank, drop_in=DropCreate(
        delivered_on=date(2026, 11, 24), at=local(24, 11), quantity=10,
        status=DropStatus.DELIVERED))
    follow_up(session=session, shop=shop, now=local(24, 12), settings=every)
    assert [m.kind for m in outbox(session, customer)] == [MessageKind.FOLLOWUP] * 2


def test_two_drops_asked_about_in_one_pass_get_one_follow_up(session, shop, settings):
    customer, tank = household(session, shop)
    for day in (3, 4):  # yesterday's drop and today's, both not yet asked about
        record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=date(2026, 11, day), at=local(day, 11), quantity=5,
            status=DropStatus.DELIVERED))

    follow_up(session=session, shop=shop, now=local(4, 12), settings=settings)
    follow_up(session=session, shop=shop, now=local(4, 13), settings=settings)

    assert [m.kind for m in outbox(session, customer)] == [MessageKind.FOLLOWUP]
