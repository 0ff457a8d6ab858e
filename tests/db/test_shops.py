from datetime import time

import pytest
from pydantic import ValidationError

from replenish.core.types import Locale, Unit
from replenish.db import DuplicateError, NotFoundError
from replenish.db.models import (
    CourierCreate,
    CourierUpdate,
    ProductCreate,
    ProductUpdate,
    ShopCreate,
    ShopUpdate,
)
from replenish.db.queries import (
    create_courier,
    create_product,
    get_product,
    get_shop,
    list_couriers,
    list_products,
    update_courier,
    update_product,
    update_shop,
)


def test_a_new_shop_takes_its_defaults_from_the_settings(shop):
    assert shop.name == "Wang's Rice"
    assert shop.timezone == "Asia/Taipei"
    assert shop.locale is Locale.ZH_TW
    assert (shop.region, shop.currency) == ("TW", "TWD")
    assert (shop.open_time, shop.close_time) == (time(8), time(20))


def test_a_new_shop_gets_the_default_products(session, shop, settings):
    products = {p.key: p for p in list_products(session=session, shop_id=shop.id)}
    assert set(products) == set(settings.products)
    rice = products["rice"]
    assert rice.unit is Unit.KG
    assert rice.units_per_litre == 0.8
    assert rice.bag_sizes == [5, 10]
    assert (rice.prior_adult, rice.prior_child, rice.prior_elder) == (0.15, 0.08, 0.12)
    assert "蓬萊米" in rice.aliases


def test_a_shops_products_are_its_own_to_edit(session, shop):
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    update_product(
        session=session, product=rice, product_in=ProductUpdate(bag_sizes=[2, 5], min_drop=2)
    )
    session.expire_all()
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    assert rice.bag_sizes == [2, 5] and rice.min_drop == 2


def test_an_edited_product_keeps_its_rules(session, shop):
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    with pytest.raises(ValidationError):
        update_product(session=session, product=rice, product_in=ProductUpdate(bag_sizes=[0]))
    with pytest.raises(ValidationError):
        update_product(session=session, product=rice, product_in=ProductUpdate(bag_sizes=[]))


def test_a_product_key_is_unique_within_a_shop(session, shop):
    with pytest.raises(DuplicateError, match="rice"):
        create_product(
            session=session,
            shop=shop,
            product_in=ProductCreate(
                key="rice",
                name="More rice",
                unit=Unit.KG,
                units_per_litre=0.8,
                bag_sizes=[5],
                min_drop=5,
                prior_adult=0.1,
                prior_child=0.1,
                prior_elder=0.1,
            ),
        )


def test_a_product_key_is_a_lowercase_identifier():
    with pytest.raises(ValidationError, match="lowercase"):
        ProductCreate(
            key="Brown Rice",
            name="Brown rice",
            unit=Unit.KG,
            units_per_litre=0.8,
            bag_sizes=[5],
            min_drop=5,
            prior_adult=0.1,
            prior_child=0.1,
            prior_elder=0.1,
        )


def test_an_unknown_product_is_not_found(session, shop):
    with pytest.raises(NotFoundError):
        get_product(session=session, shop_id=shop.id, key="caviar")


def test_a_shop_with_an_unknown_time_zone_is_refused(settings):
    with pytest.raises(ValidationError) as caught:
        ShopCreate.from_params(settings.shop, timezone="Asia/Tainan")
    assert caught.value.errors()[0]["loc"] == ("timezone",)
    assert "Asia/Taipei" in str(caught.value)


def test_a_shop_must_open_before_it_closes(session, shop):
    with pytest.raises(ValidationError, match="open_time must be earlier"):
        update_shop(session=session, shop=shop, shop_in=ShopUpdate(close_time=time(7)))
    update_shop(session=session, shop=shop, shop_in=ShopUpdate(close_time=time(21), region="us"))
    assert get_shop(session=session, shop_id=shop.id).region == "US"


def test_a_courier_phone_is_stored_in_e164(session, shop):
    courier = create_courier(
        session=session, shop=shop, courier_in=CourierCreate(name="Yongqing", phone="0933 111 222")
    )
    assert courier.phone == "+886933111222"
    update_courier(
        session=session, shop=shop, courier=courier, courier_in=CourierUpdate(phone="0933111333")
    )
    assert [c.phone for c in list_couriers(session=session, shop_id=shop.id)] == ["+886933111333"]
