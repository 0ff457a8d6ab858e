from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from replenish.core.types import DeliveryMode, Locale
from replenish.db import DuplicateError, NotFoundError
from replenish.db.models import (
    CourierCreate,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    ShopCreate,
)
from replenish.db.queries import (
    count_customers,
    create_courier,
    create_customer,
    create_shop,
    find_customer_by_phone,
    get_customer,
    get_product,
    list_customers,
    opt_out_customer,
    update_customer,
)


def register(session, shop, **fields):
    data = {"name": "Chen family", "phone": "0912 345 678", "address": "12 Minzu Rd"} | fields
    return create_customer(session=session, shop=shop, customer_in=CustomerCreate(**data))


@pytest.fixture
def other_shop(session, settings):
    return create_shop(
        session=session,
        shop_in=ShopCreate.from_params(settings.shop, name="Lee's Water"),
        products=settings.products,
    )


def test_a_local_phone_number_is_stored_in_e164(session, shop):
    customer = register(session, shop, phone="0912 345 678")
    assert customer.phone == "+886912345678"


def test_a_phone_number_is_read_in_the_shops_region(session, settings):
    us_shop = create_shop(
        session=session,
        shop_in=ShopCreate.from_params(settings.shop, region="US", timezone="America/Chicago"),
        products={},
    )
    customer = register(session, us_shop, phone="(201) 555-0123")
    assert customer.phone == "+12015550123"


def test_an_invalid_phone_names_the_field_and_shows_a_valid_example(session, shop):
    with pytest.raises(ValueError) as caught:
        register(session, shop, phone="12345")
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.errors()[0]["loc"] == ("phone",)
    assert "0912 345 678" in str(error)  # what a valid local number looks like
    assert "+886 912 345 678" in str(error)


def test_the_same_phone_cannot_be_registered_twice_in_one_shop(session, shop):
    first = register(session, shop, phone="0912 345 678")
    with pytest.raises(DuplicateError) as caught:
        register(session, shop, name="Chen again", phone="+886 912-345-678")
    assert caught.value.field == "phone"
    assert caught.value.existing_id == first.id
    assert "Chen family" in str(caught.value)
    assert count_customers(session=session, shop_id=shop.id) == 1


def test_the_database_itself_refuses_a_duplicate_phone(session, shop):
    register(session, shop)
    twin = Customer(shop_id=shop.id, name="Twin", phone="+886912345678", language=Locale.EN)
    session.add(twin)
    with pytest.raises(IntegrityError):
        session.flush()


def test_two_shops_may_each_have_the_same_customer_phone(session, shop, other_shop):
    a = register(session, shop)
    b = register(session, other_shop)
    assert a.phone == b.phone and a.id != b.id


def test_a_customer_speaks_the_shops_language_unless_told_otherwise(session, shop):
    assert register(session, shop).language == Locale.ZH_TW
    english = register(session, shop, phone="0922 000 111", language=Locale.EN)
    assert english.language == Locale.EN


def test_a_new_customer_is_asked_before_every_drop(session, shop):
    customer = register(session, shop)
    assert customer.delivery_mode is DeliveryMode.CONFIRM
    assert customer.opted_out is False
    assert customer.created_at.tzinfo is not None


def test_time_windows_are_checked_and_stored_as_plain_data(session, shop):
    customer = register(
        session,
        shop,
        time_windows=[
            {"days": "Mon-Fri", "start": "17:00", "end": "21:00"},
            {"days": "sat, sun", "start": "09:00", "end": "12:30"},
        ],
    )
    session.commit()
    session.expire_all()
    assert get_customer(session=session, shop_id=shop.id, customer_id=customer.id).time_windows == [
        {"days": "mon-fri", "start": "17:00", "end": "21:00"},
        {"days": "sat,sun", "start": "09:00", "end": "12:30"},
    ]


