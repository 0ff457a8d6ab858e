"""Consolidation: when Thursday's routes are built, the neighbours of Thursday's customers
whose rice is due within a few days are offered Thursday: auto customers are booked onto
the route, confirm customers are asked ("we're on your street")."""

from datetime import timedelta

from sqlmodel import Session, select

from jobs.routes import build_day
from replenish.conversation.consolidate import consolidate
from replenish.conversation.inbound import handle_inbound
from replenish.conversation.texts import message_text
from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode, DropStatus, HoldKind, TankShape
from replenish.db.models import (
    CustomerCreate,
    Drop,
    HoldCreate,
    MessageKind,
    OutboundMessage,
    Product,
    Proposal,
    RoutePlan,
    RouteStop,
    TankCreate,
    TankForecast,
)
from replenish.db.queries import add_hold, add_tank, create_customer, get_product
from replenish.db.queries.inbound import record_inbound
from replenish.routing import Point, haversine_m
from replenish.settings import RoutingSettings
from tests.routes.town import PEOPLE, SHOP, TAIPEI, THURSDAY, WEDNESDAY_17, build_town, fast

FRIDAY = THURSDAY + timedelta(days=1)
_phones = iter(range(200, 300))


def neighbour(session, shop, name, north, east, *, mode=DeliveryMode.AUTO, order_by=FRIDAY,
              level=8.0, drop_size=10.0, drop_fits=True):
    """A customer ``north``/``east`` metres from the shop with a 40 kg rice tank and a
    saved forecast (order by ``order_by``, ``level`` kg left, 2 kg a day)."""
    customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
        name=name, phone=f"0912 000 {next(_phones)}", language="en", delivery_mode=mode,
        lat=SHOP[0] + north / 111_000, lon=SHOP[1] + east / 102_000))
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
    session.add(TankForecast(
        tank_id=tank.id, shop_id=shop.id, customer_id=customer.id, product_id=rice.id,
        stale=False, capacity=40.0, prior_mean=2.0, prior_sd=0.5,
        as_of=WEDNESDAY_17.astimezone(TAIPEI).date(), computed_at=WEDNESDAY_17, rate=2.0,
        rate_sd=0.3, level_now=level, runout_p10=order_by, runout_p50=order_by + timedelta(1),
        runout_p90=order_by + timedelta(3), order_by=order_by, drop_size=drop_size,
        drop_fits=drop_fits))
    session.flush()
    return customer


def proposals_of(session, customer):
    return session.exec(select(Proposal).where(Proposal.customer_id == customer.id)).all()


def texts_to(session, customer):
    return session.exec(select(OutboundMessage).where(
        OutboundMessage.customer_id == customer.id)).all()


def offer(session, shop, settings):
    return consolidate(session=session, shop=shop, day=THURSDAY, now=WEDNESDAY_17,
                       settings=settings)


def test_an_auto_neighbour_within_half_a_kilometre_is_booked_for_the_day_with_a_heads_up(
        session, settings):
    shop, _, _ = build_town(session, settings)
    lee = neighbour(session, shop, "Mr. Lee", 900, 300)  # 100 m north of Mrs. Wang

    result = offer(session, shop, settings)

    assert result.added == (lee.id,) and result.prompted == ()
    [proposal] = proposals_of(session, lee)
    assert (proposal.state, proposal.drop_on, proposal.quantity) == (
        ProposalState.BOOKED, THURSDAY, 10.0)
    assert proposal.cycle_key.endswith(f":{FRIDAY.isoformat()}")  # this cycle, a day early
    drop = session.get(Drop, proposal.drop_id)
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THURSDAY, 10)
    [text] = texts_to(session, lee)
    assert text.kind is MessageKind.HEADS_UP and text.idempotency_key == f"heads-up:{proposal.id}"
    assert "Thu 3 Dec" in text.body and text.not_before == WEDNESDAY_17


