from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from sqlmodel import select

from replenish.core.types import DropStatus, ReadingSource, TankShape
from replenish.db import DuplicateError
from replenish.db.models import (
    Customer,
    CustomerCreate,
    DropCreate,
    DropUpdate,
    Reading,
    ReadingCreate,
    Tank,
    TankCreate,
    TankUpdate,
)
from replenish.db.queries import (
    add_tank,
    create_customer,
    get_product,
    latest_reading,
    list_drops,
    list_tanks,
    record_drop,
    record_reading,
    update_drop,
    update_tank,
)


@pytest.fixture
def customer(session, shop):
    return create_customer(
        session=session, shop=shop, customer_in=CustomerCreate(name="Lin", phone="0912 345 678")
    )


@pytest.fixture
def rice(session, shop):
    return get_product(session=session, shop_id=shop.id, key="rice")


@pytest.fixture
def tank(session, customer, rice):
    return add_tank(
        session=session,
        customer=customer,
        tank_in=TankCreate(
            product_id=rice.id,
            label="kitchen",
            shape=TankShape.CYLINDER,
            diameter_cm=30,
            height_cm=45,
        ),
    )


def at(day, hour=9):
    return datetime(2024, 3, day, hour, tzinfo=UTC)


def test_a_tank_stores_its_measurements_as_given(session, shop, tank):
    session.expire_all()
    (stored,) = list_tanks(session=session, shop_id=shop.id)
    assert (stored.shape, stored.diameter_cm, stored.height_cm) == (TankShape.CYLINDER, 30, 45)
    assert stored.width_cm is None and stored.capacity is None
    assert stored.shop_id == shop.id


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"shape": "cylinder", "diameter_cm": 30}, "needs height_cm"),
        ({"shape": "box", "width_cm": 30, "depth_cm": 20}, "needs height_cm"),
        ({"shape": "capacity"}, "needs capacity"),
        ({"shape": "capacity", "capacity": 20, "diameter_cm": 40}, "does not use diameter_cm"),
        ({"shape": "box", "width_cm": 30, "depth_cm": 20, "height_cm": 0}, "greater than 0"),
    ],
)
def test_a_tank_is_measured_the_way_its_shape_needs(rice, fields, complaint):
    with pytest.raises(ValidationError, match=complaint):
        TankCreate(product_id=rice.id, **fields)


def test_a_remeasured_tank_must_still_fit_its_shape(session, tank):
    with pytest.raises(ValidationError):
        update_tank(session=session, tank=tank, tank_in=TankUpdate(shape=TankShape.BOX))
    update_tank(
        session=session,
        tank=tank,
        tank_in=TankUpdate(
            shape=TankShape.BOX, diameter_cm=None, width_cm=40, depth_cm=30, height_cm=50
        ),
    )
    assert (tank.shape, tank.width_cm, tank.diameter_cm) == (TankShape.BOX, 40, None)


def test_the_latest_reading_is_the_newest_by_time_not_by_entry(session, tank):
    for day, level in ((3, 8.0), (1, 15.0), (2, 11.0)):
        record_reading(
            session=session,
            tank=tank,
            reading_in=ReadingCreate(
                at=at(day), source=ReadingSource.COURIER, depth_cm=20, level=level
            ),
        )
    assert latest_reading(session=session, tank_id=tank.id).level == 8.0
    assert latest_reading(session=session, tank_id=tank.id, before=at(3)).level == 11.0


def test_a_retried_drop_is_recorded_once(session, shop, tank):
    drop_in = DropCreate(
        delivered_on=date(2024, 3, 5),
        at=at(5),
        quantity=10,
        level_before=2.5,
        status=DropStatus.DELIVERED,
        idempotency_key="stop-42-attempt",
    )
    first = record_drop(session=session, tank=tank, drop_in=drop_in)
    again = record_drop(session=session, tank=tank, drop_in=drop_in)

    assert again.id == first.id
    assert len(list_drops(session=session, shop_id=shop.id, tank_id=tank.id)) == 1


def test_an_idempotency_key_cannot_be_reused_for_another_tank(session, customer, rice, tank):
    other = add_tank(
        session=session,
        customer=customer,
        tank_in=TankCreate(product_id=rice.id, shape=TankShape.CAPACITY, capacity=10),
    )
    record_drop(
        session=session,
        tank=tank,
        drop_in=DropCreate(delivered_on=date(2024, 3, 5), quantity=10, idempotency_key="k1"),
    )
    with pytest.raises(DuplicateError, match="another tank"):
        record_drop(
            session=session,
            tank=other,
            drop_in=DropCreate(delivered_on=date(2024, 3, 5), quantity=10, idempotency_key="k1"),
        )


def test_drops_without_a_key_are_each_recorded(session, shop, tank):
    for _ in range(2):
        record_drop(
            session=session,
            tank=tank,
            drop_in=DropCreate(delivered_on=date(2024, 3, 5), quantity=5),
        )
    drops = list_drops(session=session, shop_id=shop.id, delivered_on=date(2024, 3, 5))
    assert len(drops) == 2
    assert all(d.status is DropStatus.PLANNED and d.level_before is None for d in drops)


def test_a_planned_drop_is_marked_delivered(session, shop, tank):
    drop = record_drop(
        session=session, tank=tank, drop_in=DropCreate(delivered_on=date(2024, 3, 5), quantity=10)
    )
    update_drop(
        session=session,
        drop=drop,
        drop_in=DropUpdate(status=DropStatus.DELIVERED, at=at(5, 15), level_before=1.0),
    )
    session.expire_all()
    (stored,) = list_drops(session=session, shop_id=shop.id, status=DropStatus.DELIVERED)
    assert stored.at == at(5, 15) and stored.level_before == 1.0


def test_a_drop_needs_a_positive_quantity():
    with pytest.raises(ValidationError):
        DropCreate(delivered_on=date(2024, 3, 5), quantity=0)


def test_removing_a_customer_removes_their_tanks_and_readings(session, customer, tank):
    record_reading(
        session=session,
        tank=tank,
        reading_in=ReadingCreate(at=at(1), source=ReadingSource.OWNER, level=3),
    )
    session.flush()
    session.delete(session.get(Customer, customer.id))
    session.flush()
    session.expunge_all()
    assert session.exec(select(Tank)).all() == []
    assert session.exec(select(Reading)).all() == []


def test_a_tank_entered_by_capacity_may_give_its_height_for_depth_readings(session, customer,
                                                                           rice):
    tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=rice.id, shape=TankShape.CAPACITY, capacity=20, height_cm=40))
    assert tank.height_cm == 40