@pytest.mark.parametrize(
    ("window", "complaint"),
    [
        ({"days": "mon-fri", "start": "21:00", "end": "17:00"}, "start must be before end"),
        ({"days": "someday", "start": "09:00", "end": "10:00"}, "ranges such as 'mon-fri'"),
        ({"days": "mon", "start": "25:00", "end": "26:00"}, "time"),
    ],
)
def test_a_bad_time_window_is_refused_with_the_reason(session, shop, window, complaint):
    with pytest.raises(ValidationError, match=complaint) as caught:
        register(session, shop, time_windows=[window])
    assert caught.value.errors()[0]["loc"][0] == "time_windows"


def test_lat_and_lon_must_be_on_earth(session, shop):
    with pytest.raises(ValidationError) as caught:
        register(session, shop, lat=123.0, lon=121.5)
    assert caught.value.errors()[0]["loc"] == ("lat",)


def test_lat_without_lon_is_refused(session, shop):
    with pytest.raises(ValidationError, match="lat and lon go together"):
        register(session, shop, lat=23.0)


def test_customers_can_be_found_by_name_address_or_phone_digits(session, shop):
    chen = register(session, shop, name="Chen family", phone="0912 345 678")
    wang = register(session, shop, name="Wang 王", phone="0987 654 321", address="5 Zhongshan Rd")

    def names(search):
        return [c.name for c in list_customers(session=session, shop_id=shop.id, search=search)]

    assert names("chen") == [chen.name]
    assert names("王") == [wang.name]
    assert names("zhongshan") == [wang.name]
    assert names("0987-654") == [wang.name]
    assert names(None) == [chen.name, wang.name]


def test_a_customer_can_be_looked_up_by_the_phone_twilio_sends(session, shop):
    customer = register(session, shop)
    assert find_customer_by_phone(session=session, shop=shop, phone="+886912345678") == customer
    assert find_customer_by_phone(session=session, shop=shop, phone="0912345678") == customer
    assert find_customer_by_phone(session=session, shop=shop, phone="nonsense") is None


def test_a_customer_of_another_shop_is_not_found(session, shop, other_shop):
    customer = register(session, other_shop)
    with pytest.raises(NotFoundError):
        get_customer(session=session, shop_id=shop.id, customer_id=customer.id)
    assert list_customers(session=session, shop_id=shop.id) == []


def test_a_courier_of_another_shop_cannot_be_assigned(session, shop, other_shop):
    stranger = create_courier(
        session=session,
        shop=other_shop,
        courier_in=CourierCreate(name="Ah-Ming", phone="0933111222"),
    )
    with pytest.raises(ValueError, match="courier_id"):
        register(session, shop, courier_id=stranger.id)


def test_a_preferred_product_must_be_one_of_the_shops(session, shop, other_shop):
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    assert register(session, shop, preferred_product_id=rice.id).preferred_product_id == rice.id
    foreign = get_product(session=session, shop_id=other_shop.id, key="rice")
    with pytest.raises(ValueError, match="preferred_product_id"):
        register(session, shop, phone="0922 111 222", preferred_product_id=foreign.id)


def test_changing_a_phone_stores_it_in_e164_and_refuses_a_taken_one(session, shop):
    chen = register(session, shop, phone="0912 345 678")
    wang = register(session, shop, name="Wang", phone="0987 654 321")

    update_customer(
        session=session, shop=shop, customer=wang, customer_in=CustomerUpdate(phone="0911 222 333")
    )
    assert wang.phone == "+886911222333"

    with pytest.raises(DuplicateError):
        update_customer(
            session=session, shop=shop, customer=wang, customer_in=CustomerUpdate(phone=chen.phone)
        )


def test_an_update_keeps_the_rules_of_registration(session, shop):
    customer = register(session, shop)
    with pytest.raises(ValidationError):
        update_customer(
            session=session, shop=shop, customer=customer, customer_in=CustomerUpdate(phone="1")
        )
    assert customer.phone == "+886912345678"


def test_opting_out_records_when_and_hides_the_customer_from_active_lists(session, shop):
    customer = register(session, shop)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    opt_out_customer(session=session, customer=customer, at=at)
    later = datetime(2024, 6, 1, tzinfo=UTC)
    opt_out_customer(session=session, customer=customer, at=later)  # a second STOP

    assert customer.opted_out and customer.opted_out_at == at
    assert list_customers(session=session, shop_id=shop.id, include_opted_out=False) == []