def test_a_confirm_neighbour_gets_one_prompt_saying_we_are_on_their_street_and_no_booking(
        session, settings):
    shop, _, _ = build_town(session, settings)
    kim = neighbour(session, shop, "Mrs. Kim", 800, 400, mode=DeliveryMode.CONFIRM)

    result = offer(session, shop, settings)

    assert result.prompted == (kim.id,) and result.added == () and result.trips_saved == 0
    [proposal] = proposals_of(session, kim)
    assert (proposal.state, proposal.drop_on, proposal.drop_id) == (
        ProposalState.PROPOSED, THURSDAY, None)
    [text] = texts_to(session, kim)
    rice = session.get(Product, proposal.product_id)
    assert text.kind is MessageKind.PROMPT and text.idempotency_key == f"prompt:{proposal.id}"
    assert text.body == message_text("nearby", settings=settings, shop=shop, customer=kim,
                                     product=rice, quantity=10.0, drop_day=THURSDAY)
    assert "we're on your street on Thu 3 Dec. Reply YES" in text.body
    assert "10 kg" in text.body
    assert not session.exec(select(Drop).where(Drop.tank_id == proposal.tank_id)).all()


def test_neighbours_who_are_far_due_later_full_opted_out_will_call_or_away_are_left_alone(
        session, settings):
    shop, _, _ = build_town(session, settings)
    far = neighbour(session, shop, "Far away", 3500, 300)  # > 2 km from every booked door
    later = neighbour(session, shop, "Due later", 700, 300, order_by=THURSDAY + timedelta(7))
    full = neighbour(session, shop, "Full tank", 800, 200, level=38.0)
    stopped = neighbour(session, shop, "Opted out", 850, 350)
    stopped.opted_out = True
    session.add(stopped)
    caller = neighbour(session, shop, "Will call", 750, 250, mode=DeliveryMode.WILL_CALL)
    away = neighbour(session, shop, "Away", 850, 250)
    add_hold(session=session, customer=away, hold_in=HoldCreate(
        kind=HoldKind.AWAY, start_date=THURSDAY - timedelta(1), end_date=THURSDAY))
    session.flush()
    assert haversine_m(Point(far.lat, far.lon), Point(SHOP[0] + 1500 / 111_000,
                                                      SHOP[1] - 400 / 102_000)) > 2000

    result = offer(session, shop, settings)

    assert result.added == result.prompted == ()
    why = {s.name: s.reason for s in result.skipped}
    assert why["Full tank"].startswith("no room for the smallest drop on 2026-12-03")
    assert why["Opted out"] == "opted out"
    assert why["Will call"] == "will-call: they call us"
    assert why["Away"] == "on hold until 2026-12-03"
    assert "Far away" not in why and "Due later" not in why  # not candidates at all
    for customer in (far, later, full, stopped, caller, away):
        assert proposals_of(session, customer) == [] and texts_to(session, customer) == []


def test_offering_the_same_day_twice_offers_nothing_twice(session, settings):
    shop, _, _ = build_town(session, settings)
    lee = neighbour(session, shop, "Mr. Lee", 900, 300)
    kim = neighbour(session, shop, "Mrs. Kim", 800, 400, mode=DeliveryMode.CONFIRM)

    first = offer(session, shop, settings)
    session.commit()
    again = offer(session, shop, settings)

    assert (first.added, first.prompted) == ((lee.id,), (kim.id,))
    assert again.added == again.prompted == () and again.km_saved == 0
    # Mr. Lee is one of Thursday's customers now; Mrs. Kim has not answered yet
    assert [(s.customer_id, s.reason.split(" #")[0]) for s in again.skipped] == [
        (kim.id, "waiting on proposal")]
    for customer in (lee, kim):
        assert len(proposals_of(session, customer)) == len(texts_to(session, customer)) == 1


def test_the_report_counts_each_added_customer_as_a_trip_and_the_kilometres_it_saves(
        session, settings):
    shop, _, _ = build_town(session, settings)
    lee = neighbour(session, shop, "Mr. Lee", 900, 300)
    neighbour(session, shop, "Mrs. Kim", 800, 400, mode=DeliveryMode.CONFIRM)

    result = offer(session, shop, settings)

    here, wang = Point(lee.lat, lee.lon), Point(SHOP[0] + 800 / 111_000, SHOP[1] + 300 / 102_000)
    alone = 2 * haversine_m(Point(*SHOP), here)  # out to Mr. Lee and back, ~1.9 km
    detour = 2 * haversine_m(wang, here)  # on the way to Mrs. Wang, ~0.2 km
    expected = (alone - detour) * settings.routing.detour_factor / 1000
    assert result.trips_saved == 1  # the confirm customer counts once they say yes
    assert result.km_saved > 0 and abs(result.km_saved - expected) < 0.01
    assert result.report() == {"added": [lee.id], "prompted": [result.prompted[0]],
                               "trips_saved": 1, "km_saved": result.km_saved}


