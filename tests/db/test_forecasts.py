from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from replenish.core.types import HoldKind, ReadingSource, TankShape
from replenish.db.models import (
    CustomerCreate,
    HoldCreate,
    HouseholdChangeCreate,
    TankCreate,
    TankForecast,
)
from replenish.db.queries import (
    add_hold,
    add_tank,
    create_customer,
    get_product,
    record_household_change,
)
from replenish.db.queries.forecasts import (
    forecast_as_of,
    list_forecasts,
    mark_customer_stale,
    refold_tank,
    state_of,
)
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.records import add_drop, add_reading

T0 = datetime(2026, 6, 1, 2, tzinfo=UTC)  # 10:00 in Tainan


@pytest.fixture
def rice(session, shop):
    return get_product(session=session, shop_id=shop.id, key="rice")


def family(session, shop, rice, *, name="Wang", phone="0912 345 678", adults=2):
    customer = create_customer(session=session, shop=shop,
                               customer_in=CustomerCreate(name=name, phone=phone))
    record_household_change(session=session, customer=customer, change_in=HouseholdChangeCreate(
        effective_date=date(2026, 1, 1), adults=adults, children=2, elders=1))
    tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=rice.id, shape=TankShape.CYLINDER, diameter_cm=40, height_cm=60))
    return customer, tank


def deliver_for_months(session, tank, rice, settings, *, start=T0, months=4, daily=0.75):
    """A courier measures the level before each monthly 25 kg drop."""
    level, t = 50.0, start
    add_reading(session=session, tank=tank, product=rice, at=t, source=ReadingSource.COURIER,
                level=level, settings=settings)
    for _ in range(months):
        t += timedelta(days=30)
        level -= daily * 30
        add_drop(session=session, tank=tank, product=rice, delivered_on=t.date(), at=t,
                 quantity=25, level_before=round(level, 1), settings=settings)
        level += 25
    return t


def test_every_tank_gets_a_forecast_sorted_by_order_by_date(session, shop, rice, settings):
    _, soon = family(session, shop, rice, name="Soon", phone="0912 000 001")
    _, later = family(session, shop, rice, name="Later", phone="0912 000 002")
    add_reading(session=session, tank=soon, product=rice, at=T0, source=ReadingSource.COURIER,
                depth_cm=5, settings=settings)
    add_reading(session=session, tank=later, product=rice, at=T0,
                source=ReadingSource.COURIER, depth_cm=50, settings=settings)
    result = refresh_forecasts(session=session, shop=shop, now=T0 + timedelta(hours=1),
                               settings=settings)
    assert result.refolded == 2 and result.forecast == 2
    rows = list_forecasts(session=session, shop_id=shop.id)
    assert [c.name for _, c, _, _ in rows] == ["Soon", "Later"]
    f = rows[0][0]
    assert f.runout_p10 <= f.runout_p50 <= f.runout_p90
    assert f.order_by <= f.runout_p10
    assert f.level_now == pytest.approx(60.32 * 5 / 60, rel=0.01)
    assert f.drop_size >= rice.min_drop


def test_learning_as_events_land_equals_a_full_refold(session, shop, rice, settings):
    customer, tank = family(session, shop, rice)
    add_reading(session=session, tank=tank, product=rice, at=T0 - timedelta(days=1),
                source=ReadingSource.OWNER, level=55, settings=settings)
    refresh_forecasts(session=session, shop=shop, now=T0 - timedelta(hours=1), settings=settings)
    end = deliver_for_months(session, tank, rice, settings)
    row = session.get(TankForecast, tank.id)
    assert not row.stale
    incremental = state_of(row)
    assert incremental.intervals >= 4
    refold_tank(session=session, shop=shop, tank=tank, product=rice, settings=settings)
    full = state_of(session.get(TankForecast, tank.id))
    assert full.level == pytest.approx(incremental.level)
    assert full.eta == pytest.approx(incremental.eta, rel=1e-9)
    assert full.lam == pytest.approx(incremental.lam, rel=1e-9)
    assert full.level_at == incremental.level_at
    refresh_forecasts(session=session, shop=shop, now=end, settings=settings)
    assert session.get(TankForecast, tank.id).rate == pytest.approx(0.75, rel=0.05)


def test_a_back_dated_reading_marks_the_tank_for_a_refold(session, shop, rice, settings):
    _, tank = family(session, shop, rice)
    refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    end = deliver_for_months(session, tank, rice, settings, months=2)
    add_reading(session=session, tank=tank, product=rice, at=end - timedelta(days=10),
                source=ReadingSource.CUSTOMER, level=30, settings=settings)
    assert session.get(TankForecast, tank.id).stale
    result = refresh_forecasts(session=session, shop=shop, now=end, settings=settings)
    assert result.refolded == 1
    assert not session.get(TankForecast, tank.id).stale


