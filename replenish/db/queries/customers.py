"""Customers, their household history and holds. Functions add and flush; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from replenish.db.errors import DuplicateError
from replenish.db.models import (
    Courier,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    Hold,
    HoldCreate,
    HouseholdChange,
    HouseholdChangeCreate,
    Product,
    Shop,
)
from replenish.db.queries._common import (
    apply_changes,
    check_reference,
    get_owned,
    validate_update,
)
from replenish.db.values import normalize_phone

__all__ = [
    "add_hold",
    "count_customers",
    "create_customer",
    "current_household",
    "delete_hold",
    "find_customer_by_phone",
    "get_customer",
    "household_history",
    "list_customers",
    "list_holds",
    "opt_in_customer",
    "opt_out_customer",
    "record_household_change",
    "update_customer",
]

# --- Customer -----------------------------------------------------------------------------


def create_customer(*, session: Session, shop: Shop, customer_in: CustomerCreate) -> Customer:
    """Register a customer of ``shop``.

    The phone is stored in E.164, reading local numbers in the shop's region; an invalid
    one raises pydantic's ValidationError (a ValueError) on the field ``phone``. A phone
    already registered in this shop raises DuplicateError naming the existing customer.
    """
    assert shop.id is not None
    data = customer_in.model_dump()
    data["language"] = data["language"] or shop.locale
    customer = Customer.model_validate(
        data, update={"shop_id": shop.id}, context={"region": shop.region}
    )
    _check_references(
        session,
        shop_id=shop.id,
        preferred_product_id=customer.preferred_product_id,
        courier_id=customer.courier_id,
    )
    existing = _by_phone(session, shop_id=shop.id, phone=customer.phone)
    if existing is not None:
        raise _duplicate_phone(existing)
    try:
        with session.begin_nested():  # a concurrent insert of the same phone lands here
            session.add(customer)
    except IntegrityError:
        existing = _by_phone(session, shop_id=shop.id, phone=customer.phone)
        if existing is None:
            raise
        raise _duplicate_phone(existing) from None
    return customer


def get_customer(*, session: Session, shop_id: int, customer_id: int) -> Customer:
    return get_owned(session, Customer, shop_id=shop_id, row_id=customer_id)


def find_customer_by_phone(*, session: Session, shop: Shop, phone: str) -> Customer | None:
    """The customer with this phone (as typed, or E.164 as Twilio sends it), or None."""
    assert shop.id is not None
    try:
        e164 = normalize_phone(phone, region=shop.region)
    except ValueError:
        return None
    return _by_phone(session, shop_id=shop.id, phone=e164)


def _customer_filters(
    *, shop_id: int, search: str | None, courier_id: int | None, include_opted_out: bool
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [col(Customer.shop_id) == shop_id]
    if search and search.strip():
        pattern = f"%{search.strip()}%"
        matches: list[ColumnElement[bool]] = [
            col(Customer.name).ilike(pattern),
            col(Customer.address).ilike(pattern),
        ]
        digits = "".join(ch for ch in search if ch.isdigit()).lstrip("0")
        if len(digits) >= 3:
            matches.append(col(Customer.phone).contains(digits))
        filters.append(or_(*matches))
    if courier_id is not None:
        filters.append(col(Customer.courier_id) == courier_id)
    if not include_opted_out:
        filters.append(col(Customer.opted_out).is_(False))
    return filters


def list_customers(
    *,
    session: Session,
    shop_id: int,
    search: str | None = None,
    courier_id: int | None = None,
    include_opted_out: bool = True,
    offset: int = 0,
    limit: int | None = 100,
) -> Sequence[Customer]:
    """Customers of the shop, oldest first; ``search`` matches name, address or phone digits."""
    filters = _customer_filters(
        shop_id=shop_id, search=search, courier_id=courier_id, include_opted_out=include_opted_out
    )
    statement = select(Customer).where(*filters).order_by(col(Customer.id))
    return session.exec(statement.offset(offset).limit(limit)).all()


def count_customers(
    *,
    session: Session,
    shop_id: int,
    search: str | None = None,
    courier_id: int | None = None,
    include_opted_out: bool = True,
) -> int:
    filters = _customer_filters(
        shop_id=shop_id, search=search, courier_id=courier_id, include_opted_out=include_opted_out
    )
    statement = select(func.count()).select_from(Customer).where(*filters)
    return int(session.exec(statement).one())


def update_customer(
    *, session: Session, shop: Shop, customer: Customer, customer_in: CustomerUpdate
) -> Customer:
    """Change a customer's file; the same rules as at registration apply."""
    assert shop.id is not None and customer.shop_id == shop.id
    changes = validate_update(customer, customer_in, context={"region": shop.region})
    _check_references(
        session,
        shop_id=shop.id,
        preferred_product_id=changes.get("preferred_product_id"),
        courier_id=changes.get("courier_id"),
    )
    if "phone" in changes:
        existing = _by_phone(session, shop_id=shop.id, phone=changes["phone"])
        if existing is not None and existing.id != customer.id:
            raise _duplicate_phone(existing)
    apply_changes(customer, changes)
    session.add(customer)
    session.flush()
    return customer


