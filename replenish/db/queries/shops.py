"""Shops, their products and couriers. Functions add and flush; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from replenish.db.errors import DuplicateError, NotFoundError
from replenish.db.models import (
    Courier,
    CourierCreate,
    CourierUpdate,
    Product,
    ProductCreate,
    ProductUpdate,
    Shop,
    ShopCreate,
    ShopUpdate,
)
from replenish.db.queries._common import apply_update, get_owned
from replenish.settings import ProductParams

__all__ = [
    "create_courier",
    "create_product",
    "create_shop",
    "get_courier",
    "get_product",
    "get_shop",
    "list_couriers",
    "list_products",
    "list_shops",
    "update_courier",
    "update_product",
    "update_shop",
]

# --- Shop ---------------------------------------------------------------------------------


def create_shop(
    *, session: Session, shop_in: ShopCreate, products: Mapping[str, ProductParams]
) -> Shop:
    """Create a shop and seed its products (usually ``settings.products``)."""
    shop = Shop.model_validate(shop_in)
    session.add(shop)
    session.flush()
    assert shop.id is not None
    for key, params in products.items():
        product_in = ProductCreate.from_params(key, params)
        session.add(Product.model_validate(product_in, update={"shop_id": shop.id}))
    session.flush()
    return shop


def get_shop(*, session: Session, shop_id: int) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFoundError(f"no shop with id {shop_id}")
    return shop


def list_shops(*, session: Session) -> Sequence[Shop]:
    return session.exec(select(Shop).order_by(col(Shop.id))).all()


def update_shop(*, session: Session, shop: Shop, shop_in: ShopUpdate) -> Shop:
    apply_update(shop, shop_in)
    session.add(shop)
    session.flush()
    return shop


# --- Product ------------------------------------------------------------------------------


def create_product(*, session: Session, shop: Shop, product_in: ProductCreate) -> Product:
    """Add a product to the shop. Raises DuplicateError if the key is taken."""
    assert shop.id is not None
    existing = _product_by_key(session, shop_id=shop.id, key=product_in.key)
    if existing is not None:
        raise DuplicateError(
            f"key: the shop already has a product {product_in.key!r} (id {existing.id})",
            field="key",
            existing_id=existing.id,
        )
    product = Product.model_validate(product_in, update={"shop_id": shop.id})
    session.add(product)
    session.flush()
    return product


def get_product(
    *, session: Session, shop_id: int, product_id: int | None = None, key: str | None = None
) -> Product:
    """A product of the shop, by id or by key."""
    if product_id is not None:
        return get_owned(session, Product, shop_id=shop_id, row_id=product_id)
    if key is None:
        raise TypeError("get_product needs product_id or key")
    product = _product_by_key(session, shop_id=shop_id, key=key)
    if product is None:
        raise NotFoundError(f"no product {key!r} in shop {shop_id}")
    return product


def list_products(*, session: Session, shop_id: int) -> Sequence[Product]:
    statement = select(Product).where(Product.shop_id == shop_id).order_by(col(Product.id))
    return session.exec(statement).all()


def update_product(*, session: Session, product: Product, product_in: ProductUpdate) -> Product:
    apply_update(product, product_in)
    session.add(product)
    session.flush()
    return product


def _product_by_key(session: Session, *, shop_id: int, key: str) -> Product | None:
    statement = select(Product).where(Product.shop_id == shop_id, Product.key == key)
    return session.exec(statement).first()


# --- Courier ------------------------------------------------------------------------------


def create_courier(*, session: Session, shop: Shop, courier_in: CourierCreate) -> Courier:
    """Add a courier; the phone is stored in E.164 (local numbers read in the shop's region)."""
    courier = Courier.model_validate(
        courier_in, update={"shop_id": shop.id}, context={"region": shop.region}
    )
    session.add(courier)
    session.flush()
    return courier


def get_courier(*, session: Session, shop_id: int, courier_id: int) -> Courier:
    return get_owned(session, Courier, shop_id=shop_id, row_id=courier_id)


def list_couriers(*, session: Session, shop_id: int) -> Sequence[Courier]:
    statement = select(Courier).where(Courier.shop_id == shop_id).order_by(col(Courier.id))
    return session.exec(statement).all()


def update_courier(
    *, session: Session, shop: Shop, courier: Courier, courier_in: CourierUpdate
) -> Courier:
    apply_update(courier, courier_in, context={"region": shop.region})
    session.add(courier)
    session.flush()
    return courier
