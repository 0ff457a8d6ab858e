"""What the courier sees and is told at a door (db/queries/door.py): the level the
forecast expects there, the day of the tank's last level, the visits since that found
nobody home, and the days away a family tells, held before the drop is learned."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from replenish.core.types import DropStatus
from replenish.db.models import Drop, Reading, Route, StopStatus, Tank
from replenish.db.queries.routes import complete_stop, route_sheet
from tests.routes.town import (
    THURSDAY_10,
    WEDNESDAY_17,
    build_town,
    route_thursday,
    stops_of,
    with_forecasts,
)


def test_days_away_told_at_the_door_are_held_before_the_drop_is_learned(session, settings):
    from replenish.core.types import HoldKind
    from replenish.db.models import Hold, TankForecast

    shop, _, drops = build_town(session, settings)  # levels read on Monday, Nov 30
    with_forecasts(session, shop, settings)
    route_thursday(session, shop, settings)
    wang = session.get(Drop, drops["Mrs. Wang"].id)
    stop = next(s for s in stops_of(session) if s.drop_id == wang.id)

    with pytest.raises(ValueError, match="nobody was home to ask"):
        complete_stop(session=session, stop=stop, status=StopStatus.NOT_HOME,
                      now=THURSDAY_10, settings=settings, away_days=1)
    with pytest.raises(ValueError, match="days away: 3 is more than the 2 days between the "
                                         "last visit on 2026-11-30 and today; give at most 2"):
        complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED,
                      now=THURSDAY_10, settings=settings, quantity=20, level_before=28,
                      away_days=3)
    assert session.exec(select(Hold)).all() == []

    complete_stop(session=session, stop=stop, status=StopStatus.DELIVERED, now=THURSDAY_10,
                  settings=settings, quantity=20, level_before=28, away_days=2)

    [hold] = session.exec(select(Hold)).all()
    assert (hold.kind, hold.start_date, hold.end_date) == (
        HoldKind.AWAY, date(2026, 12, 1), date(2026, 12, 2))
    assert hold.customer_id == session.get(Tank, wang.tank_id).customer_id
    assert "told the courier" in hold.note
    row = session.get(TankForecast, wang.tank_id)
    assert not row.stale and row.computed_at == THURSDAY_10  # refolded with the hold


def test_a_trip_told_at_the_door_is_not_learned_as_slow_eating(session, settings):
    from replenish.db.models import TankForecast

    shop, _, drops = build_town(session, settings)
    for reading in session.exec(select(Reading)).all():  # 30 kg seen 40 days before
        reading.at = THURSDAY_10 - timedelta(days=40)
        session.add(reading)
    with_forecasts(session, shop, settings)  # folded from the history as it is now
    route_thursday(session, shop, settings)
    stops = {name: next(s for s in stops_of(session) if s.drop_id == drops[name].id)
             for name in ("Mrs. Wang", "Mr. Lin")}
    prior = session.get(TankForecast, drops["Mr. Lin"].tank_id).prior_mean

    # both ate at the guessed pace on the days they were home; the Wangs were away 10 days
    for name, away in (("Mrs. Wang", 10), ("Mr. Lin", None)):
        complete_stop(session=session, stop=stops[name], status=StopStatus.DELIVERED,
                      now=THURSDAY_10, settings=settings, quantity=20,
                      level_before=30 - 30 * prior, away_days=away)

    wang = session.get(TankForecast, drops["Mrs. Wang"].tank_id)
    lin = session.get(TankForecast, drops["Mr. Lin"].tank_id)
    assert wang.rate == pytest.approx(prior, rel=0.02)  # the trip is not slow eating
    assert lin.rate < 0.97 * prior  # 30 days' rice over 40 days: learned as slower


def test_the_level_expected_at_the_door_is_the_last_forecast_less_its_pace_since():
    from replenish.db.models import TankForecast
    from replenish.db.queries.door import expected_at_door

    row = TankForecast(tank_id=1, shop_id=1, customer_id=1, product_id=1, capacity=40,
                       prior_mean=1, prior_sd=0.35, level_now=20.0, rate=1.5,
                       computed_at=WEDNESDAY_17)
    assert expected_at_door(row, WEDNESDAY_17 + timedelta(days=2)) == pytest.approx(17.0)
    assert expected_at_door(row, WEDNESDAY_17 - timedelta(days=1)) == 20.0
    assert expected_at_door(row, WEDNESDAY_17 + timedelta(days=30)) == 0.0
    assert expected_at_door(row, None) == 20.0
    assert expected_at_door(None, WEDNESDAY_17) is None
    row.level_now = None
    assert expected_at_door(row, WEDNESDAY_17) is None


def test_the_sheet_gives_each_door_the_level_the_forecast_expects(session, settings):
    from replenish.db.models import TankForecast

    shop, _, drops = build_town(session, settings)
    with_forecasts(session, shop, settings)
    route_thursday(session, shop, settings)
    route = session.exec(select(Route).order_by(Route.id)).first()

    for line in route_sheet(session=session, route=route, settings=settings):
        row = session.get(TankForecast, line.tank.id)
        days = (line.stop.arrive_at - WEDNESDAY_17).total_seconds() / 86400
        assert line.expected == pytest.approx(row.level_now - row.rate * days)
        assert 0 < line.expected < 30  # 30 kg read on Monday, eaten since
        assert line.since == date(2026, 11, 30)  # "were you away since Monday?"


def sheet_after_visits(session, settings, visits):
    """The town's sheet for Thursday after ``visits`` ((name, day, moment or None)) that
    found nobody home, by customer name."""
    shop, _, drops = build_town(session, settings)  # levels read Monday 10:00 (02:00 UTC)
    for who, day, at in visits:
        session.add(Drop(shop_id=shop.id, tank_id=drops[who].tank_id, delivered_on=day, at=at,
                         quantity=10, status=DropStatus.NOT_HOME))
    session.flush()
    with_forecasts(session, shop, settings)
    route_thursday(session, shop, settings)
    return {line.customer.name: line
            for route in session.exec(select(Route)).all()
            for line in route_sheet(session=session, route=route, settings=settings)}


def test_the_sheet_names_the_days_since_the_last_level_that_a_visit_found_nobody_home(
        session, settings):
    lines = sheet_after_visits(session, settings, [  # Sunday, Tuesday, Wednesday
        ("Mr. Lin", date(2026, 11, 29), None), ("Mr. Lin", date(2026, 12, 1), None),
        ("Mr. Lin", date(2026, 12, 2), None)])

    # Sunday's was before Monday's level: that interval is closed, nothing to ask
    assert lines["Mr. Lin"].missed == (date(2026, 12, 1), date(2026, 12, 2))
    assert not any(line.missed for name, line in lines.items() if name != "Mr. Lin")


def test_a_visit_that_found_nobody_home_on_the_day_of_the_last_level_counts_if_after_it(
        session, settings):
    from datetime import UTC, datetime

    monday = date(2026, 11, 30)
    lines = sheet_after_visits(session, settings, [  # Monday 16:00 and 09:00
        ("Mr. Lin", monday, datetime(2026, 11, 30, 8, tzinfo=UTC)),
        ("Mrs. Wang", monday, datetime(2026, 11, 30, 1, tzinfo=UTC))])

    assert lines["Mr. Lin"].missed == (monday,)  # after the level: ask
    assert lines["Mrs. Wang"].missed == ()  # before it: the level closed that interval