def opt_out_customer(*, session: Session, customer: Customer, at: datetime) -> Customer:
    """The customer asked for no more messages (STOP). Kept once set; ``at`` is aware."""
    if not customer.opted_out:
        customer.opted_out = True
        customer.opted_out_at = at
        session.add(customer)
        session.flush()
    return customer


def opt_in_customer(*, session: Session, customer: Customer) -> Customer:
    customer.opted_out = False
    customer.opted_out_at = None
    session.add(customer)
    session.flush()
    return customer


def _by_phone(session: Session, *, shop_id: int, phone: str) -> Customer | None:
    statement = select(Customer).where(Customer.shop_id == shop_id, Customer.phone == phone)
    return session.exec(statement).first()


def _duplicate_phone(existing: Customer) -> DuplicateError:
    return DuplicateError(
        f"phone: {existing.phone} is already registered in this shop to customer "
        f"#{existing.id} ({existing.name})",
        field="phone",
        existing_id=existing.id,
    )


def _check_references(
    session: Session, *, shop_id: int, preferred_product_id: int | None, courier_id: int | None
) -> None:
    check_reference(
        session,
        Product,
        shop_id=shop_id,
        row_id=preferred_product_id,
        field="preferred_product_id",
    )
    check_reference(session, Courier, shop_id=shop_id, row_id=courier_id, field="courier_id")


# --- Household history --------------------------------------------------------------------


def record_household_change(
    *, session: Session, customer: Customer, change_in: HouseholdChangeCreate
) -> HouseholdChange:
    """Add who lives there from ``change_in.effective_date`` on; earlier rows stay as they are."""
    change = HouseholdChange.model_validate(
        change_in, update={"shop_id": customer.shop_id, "customer_id": customer.id}
    )
    session.add(change)
    session.flush()
    return change


def current_household(*, session: Session, customer_id: int, as_of: date) -> HouseholdChange | None:
    """The household in effect on ``as_of``: the latest change on or before it (None if none).

    Two changes on the same day: the one recorded last wins.
    """
    statement = (
        select(HouseholdChange)
        .where(
            HouseholdChange.customer_id == customer_id,
            col(HouseholdChange.effective_date) <= as_of,
        )
        .order_by(col(HouseholdChange.effective_date).desc(), col(HouseholdChange.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def household_history(*, session: Session, customer_id: int) -> Sequence[HouseholdChange]:
    """Every change, oldest first."""
    statement = (
        select(HouseholdChange)
        .where(HouseholdChange.customer_id == customer_id)
        .order_by(col(HouseholdChange.effective_date), col(HouseholdChange.id))
    )
    return session.exec(statement).all()


# --- Holds --------------------------------------------------------------------------------


def add_hold(*, session: Session, customer: Customer, hold_in: HoldCreate) -> Hold:
    hold = Hold.model_validate(
        hold_in, update={"shop_id": customer.shop_id, "customer_id": customer.id}
    )
    session.add(hold)
    session.flush()
    return hold


def list_holds(
    *,
    session: Session,
    customer_id: int,
    start: date | None = None,
    end: date | None = None,
) -> Sequence[Hold]:
    """Holds of a customer that overlap ``start``..``end`` (both inclusive, both optional)."""
    statement = select(Hold).where(Hold.customer_id == customer_id)
    if start is not None:
        statement = statement.where(col(Hold.end_date) >= start)
    if end is not None:
        statement = statement.where(col(Hold.start_date) <= end)
    return session.exec(statement.order_by(col(Hold.start_date), col(Hold.id))).all()


def delete_hold(*, session: Session, hold: Hold) -> None:
    session.delete(hold)
    session.flush()
