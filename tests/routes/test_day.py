"""A day's booked drops become routes in the database, and a courier's records of the
stops become drops, readings and lessons for the forecast."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from jobs.routes import solve
from replenish.core.types import DropStatus
from replenish.db.models import (
    Customer,
    Drop,
    Reading,
    Route,
    RoutePlan,
    RouteStop,
    StopStatus,
    Tank,
)
from replenish.db.queries.routes import complete_stop, day_input, route_sheet, save_plan
from tests.routes.town import (
    PEOPLE,
    THURSDAY,
    THURSDAY_10,
    WEDNESDAY_17,
    build_town,
    fast,
    route_thursday,
    stops_of,
    with_forecasts,
)


def test_every_booked_drop_of_the_day_gets_a_stop_on_one_route(session, settings):
    shop, couriers, drops = build_town(session, settings)

    plan = route_thursday(session, shop, settings)

    stops = stops_of(session)
    assert plan.planned == len(stops) == len(PEOPLE) and plan.unplanned == []
    assert sorted(s.drop_id for s in stops) == sorted(d.id for d in drops.values())
    routes = session.exec(select(Route)).all()
    for route in routes:
        mine = [s for s in stops if s.route_id == route.id]
        assert [s.seq for s in mine] == list(range(1, len(mine) + 1))
        assert route.load == sum(s.quantity for s in mine) <= 60  # the courier's capacity
        assert all(session.get(Drop, s.drop_id).courier_id == route.courier_id for s in mine)
    chen = next(s for s in stops if s.drop_id == drops["Auntie Chen"].id)
    local = chen.arrive_at.astimezone(ZoneInfo(shop.timezone))
    assert 14 <= local.hour < 16  # her window, "thu 14:00-16:00"


def test_a_customer_without_a_location_is_set_aside_with_the_reason(session, settings):
    shop, _, drops = build_town(session, settings)
    lost = session.get(Drop, drops["Mr. Lin"].id)
    customer = session.get(Customer, session.get(Tank, lost.tank_id).customer_id)
    customer.lat = customer.lon = None
    session.add(customer)
    session.flush()

    plan = route_thursday(session, shop, settings)

    assert plan.planned == len(PEOPLE) - 1
    [aside] = plan.unplanned
    assert aside["drop_id"] == lost.id and aside["customer"] == "Mr. Lin"
    assert aside["reason"].startswith("no location")


def test_a_customer_who_takes_no_drops_that_weekday_is_set_aside(session, settings):
    people = [*PEOPLE[:2], ("Mrs. Kao", 100, 100, 10, "mon-wed 09:00-12:00")]
    shop, _, drops = build_town(session, settings, people=people)

    plan = route_thursday(session, shop, settings)

    [aside] = plan.unplanned
    assert aside["customer"] == "Mrs. Kao"
    assert aside["reason"] == ("no time window on thu (the customer said: "
                               "mon-wed 09:00-12:00)")


def test_a_day_that_does_not_fit_lists_what_was_left_out_most_urgent_first(
        session, settings):
    people = [(f"Customer {i}", 200 * i, 150 * i, 25, "") for i in range(1, 7)]
    shop, _, _ = build_town(session, settings, people=people)  # 150 kg for 2 × 60 kg

    plan = route_thursday(session, shop, settings)

    assert plan.planned + len(plan.unplanned) == 6 and len(plan.unplanned) >= 2
    urgencies = [u["urgency"] for u in plan.unplanned]
    assert urgencies == sorted(urgencies, reverse=True)
    assert all(u["reason"] == "no capacity" for u in plan.unplanned)


def test_the_shop_must_have_a_location_to_build_routes(session, settings):
    shop, _, _ = build_town(session, settings, located=False)
    with pytest.raises(ValueError, match="the shop's location is not set.*replenish shop edit"):
        day_input(session=session, shop=shop, day=THURSDAY, settings=settings)


def test_building_again_replaces_the_plan_until_a_stop_is_recorded(session, settings):
    shop, _, _ = build_town(session, settings)
    route_thursday(session, shop, settings)
    again = route_thursday(session, shop, settings)
    assert [p.id for p in session.exec(select(RoutePlan)).all()] == [again.id]
    assert len(stops_of(session)) == len(PEOPLE)

    first = stops_of(session)[0]
    complete_stop(session=session, stop=first, status=StopStatus.NOT_HOME, now=THURSDAY_10,
                  settings=settings)
    with pytest.raises(ValueError, match="under way"):
        route_thursday(session, shop, settings)


def test_a_delivered_stop_records_the_drop_and_the_level_found_once(session, settings):
    shop, _, drops = build_town(session, settings)
    route_thursday(session, shop, settings)
    stop = next(s for s in stops_of(session) if s.drop_id == drops["Mrs. Wang"].id)

    done = complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED,
                         now=THURSDAY_10, settings=settings, submission_key="form-1",
                         quantity=22, depth_before_cm=10)
    again = complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED,
                          now=THURSDAY_10 + timedelta(minutes=1), settings=settings,
                          submission_key="form-1", quantity=99)

    assert again.id == done.id and again.quantity == 22 and again.completed_at == THURSDAY_10
    drop = session.get(Drop, drops["Mrs. Wang"].id)
    assert (drop.status, drop.quantity, drop.at) == (DropStatus.DELIVERED, 22, THURSDAY_10)
    # 10 cm of rice in a 40 cm wide tank: 12.57 L, about 10.05 kg at 0.8 kg/L
    assert drop.level_before == pytest.approx(10.05, abs=0.01)
    with pytest.raises(ValueError, match="already recorded as delivered"):
        complete_stop(session=session, stop=stop, status=StopStatus.REFUSED,
                      now=THURSDAY_10, settings=settings, submission_key="form-2")


def test_nobody_at_home_closes_the_drop_and_keeps_a_level_if_one_was_seen(session, settings):
    shop, _, drops = build_town(session, settings)
    route_thursday(session, shop, settings)
    stop = next(s for s in stops_of(session) if s.drop_id == drops["Mr. Lin"].id)
    readings = len(session.exec(select(Reading)).all())

    complete_stop(session=session, stop=stop, status=StopStatus.REFUSED, now=THURSDAY_10,
                  settings=settings, level_before=12, note="still has plenty")

    drop = session.get(Drop, drops["Mr. Lin"].id)
    assert drop.status is DropStatus.REFUSED and "still has plenty" in drop.note
    assert len(session.exec(select(Reading)).all()) == readings + 1


def test_the_sheet_lists_the_stops_in_driving_order_with_the_free_drop_marked(
        session, settings):
    shop, _, _ = build_town(session, settings)
    route_thursday(session, shop, settings)
    route = session.exec(select(Route).order_by(Route.id)).first()

    lines = route_sheet(session=session, route=route, settings=settings)

    assert [line.stop.seq for line in lines] == list(range(1, len(lines) + 1))
    assert all(line.product.key == "rice" for line in lines)
    assert not any(line.loyalty_free for line in lines)  # nobody's 10th drop


def test_a_wished_for_window_is_soft_and_an_asked_for_one_is_hard():

    from replenish.db.queries.routes import window_on
    from replenish.db.queries.shop_values import parse_time_windows

    taipei = ZoneInfo("Asia/Taipei")
    thursday = date(2026, 12, 3)
    wish = window_on(parse_time_windows("prefer thu 14:00-16:00"), thursday, taipei)
    must = window_on(parse_time_windows("thu 14:00-16:00"), thursday, taipei)
    assert (wish.hard, must.hard) == (False, True)
    assert wish.start.hour == 14 and wish.end.hour == 16
    # a wish for other days says nothing about Thursday; a must for other days does
    assert window_on(parse_time_windows("prefer sat 09:00-12:00"), thursday, taipei) is None
    assert window_on(parse_time_windows("sat 09:00-12:00"), thursday, taipei).startswith(
        "no time window on thu")


def test_a_delivered_stop_brings_that_tanks_forecast_up_to_date_at_once(session, settings):
    from replenish.db.models import TankForecast

    shop, _, drops = build_town(session, settings)
    with_forecasts(session, shop, settings)
    route_thursday(session, shop, settings)
    wang = session.get(Drop, drops["Mrs. Wang"].id)
    lin = session.get(Drop, drops["Mr. Lin"].id)
    before_lin = session.get(TankForecast, lin.tank_id).computed_at
    stop = next(s for s in stops_of(session) if s.drop_id == wang.id)

    complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED, now=THURSDAY_10,
                  settings=settings, quantity=20, level_before=10)

    row = session.get(TankForecast, wang.tank_id)
    assert row.computed_at == THURSDAY_10 and row.level_now == pytest.approx(30, abs=0.5)
    assert session.get(TankForecast, lin.tank_id).computed_at == before_lin  # only hers


def test_a_cancelled_drop_comes_off_its_route_and_says_which_day(session, settings):
    from replenish.db.queries.records import cancel_planned_drop

    shop, _, drops = build_town(session, settings)
    route_thursday(session, shop, settings)
    wang = session.get(Drop, drops["Mrs. Wang"].id)

    day = cancel_planned_drop(session=session, drop=wang, now=WEDNESDAY_17, note="phoned")

    assert day == THURSDAY and wang.status is DropStatus.CANCELLED and "phoned" in wang.note
    assert all(s.drop_id != wang.id for s in stops_of(session))
    assert len(stops_of(session)) == len(PEOPLE) - 1


def test_a_drop_cancelled_while_the_solver_ran_is_left_off_the_routes(session, settings):
    shop, _, drops = build_town(session, settings)
    day_in = day_input(session=session, shop=shop, day=THURSDAY, settings=settings)
    plan = solve(day_in, fast(settings))
    skipped = session.get(Drop, drops["Mr. Lin"].id)  # "3": skip this time, meanwhile
    skipped.status = DropStatus.CANCELLED
    session.add(skipped)
    session.flush()

    row = save_plan(session=session, shop=shop, day=THURSDAY, day_in=day_in, plan=plan,
                    now=WEDNESDAY_17)

    stops = stops_of(session)
    assert skipped.id not in {s.drop_id for s in stops}
    assert row.planned == len(stops) == len(PEOPLE) - 1
    [left] = [u for u in row.unplanned if u["drop_id"] == skipped.id]
    assert left["reason"] == "cancelled while the routes were built"
    for route in session.exec(select(Route)).all():  # numbered 1, 2, ... without a gap
        seqs = [s.seq for s in stops if s.route_id == route.id]
        assert seqs == list(range(1, len(seqs) + 1))


def test_the_time_at_each_door_is_learned_from_the_recorded_stops_but_not_from_a_break(
        session, settings):
    from replenish.db.queries.routes import learned_service_many, learned_service_s

    shop, _, _ = build_town(session, settings)
    route_thursday(session, shop, settings)
    stops = stops_of(session)
    by_route: dict[int, list[RouteStop]] = {}
    for stop in stops:
        by_route.setdefault(stop.route_id, []).append(stop)
    lunch = max(stops, key=lambda s: s.seq)  # a lunch break before the last stop of a route
    assert lunch.seq > 1
    expected = {}
    for n, route_stops in enumerate(by_route.values()):
        clock = THURSDAY_10
        for stop in route_stops:
            door = 7200 if stop is lunch else 100 + 40 * stop.seq + 300 * n
            clock += timedelta(seconds=stop.travel_s + door)
            complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED, now=clock,
                          settings=settings, quantity=5, level_before=1)
            # the first stop of a route has no stop before it to measure from
            expected[stop.customer_id] = door if stop.seq > 1 and stop is not lunch else 99

    learned = learned_service_many(session, sorted(expected), 99)

    assert learned == expected
    assert 99 in expected.values() and len(set(expected.values())) > 2
    assert all(learned_service_s(session, c, 99) == s for c, s in learned.items())
