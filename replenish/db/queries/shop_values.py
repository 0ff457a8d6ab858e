"""Values of a registration that need the shop to be read: phone, product, courier, tank.

A phone number is read in the shop's region; a product is named by its key or an alias;
a courier by id or name; a tank's measurements must fit its shape; time windows are read
(and written back) in the shop's time. Each function says how to write the value when it
cannot read it: RegistrationError (with the field) or ValueError. ``ShopFacts`` is what
the checks need from the shop's rows (products, couriers, phones taken), read once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import phonenumbers
from pydantic import ValidationError
from sqlmodel import Session, col, select

from replenish.core.types import TankShape
from replenish.db.models import OPTIONAL_FIELDS, SHAPE_FIELDS, Courier, Customer, Product, Shop
from replenish.db.queries.registration_terms import (
    EXAMPLES,
    MEASURES,
    WINDOW_EXAMPLE,
    RegistrationError,
)
from replenish.db.values import TimeWindow, normalize_phone

__all__ = [
    "ShopFacts",
    "find_courier",
    "find_product",
    "format_time_windows",
    "parse_phone",
    "parse_time_windows",
    "tank_problems",
]


def parse_phone(raw: str, *, region: str, field: str = "phone") -> str:
    """A phone number as typed -> E.164, or RegistrationError saying what one looks like."""
    try:
        return normalize_phone(raw, region=region)
    except ValueError:
        pass
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        how = "+ and the country code, like +886 912 345 678"
    else:
        national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        intl = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        how = f"{national} or {intl}"
    raise RegistrationError(
        [(field, f"{raw!r} is not a valid phone number for region {region}; write it like {how}")]
    )


def find_product(
    products: Sequence[Product], text: str | None, *, field: str = "product"
) -> Product:
    """The product named by its key or an alias (``rice``, ``米``); None: the first product."""
    wanted = (text or (products[0].key if products else "rice")).strip().casefold()
    for product in products:
        if wanted == product.key or wanted in (a.casefold() for a in product.aliases):
            return product
    choices = ", ".join(p.key for p in products) or "none yet (add them in settings.toml)"
    raise RegistrationError(
        [(field, f"{text or wanted!r} is not a product of this shop; choose one of: {choices}")]
    )


def find_courier(couriers: Sequence[Courier], text: str, *, field: str = "courier") -> Courier:
    """The courier named by id (``2``, ``#2``) or by name (any case)."""
    wanted = text.strip().removeprefix("#")
    if wanted.isdigit():
        matches = [c for c in couriers if c.id == int(wanted)]
    else:
        matches = [c for c in couriers if c.name.casefold() == wanted.casefold()]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"{c.id} {c.name}" for c in couriers)
    if matches:
        message = f"several couriers are called {text!r}; give the id instead: {known}"
    elif couriers:
        message = f"{text!r} is not a courier of this shop; give a name or id: {known}"
    else:
        message = f"{text!r}: the shop has no couriers yet; leave it empty"
    raise RegistrationError([(field, message)])


_WINDOW = re.compile(
    r"^(?:(?P<prefer>prefer)\s+)?(?:(?P<days>.*?)\s+)?"
    r"(?P<start>\d{1,2}:\d{2})\s*[-–~]\s*(?P<end>\d{1,2}:\d{2})$"
)


def parse_time_windows(text: str | None) -> list[dict[str, str]]:
    """``"mon-fri 17:00-21:00; sat 09:00-12:00"`` -> the stored list of windows.

    Days are optional (``17:00-21:00`` is every day). ``prefer`` before a window makes it
    a wish (``prefer sat 09:00-12:00``): a route may arrive outside it, at a cost.
    Raises ValueError saying how to write it.
    """
    windows: list[dict[str, str]] = []
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        match = _WINDOW.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not understood; {WINDOW_EXAMPLE}")
        start, end = (match[name].zfill(5) for name in ("start", "end"))
        try:
            window = TimeWindow.model_validate(
                {"days": match["days"] or "daily", "start": start, "end": end}
                | ({"prefer": True} if match["prefer"] else {})
            )
        except ValidationError as error:
            item = error.errors(include_url=False)[0]
            if item["type"].startswith("time"):
                message = f"{item['input']!r} is not a time; use a 24-hour clock, like 17:00"
            else:
                message = str(item["msg"]).removeprefix("Value error, ")
            raise ValueError(f"{part!r}: {message}") from None
        windows.append(window.model_dump(mode="json", exclude_unset=True))
    return windows


def format_time_windows(windows: Sequence[Mapping[str, str]]) -> str:
    """The stored windows as the owner writes them (the inverse of ``parse_time_windows``)."""
    return "; ".join(("prefer " if w.get("prefer") == "yes" else "")
                     + f"{w['days']} {w['start']}-{w['end']}" for w in windows)


def tank_problems(shape: TankShape, measures: Mapping[str, float | None]) -> list[tuple[str, str]]:
    """What is missing from, or does not belong to, a tank of ``shape``."""
    used_by = {"diameter_cm": "cylinder", "width_cm": "box", "depth_cm": "box",
               "height_cm": "cylinder or box", "capacity": "capacity"}
    needed = SHAPE_FIELDS[shape]
    problems = [
        (name, f"a {shape.value} tank needs {name}; write it like {EXAMPLES[name]}")
        for name in needed if measures.get(name) is None
    ]
    problems += [
        (name, f"a {shape.value} tank is not measured by {name}; leave it empty "
               f"(or set shape to {used_by[name]})")
        for name in MEASURES
        if name not in needed + OPTIONAL_FIELDS.get(shape, ()) and measures.get(name) is not None
    ]
    return problems


@dataclass
class ShopFacts:
    """What the checks need from the database, read once per import."""

    shop: Shop
    tz: ZoneInfo
    products: Sequence[Product]
    couriers: Sequence[Courier]
    phones: dict[str, tuple[int, str]] | None  # E.164 -> (id, name); None: ask per row

    @classmethod
    def load(cls, session: Session, shop: Shop, *, all_phones: bool) -> ShopFacts:
        products = session.exec(
            select(Product).where(Product.shop_id == shop.id).order_by(col(Product.id))
        ).all()
        couriers = session.exec(
            select(Courier).where(Courier.shop_id == shop.id).order_by(col(Courier.id))
        ).all()
        phones = None
        if all_phones:
            rows = session.exec(
                select(Customer.phone, Customer.id, Customer.name).where(
                    Customer.shop_id == shop.id
                )
            ).all()
            phones = {phone: (cid, name) for phone, cid, name in rows if cid is not None}
        return cls(shop, ZoneInfo(shop.timezone), products, couriers, phones)

    def owner_of(self, session: Session, phone: str) -> tuple[int, str] | None:
        if self.phones is not None:
            return self.phones.get(phone)
        row = session.exec(
            select(Customer.id, Customer.name).where(
                Customer.shop_id == self.shop.id, Customer.phone == phone
            )
        ).first()
        return None if row is None or row[0] is None else (row[0], row[1])