def test_nothing_is_offered_when_consolidation_is_off_or_the_texts_would_be_too_late(
        session, settings):
    shop, _, _ = build_town(session, settings)
    lee = neighbour(session, shop, "Mr. Lee", 900, 300)
    routing = RoutingSettings.model_validate({**settings.routing.model_dump(),
                                              "consolidate_days": 0})
    off = settings.model_copy(update={"routing": routing})

    assert offer(session, shop, off).added == ()
    late = consolidate(session=session, shop=shop, day=THURSDAY,  # 22:00: texts wait till 08:00
                       now=WEDNESDAY_17 + timedelta(hours=5), settings=settings)
    assert late.added == () and "at the earliest" in late.problem
    assert proposals_of(session, lee) == []


def test_the_evening_build_routes_the_added_neighbour_and_keeps_the_report(database, settings):
    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        shop, _, _ = build_town(session, cfg, people=PEOPLE[:3])  # room in the vans
        lee = neighbour(session, shop, "Mr. Lee", 900, 300)
        kim = neighbour(session, shop, "Mrs. Kim", 800, 400, mode=DeliveryMode.CONFIRM)
        ids = (shop.id, lee.id, kim.id)
        session.commit()
    shop_id, lee_id, kim_id = ids

    built = build_day(database_url=database.url, shop_id=shop_id, day=THURSDAY,
                      now=WEDNESDAY_17, settings=cfg)
    again = build_day(database_url=database.url, shop_id=shop_id, day=THURSDAY,
                      now=WEDNESDAY_17, settings=cfg)

    assert (built.added, built.prompted, built.planned, built.problem) == (1, 1, 4, "")
    assert (again.added, again.prompted, again.planned) == (0, 0, 4)
    with Session(database.engine) as session:
        plan = session.exec(select(RoutePlan)).one()
        assert plan.consolidation["added"] == [lee_id]
        assert plan.consolidation["prompted"] == [kim_id]
        assert plan.consolidation["trips_saved"] == 1 and plan.consolidation["km_saved"] > 0
        stops = {s.customer_id for s in session.exec(select(RouteStop)).all()}
        assert lee_id in stops and kim_id not in stops  # Mrs. Kim has not said yes yet
        for customer_id in (lee_id, kim_id):
            assert len(session.exec(select(Proposal).where(
                Proposal.customer_id == customer_id)).all()) == 1
            assert len(session.exec(select(OutboundMessage).where(
                OutboundMessage.customer_id == customer_id)).all()) == 1


def test_no_day_is_earlier_than_the_first_day_a_text_can_announce(session, settings):
    shop, _, _ = build_town(session, settings)
    neighbour(session, shop, "Mr. Lee", 900, 300)
    today = WEDNESDAY_17.astimezone(TAIPEI).date()

    result = consolidate(session=session, shop=shop, day=today, now=WEDNESDAY_17,
                         settings=settings)

    assert result.added == () and result.problem


def test_a_yes_to_the_nearby_prompt_books_the_day_through_the_ordinary_reply_path(
        session, settings):
    shop, _, _ = build_town(session, settings)
    kim = neighbour(session, shop, "Mrs. Kim", 800, 400, mode=DeliveryMode.CONFIRM)
    offer(session, shop, settings)
    at = WEDNESDAY_17 + timedelta(minutes=20)

    inbound, _ = record_inbound(session=session, shop_id=shop.id, provider_sid="SM" + "1" * 32,
                                from_phone=kim.phone, to_phone="+15005550006", body="YES",
                                received_at=at)
    handle_inbound(session=session, inbound=inbound, now=at, settings=settings)

    [proposal] = proposals_of(session, kim)
    drop = session.get(Drop, proposal.drop_id)
    assert proposal.state is ProposalState.BOOKED
    assert (drop.status, drop.delivered_on, drop.quantity) == (DropStatus.PLANNED, THURSDAY, 10)