def test_a_household_change_is_learned_at_the_next_refresh(session, shop, rice, settings):
    customer, tank = family(session, shop, rice)
    end = deliver_for_months(session, tank, rice, settings, months=3)
    refresh_forecasts(session=session, shop=shop, now=end, settings=settings)
    before = session.get(TankForecast, tank.id).rate
    record_household_change(session=session, customer=customer, change_in=HouseholdChangeCreate(
        effective_date=end.date() + timedelta(days=1), adults=6, children=2, elders=1))
    mark_customer_stale(session=session, customer_id=customer.id)
    refresh_forecasts(session=session, shop=shop, now=end + timedelta(days=2), settings=settings)
    session.expire_all()
    assert session.get(TankForecast, tank.id).rate > before * 1.3


def test_a_hold_moves_the_run_out_later_by_its_length(session, shop, rice, settings):
    customer, tank = family(session, shop, rice)
    other, other_tank = family(session, shop, rice, name="Twin", phone="0912 000 003")
    for t in (tank, other_tank):
        add_reading(session=session, tank=t, product=rice, at=T0, source=ReadingSource.COURIER,
                    level=30, settings=settings)
    add_hold(session=session, customer=customer, hold_in=HoldCreate(
        kind=HoldKind.AWAY, start_date=date(2026, 6, 10), end_date=date(2026, 6, 23)))
    refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    held, plain = session.get(TankForecast, tank.id), session.get(TankForecast, other_tank.id)
    assert held.runout_p50 - plain.runout_p50 == timedelta(days=14)


def test_a_tank_never_measured_has_no_dates_yet(session, shop, rice, settings):
    _, tank = family(session, shop, rice)
    result = refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    assert result.without_level == 1
    row = session.exec(select(TankForecast).where(TankForecast.tank_id == tank.id)).one()
    assert row.order_by is None


def test_a_retried_drop_is_learned_once(session, shop, rice, settings):
    _, tank = family(session, shop, rice)
    add_reading(session=session, tank=tank, product=rice, at=T0, source=ReadingSource.COURIER,
                level=40, settings=settings)
    refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    kw = dict(session=session, tank=tank, product=rice, delivered_on=date(2026, 6, 21),
              at=T0 + timedelta(days=20), quantity=30, level_before=25.0, settings=settings,
              idempotency_key="stop-17-try")
    first = add_drop(**kw)
    once = state_of(session.get(TankForecast, tank.id))
    again = add_drop(**kw)
    assert again.id == first.id
    assert state_of(session.get(TankForecast, tank.id)) == once


def test_a_refresh_in_small_chunks_gives_the_same_answer(session, shop, rice, settings):
    tanks = []
    for i in range(5):
        _, tank = family(session, shop, rice, name=f"N{i}", phone=f"0912 000 10{i}")
        add_reading(session=session, tank=tank, product=rice, at=T0,
                    source=ReadingSource.COURIER, depth_cm=10 + 8 * i, settings=settings)
        tanks.append(tank)
    refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    whole = [session.get(TankForecast, t.id).order_by for t in tanks]
    result = refresh_forecasts(session=session, shop=shop, now=T0, settings=settings, chunk=2)
    assert result.forecast == 5
    assert [session.get(TankForecast, t.id).order_by for t in tanks] == whole


def test_a_reading_dated_in_the_future_is_refused(session, shop, rice, settings):
    _, tank = family(session, shop, rice)
    with pytest.raises(ValueError, match="in the future"):
        add_reading(session=session, tank=tank, product=rice, at=T0 + timedelta(days=400),
                    source=ReadingSource.OWNER, level=10, settings=settings, now=T0)


def test_a_drop_bigger_than_the_tank_is_refused(session, shop, rice, settings):
    _, tank = family(session, shop, rice)
    with pytest.raises(ValueError, match="more than the tank holds"):
        add_drop(session=session, tank=tank, product=rice, delivered_on=T0.date(), at=T0,
                 quantity=500, settings=settings, now=T0)


def test_a_household_change_dated_ahead_applies_from_its_day(session, shop, rice, settings):
    customer, tank = family(session, shop, rice)
    end = deliver_for_months(session, tank, rice, settings, months=3)
    refresh_forecasts(session=session, shop=shop, now=end, settings=settings)
    before = session.get(TankForecast, tank.id).rate
    record_household_change(session=session, customer=customer, change_in=HouseholdChangeCreate(
        effective_date=end.date() + timedelta(days=10), adults=6, children=2, elders=1))
    mark_customer_stale(session=session, customer_id=customer.id)
    refresh_forecasts(session=session, shop=shop, now=end + timedelta(days=1), settings=settings)
    assert session.get(TankForecast, tank.id).rate == pytest.approx(before, rel=0.05)
    refresh_forecasts(session=session, shop=shop, now=end + timedelta(days=11), settings=settings)
    assert session.get(TankForecast, tank.id).rate > before * 1.3


