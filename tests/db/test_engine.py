from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from replenish.core.types import ReadingSource, TankShape
from replenish.db import database_url, make_engine, upgrade_database
from replenish.db.models import CustomerCreate, ReadingCreate, TankCreate
from replenish.db.queries import (
    add_tank,
    create_customer,
    get_product,
    list_readings,
    record_reading,
)


def test_a_postgresql_url_uses_psycopg_3():
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_a_savepoint_rolled_back_on_sqlite_undoes_only_its_own_work(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sp.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as connection:
            outer = connection.begin()
            connection.execute(text("INSERT INTO t VALUES (1)"))
            inner = connection.begin_nested()
            connection.execute(text("INSERT INTO t VALUES (2)"))
            inner.rollback()
            outer.rollback()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        engine.dispose()


@pytest.fixture
def tank(session, shop):
    customer = create_customer(
        session=session,
        shop=shop,
        customer_in=CustomerCreate(name="Lin", phone="0912 345 678"),
    )
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    return add_tank(
        session=session,
        customer=customer,
        tank_in=TankCreate(product_id=rice.id, shape=TankShape.CAPACITY, capacity=20),
    )


def test_a_datetime_comes_back_in_utc(session, tank):
    taipei = datetime(2024, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Taipei"))
    record_reading(
        session=session,
        tank=tank,
        reading_in=ReadingCreate(at=taipei, source=ReadingSource.COURIER, level=12.5),
    )
    session.commit()
    session.expire_all()

    (reading,) = list_readings(session=session, tank_id=tank.id)

    assert reading.at == taipei
    assert reading.at.utcoffset() == timedelta(0)
    assert reading.at.tzinfo == UTC
    assert reading.at.hour == 1  # 09:30 in Taipei is 01:30 UTC


def test_readings_between_two_times_compare_in_utc(session, tank):
    for hour in (1, 2, 3):
        at = datetime(2024, 3, 1, hour, tzinfo=UTC)
        record_reading(
            session=session,
            tank=tank,
            reading_in=ReadingCreate(at=at, source=ReadingSource.OWNER, level=float(hour)),
        )
    plus_eight = timezone(timedelta(hours=8))
    since = datetime(2024, 3, 1, 10, tzinfo=plus_eight)  # 02:00 UTC
    levels = [r.level for r in list_readings(session=session, tank_id=tank.id, since=since)]
    assert levels == [2.0, 3.0]


def test_a_naive_datetime_is_refused(session, tank):
    with pytest.raises(ValueError, match="time zone"):
        ReadingCreate(at=datetime(2024, 3, 1, 9), source=ReadingSource.COURIER, level=1)


def test_the_database_refuses_a_naive_datetime_that_bypassed_validation(session, tank):
    from replenish.db.models import Reading

    reading = Reading(
        shop_id=tank.shop_id,
        tank_id=tank.id,
        at=datetime(2024, 3, 1, 9),
        source=ReadingSource.COURIER,
        level=1,
    )
    session.add(reading)
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