def test_a_re_measured_tank_reads_its_old_depths_again(session, shop, rice, settings):
    from replenish.db.models import TankUpdate
    from replenish.db.queries import update_tank

    customer, tank = family(session, shop, rice)
    add_reading(session=session, tank=tank, product=rice, at=T0, source=ReadingSource.COURIER,
                depth_cm=40, settings=settings)
    refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    narrow = session.get(TankForecast, tank.id).level_now
    update_tank(session=session, tank=tank, tank_in=TankUpdate(diameter_cm=50))
    mark_customer_stale(session=session, customer_id=customer.id)
    refresh_forecasts(session=session, shop=shop, now=T0, settings=settings)
    assert session.get(TankForecast, tank.id).level_now == pytest.approx(narrow * 50**2 / 40**2)


def test_refolding_many_stale_tanks_in_chunks_equals_one_by_one(session, shop, rice, settings,
                                                               monkeypatch):
    import replenish.db.queries.nightly as nightly

    tanks = []
    for i in range(5):
        _, tank = family(session, shop, rice, name=f"C{i}", phone=f"0912 000 20{i}")
        deliver_for_months(session, tank, rice, settings, months=1 + i, daily=0.5 + 0.1 * i)
        tanks.append(tank)
    monkeypatch.setattr(nightly, "REFOLD_CHUNK", 2)
    end = T0 + timedelta(days=200)
    result = refresh_forecasts(session=session, shop=shop, now=end, settings=settings)
    assert result.refolded == 5
    bulk = [state_of(session.get(TankForecast, t.id)) for t in tanks]
    for tank, state in zip(tanks, bulk, strict=True):
        refold_tank(session=session, shop=shop, tank=tank, product=rice, settings=settings)
        assert state_of(session.get(TankForecast, tank.id)) == state


def test_lunar_new_year_brings_the_run_out_forward_and_the_nightly_agrees_with_a_recompute(
        session, shop, rice, settings):
    _, tank = family(session, shop, rice)  # about 0.58 kg a day
    at = datetime(2027, 1, 25, 2, tzinfo=UTC)  # Lunar New Year: Feb 4 to 10, 2027
    add_reading(session=session, tank=tank, product=rice, at=at, source=ReadingSource.COURIER,
                level=30, settings=settings, now=at)
    plain = settings.model_copy(update={"forecast": settings.forecast.model_copy(
        update={"holiday_lift": 1.0, "new_year_lift": 1.0})})
    refresh_forecasts(session=session, shop=shop, now=at, settings=plain)
    session.expire_all()
    before = session.get(TankForecast, tank.id).runout_p50
    refresh_forecasts(session=session, shop=shop, now=at, settings=settings)
    session.expire_all()
    row = session.get(TankForecast, tank.id)
    assert 3 <= (before - row.runout_p50).days <= 4  # 7 days at 1.5: 3.5 days' more use
    [(_, again)] = forecast_as_of(session=session, shop=shop, now=at, settings=settings)
    assert (again.order_by, again.runout.local_date("p50")) == (row.order_by, row.runout_p50)


@pytest.mark.parametrize("seen", [None, 51.5])  # away from day 8: 8 days' use gone
def test_a_visit_that_found_nobody_home_is_learned_as_it_lands_as_a_refold_would(
        session, shop, rice, settings, seen):
    from replenish.core.types import DropStatus
    from replenish.db.queries.records import complete_drop

    customer, tank = family(session, shop, rice)
    add_reading(session=session, tank=tank, product=rice, at=T0 - timedelta(days=1),
                source=ReadingSource.OWNER, level=55, settings=settings)
    refresh_forecasts(session=session, shop=shop, now=T0 - timedelta(hours=1), settings=settings)
    end = deliver_for_months(session, tank, rice, settings, months=3)
    knock = end + timedelta(days=12)
    planned = add_drop(session=session, tank=tank, product=rice, delivered_on=knock.date(),
                       quantity=25, settings=settings, status=DropStatus.PLANNED)
    complete_drop(session=session, drop=planned, tank=tank, product=rice,
                  status=DropStatus.NOT_HOME, settings=settings, at=knock, level_before=seen)
    assert state_of(session.get(TankForecast, tank.id)).maybe_away is (seen is None)
    # back from four days away: 30 days after the last drop (57.5 kg in the tank then),
    # only 26 days' rice is gone
    back = end + timedelta(days=30)
    add_drop(session=session, tank=tank, product=rice, delivered_on=back.date(), at=back,
             quantity=10, level_before=round(57.5 - 0.75 * 26, 1), settings=settings)
    incremental = state_of(session.get(TankForecast, tank.id))
    refold_tank(session=session, shop=shop, tank=tank, product=rice, settings=settings)
    full = state_of(session.get(TankForecast, tank.id))
    assert not incremental.maybe_away and not full.maybe_away
    assert full.eta == pytest.approx(incremental.eta, rel=1e-9)
    assert full.lam == pytest.approx(incremental.lam, rel=1e-9)
    mark_customer_stale(session=session, customer_id=customer.id)
    refresh_forecasts(session=session, shop=shop, now=back, settings=settings)
    nightly = session.get(TankForecast, tank.id)
    assert state_of(nightly).eta == pytest.approx(incremental.eta, rel=1e-9)
    # the days away taught no slow pace (taken at its word, the interval gives 0.70)
    assert nightly.rate == pytest.approx(0.75, rel=0.02)
