"""Registering customers: one household as typed, or a whole CSV file, all or nothing.

A registration is flat: the fields of ``CustomerRegistration`` are the CSV columns and,
spelled with ``-``, the options of ``replenish customer add``. ``register_customer``
writes the customer, the first household, the tank and (if measured) the first reading;
``import_customers`` checks every row of a file first and writes either all of them or
none. Functions flush and never commit; the caller owns the transaction.

Every problem names the field as the owner typed it and says how to fix it, and all
problems of a row (of a file) are reported together.

Exception tree::

    ValueError
     ├── RegistrationError     one customer: problems = [(field, message), ...]
     └── CustomerImportError   a file: problems = [(line, field, message), ...];
                               nothing was written
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from replenish.core.tank import TankGeometry
from replenish.core.types import DeliveryMode, Locale, ReadingSource, TankShape
from replenish.db.errors import DuplicateError
from replenish.db.history import geometry_of
from replenish.db.models import (
    SHAPE_FIELDS,
    Courier,
    Customer,
    CustomerCreate,
    HouseholdChange,
    HouseholdChangeCreate,
    Product,
    Reading,
    ReadingCreate,
    Shop,
    Tank,
    TankCreate,
)
from replenish.db.queries.customers import create_customer, record_household_change
from replenish.db.queries.tanks import add_tank, record_reading
from replenish.db.values import TimeWindow, normalize_phone
from replenish.settings import Settings

__all__ = [
    "COLUMNS",
    "EXAMPLES",
    "MEASURES",
    "REQUIRED_COLUMNS",
    "CsvRow",
    "CustomerImportError",
    "CustomerRegistration",
    "RegistrationError",
    "RegistrationResult",
    "find_courier",
    "find_product",
    "format_time_windows",
    "import_customers",
    "parse_phone",
    "parse_time_windows",
    "read_customers_csv",
    "register_customer",
    "tank_problems",
]

MEASURES = ("diameter_cm", "width_cm", "depth_cm", "height_cm", "capacity")

# How a value is written, shown after "write it like" when one is wrong or missing.
EXAMPLES = {
    "name": "王太太 or Dave Miller",
    "phone": "0912 345 678 or +886 912 345 678",
    "lat": "22.9908 (read it off a map)",
    "lon": "120.2133 (read it off a map)",
    "adults": "2",
    "children": "1",
    "elders": "0",
    "eats_at_home": "1 (every meal at home), 0.5 or 50%",
    "shape": "cylinder, box or capacity",
    "diameter_cm": "40 (the inside diameter, in cm)",
    "width_cm": "30 (inside, in cm)",
    "depth_cm": "40 (inside, front to back, in cm)",
    "height_cm": "60 (inside, in cm)",
    "capacity": "3 (how much the tank holds, in the product's unit)",
    "fill_cm": "20 (depth of product standing in the tank, in cm)",
    "level": "8.5 (the amount in the tank now, in the product's unit)",
    "measured_at": "2026-11-20T10:00 (shop time) or 2026-11-20",
    "time_windows": "mon-fri 17:00-21:00; sat 09:00-12:00",
}
_WINDOW_EXAMPLE = f"write windows like '{EXAMPLES['time_windows']}'"


class RegistrationError(ValueError):
    """One customer cannot be registered (or changed). ``problems``: ``[(field, message)]``."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


class CustomerImportError(ValueError):
    """A file that cannot be imported; nothing was written.

    ``problems``: ``[(line, field, message)]``, by line, every problem of every row.
    """

    def __init__(self, problems: Iterable[tuple[int, str, str]]) -> None:
        self.problems = sorted(problems, key=lambda p: (p[0], _column_order(p[1])))
        super().__init__("\n".join(f"line {n}: {field}: {msg}" for n, field, msg in self.problems))


# --- the registration, as typed -----------------------------------------------------------


def _lower_choice(value: Any, choices: Iterable[str]) -> Any:
    """``"Will_Call"`` -> ``"will-call"`` when it matches a choice; else unchanged."""
    if isinstance(value, str):
        wanted = value.strip().lower().replace("_", "-")
        for choice in choices:
            if choice.lower() == wanted:
                return choice
    return value


class CustomerRegistration(BaseModel):
    """A new customer as the owner types it: one CSV row, or the options of ``customer add``.

    Blank values count as not given. Values that need the shop (the phone's region, the
    product, the courier) are checked by ``register_customer``.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=32)
    address: str = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    language: Locale | None = None  # None: the shop's
    notes: str = ""
    habits: str = ""
    product: str | None = None  # product key or alias; None: the shop's first product
    mode: DeliveryMode = DeliveryMode.CONFIRM
    courier: str | None = None  # courier name or id
    time_windows: list[dict[str, str]] = Field(default_factory=list)
    adults: int = Field(default=0, ge=0)
    children: int = Field(default=0, ge=0)
    elders: int = Field(default=0, ge=0)
    eats_at_home: float = Field(default=1.0, gt=0, le=1)
    shape: TankShape
    diameter_cm: float | None = Field(default=None, gt=0)
    width_cm: float | None = Field(default=None, gt=0)
    depth_cm: float | None = Field(default=None, gt=0)
    height_cm: float | None = Field(default=None, gt=0)
    capacity: float | None = Field(default=None, gt=0)
    fill_cm: float | None = Field(default=None, ge=0)
    level: float | None = Field(default=None, ge=0)
    measured_at: datetime | None = None  # naive: shop time; None: now

    @model_validator(mode="before")
    @classmethod
    def _blank_is_not_given(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None and str(v).strip() != ""}
        return data

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> Any:
        return _lower_choice(value, (member.value for member in Locale))

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        return _lower_choice(value, (member.value for member in DeliveryMode))

    @field_validator("shape", mode="before")
    @classmethod
    def _shape(cls, value: Any) -> Any:
        return _lower_choice(value, (member.value for member in TankShape))

    @field_validator("courier", "product", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("eats_at_home", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip()[:-1]) / 100
            except ValueError:
                return value
        return value

    @field_validator("time_windows", mode="before")
    @classmethod
    def _windows(cls, value: Any) -> Any:
        return parse_time_windows(value) if isinstance(value, str) else value


COLUMNS: tuple[str, ...] = tuple(CustomerRegistration.model_fields)
REQUIRED_COLUMNS = ("name", "phone", "shape")


def _column_order(field: str) -> int:
    """Problems are listed in the order of the columns (others last)."""
    return COLUMNS.index(field) if field in COLUMNS else len(COLUMNS)


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _explain(field: str, item: ErrorDetails) -> str:
    """A pydantic error as the owner should read it."""
    kind, value, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    like = f"; write it like {EXAMPLES[field]}" if field in EXAMPLES else ""
    if kind == "missing":
        return f"is required{like}"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{value!r} is not a whole number{like}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{value!r} is not a number{like}"
    if kind == "greater_than":
        return f"{_show(value)} must be more than {_show(ctx['gt'])}{like}"
    if kind == "greater_than_equal":
        bound = "cannot be negative" if ctx["ge"] == 0 else f"must be {_show(ctx['ge'])} or more"
        return f"{_show(value)} {bound}{like}"
    if kind == "less_than_equal":
        return f"{_show(value)} must be at most {_show(ctx['le'])}{like}"
    if kind == "enum":
        return f"{value!r} is not one of {ctx['expected']}"
    if kind == "string_too_long":
        return f"is too long: at most {ctx['max_length']} characters"
    if kind.startswith(("datetime", "date")):
        return f"{value!r} is not a date and time{like}"
    if kind == "extra_forbidden":
        return f"is not a known column; the columns are: {', '.join(COLUMNS)}"
    return str(item["msg"]).removeprefix("Value error, ")


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "row"
        problems.append((field, _explain(field, item)))
    return problems


def _parse(values: Mapping[str, Any]) -> tuple[CustomerRegistration, list[tuple[str, str]]]:
    """Every field problem of ``values``, and a registration of the fields that were fine.

    The registration lets the checks that tie fields together run as well; they skip
    the fields reported here (``shape`` and ``phone`` stand in with placeholders).
    """
    try:
        return CustomerRegistration.model_validate(values), []
    except ValidationError as error:
        problems = _problems(error)
    bad = {field for field, _ in problems}
    rest = {k: v for k, v in values.items() if k not in bad and k in COLUMNS}
    placeholders = {"name": "?", "phone": "?", "shape": TankShape.CAPACITY.value}
    rest |= {k: v for k, v in placeholders.items() if k in bad}
    return CustomerRegistration.model_validate(rest), problems


# --- values that need the shop ------------------------------------------------------------


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
    r"^(?:(?P<days>.*?)\s+)?(?P<start>\d{1,2}:\d{2})\s*[-–~]\s*(?P<end>\d{1,2}:\d{2})$"
)


def parse_time_windows(text: str | None) -> list[dict[str, str]]:
    """``"mon-fri 17:00-21:00; sat 09:00-12:00"`` -> the stored list of windows.

    Days are optional (``17:00-21:00`` is every day). Raises ValueError saying how to
    write it.
    """
    windows: list[dict[str, str]] = []
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        match = _WINDOW.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not understood; {_WINDOW_EXAMPLE}")
        start, end = (match[name].zfill(5) for name in ("start", "end"))
        try:
            window = TimeWindow.model_validate(
                {"days": match["days"] or "daily", "start": start, "end": end}
            )
        except ValidationError as error:
            item = error.errors(include_url=False)[0]
            if item["type"].startswith("time"):
                message = f"{item['input']!r} is not a time; use a 24-hour clock, like 17:00"
            else:
                message = str(item["msg"]).removeprefix("Value error, ")
            raise ValueError(f"{part!r}: {message}") from None
        windows.append(window.model_dump(mode="json"))
    return windows


def format_time_windows(windows: Sequence[Mapping[str, str]]) -> str:
    """The stored windows as the owner writes them (the inverse of ``parse_time_windows``)."""
    return "; ".join(f"{w['days']} {w['start']}-{w['end']}" for w in windows)


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
        for name in MEASURES if name not in needed and measures.get(name) is not None
    ]
    return problems


# --- checking one registration ------------------------------------------------------------


@dataclass
class _ShopFacts:
    """What the checks need from the database, read once per import."""

    shop: Shop
    tz: ZoneInfo
    products: Sequence[Product]
    couriers: Sequence[Courier]
    phones: dict[str, tuple[int, str]] | None  # E.164 -> (id, name); None: ask per row

    @classmethod
    def load(cls, session: Session, shop: Shop, *, all_phones: bool) -> _ShopFacts:
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


@dataclass
class _Checked:
    """A registration with what the checks resolved; ``problems`` empty means writable."""

    registration: CustomerRegistration
    problems: list[tuple[str, str]]
    phone: str | None = None  # E.164, when it could be read
    product: Product | None = None
    courier_id: int | None = None
    level: float | None = None
    measured_at: datetime | None = None


def _check(
    session: Session, facts: _ShopFacts, values: Mapping[str, Any] | CustomerRegistration,
    *, now: datetime,
) -> _Checked:
    if isinstance(values, CustomerRegistration):
        reg, problems = values, []
    else:
        reg, problems = _parse(values)
    bad = {field for field, _ in problems}
    out = _Checked(reg, problems)

    def attempt(field: str, check: Any) -> Any:
        try:
            return check()
        except RegistrationError as error:
            problems.extend(error.problems)
        except ValueError as error:
            problems.append((field, str(error)))
        return None

    if "phone" not in bad:
        out.phone = attempt("phone", lambda: parse_phone(reg.phone, region=facts.shop.region))
        owner = out.phone and facts.owner_of(session, out.phone)
        if owner:
            problems.append(("phone", _taken(out.phone, *owner)))
    out.product = attempt("product", lambda: find_product(facts.products, reg.product))
    if reg.courier is not None:
        courier = attempt("courier", lambda: find_courier(facts.couriers, reg.courier or ""))
        out.courier_id = courier.id if courier else None
    if (reg.lat is None) != (reg.lon is None) and not bad & {"lat", "lon"}:
        missing, given = ("lon", "lat") if reg.lon is None else ("lat", "lon")
        problems.append((missing, f"{given} is given without {missing}; give both or neither"))
    if reg.adults + reg.children + reg.elders < 1 and not bad & {"adults", "children", "elders"}:
        problems.append(("adults", "the household has nobody in it: adults + children + elders "
                                   "is 0; write how many people live there, like 2 adults"))
    geometry = None
    if "shape" not in bad:
        measures = {name: getattr(reg, name) for name in MEASURES}
        shape_problems = [p for p in tank_problems(reg.shape, measures) if p[0] not in bad]
        problems.extend(shape_problems)
        if not shape_problems and not bad & set(MEASURES):
            geometry = TankGeometry(reg.shape, diameter_cm=reg.diameter_cm,
                                    width_cm=reg.width_cm, depth_cm=reg.depth_cm,
                                    height_cm=reg.height_cm, capacity_units=reg.capacity)
    fill_problems = _fill_problems(reg, bad)
    problems.extend(fill_problems)
    if (geometry is not None and out.product is not None and not fill_problems
            and not bad & {"fill_cm", "level"}):
        out.level = _level(reg, geometry, out.product, problems)
    if reg.measured_at is not None and "measured_at" not in bad:
        moment = reg.measured_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=facts.tz)
        if moment > now:
            problems.append(("measured_at", f"{reg.measured_at.isoformat()} is in the future; "
                                            "give the time the tank was measured"))
        out.measured_at = moment
    problems.sort(key=lambda p: _column_order(p[0]))
    return out


def _taken(phone: str | None, customer_id: int, name: str) -> str:
    return (f"{phone} is already registered to customer #{customer_id} ({name}): the same "
            f"household typed twice? See it with `replenish customer show {customer_id}`")


def _fill_problems(reg: CustomerRegistration, bad: set[str]) -> list[tuple[str, str]]:
    """A depth that cannot be right whatever else is wrong with the row."""
    if reg.fill_cm is None or "fill_cm" in bad or "shape" in bad:
        return []
    if reg.fill_cm is not None and reg.level is not None and "level" not in bad:
        return [("level", "give fill_cm (the depth in cm) or level (the amount), not both")]
    if reg.shape is TankShape.CAPACITY:
        return [("fill_cm", "a tank entered by capacity has no height, so a depth cannot be "
                            "turned into an amount; give level (the amount) instead")]
    if reg.height_cm is not None and "height_cm" not in bad and reg.fill_cm > reg.height_cm:
        return [("fill_cm", f"{reg.fill_cm:g} cm is deeper than the tank, which is "
                            f"{reg.height_cm:g} cm high; measure the product standing in the "
                            "tank, from the bottom up")]
    return []


def _level(reg: CustomerRegistration, geometry: TankGeometry, product: Product,
           problems: list[tuple[str, str]]) -> float | None:
    """The amount in the tank now (fill_cm already checked by ``_fill_problems``)."""
    if reg.fill_cm is not None:
        return geometry.level_from_depth(reg.fill_cm, units_per_litre=product.units_per_litre)
    cap = geometry.capacity(units_per_litre=product.units_per_litre)
    if reg.level is not None and reg.level > cap * (1 + 1e-9):
        unit = product.unit.value
        problems.append(("level", f"{reg.level:g} {unit} is more than the tank holds "
                                  f"({cap:.1f} {unit}); check the amount or the tank's size"))
        return None
    return reg.level


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationResult:
    """What one registration wrote."""

    customer: Customer
    household: HouseholdChange
    tank: Tank
    reading: Reading | None


def _write(session: Session, facts: _ShopFacts, checked: _Checked, *,
           now: datetime) -> RegistrationResult:
    reg, product = checked.registration, checked.product
    assert not checked.problems and product is not None and checked.phone is not None
    try:
        customer = create_customer(session=session, shop=facts.shop, customer_in=CustomerCreate(
            name=reg.name, phone=checked.phone, address=reg.address, lat=reg.lat, lon=reg.lon,
            notes=reg.notes, habits=reg.habits, preferred_product_id=product.id,
            delivery_mode=reg.mode, time_windows=reg.time_windows,
            courier_id=checked.courier_id, language=reg.language))
    except DuplicateError as error:  # registered by someone else since the check
        other = session.get(Customer, error.existing_id) if error.existing_id else None
        name = other.name if other is not None else "?"
        raise RegistrationError(
            [("phone", _taken(checked.phone, error.existing_id or 0, name))]
        ) from error
    household = record_household_change(session=session, customer=customer,
                                        change_in=HouseholdChangeCreate(
        effective_date=now.astimezone(facts.tz).date(), adults=reg.adults,
        children=reg.children, elders=reg.elders, eats_at_home=reg.eats_at_home))
    tank = add_tank(session=session, customer=customer, tank_in=TankCreate(
        product_id=product.id, shape=reg.shape,
        **{name: getattr(reg, name) for name in MEASURES}))
    reading = None
    if checked.level is not None:
        level = checked.level
        if reg.fill_cm is not None:  # converted by the stored tank, as every later reading is
            level = geometry_of(tank).level_from_depth(
                reg.fill_cm, units_per_litre=product.units_per_litre)
        reading = record_reading(session=session, tank=tank, reading_in=ReadingCreate(
            at=checked.measured_at or now, source=ReadingSource.OWNER, depth_cm=reg.fill_cm,
            level=level, note="measured at registration"))
    return RegistrationResult(customer, household, tank, reading)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime, e.g. datetime.now(UTC)")
    return now


def register_customer(
    *, session: Session, shop: Shop,
    registration: CustomerRegistration | Mapping[str, Any], now: datetime, settings: Settings,
) -> RegistrationResult:
    """Register one household: customer, first household, tank and (if measured) a reading.

    ``registration`` is a ``CustomerRegistration`` or the same fields as a mapping (CSV
    cells, command-line options), which lets type errors be reported with the rest. The
    household takes effect on ``now``'s local date in the shop's zone; the reading is
    taken at ``measured_at`` (shop time when naive), else ``now``. All or nothing (a
    savepoint); flushes, never commits. The next forecast refresh picks the new tank up
    (``settings`` is taken, as by the other write paths, but not needed yet).

    Raises RegistrationError listing every problem.
    """
    del settings  # the new tank has no forecast state yet: the next refresh folds it
    now = _aware(now)
    facts = _ShopFacts.load(session, shop, all_phones=False)
    checked = _check(session, facts, registration, now=now)
    if checked.problems:
        raise RegistrationError(checked.problems)
    try:
        with session.begin_nested():
            return _write(session, facts, checked, now=now)
    except ValidationError as error:  # a table's own rule that the checks above missed
        raise RegistrationError(_problems(error)) from error


# --- a whole file -------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    """One customer row of a CSV file: its line number and its cells by column."""

    line: int
    values: dict[str, str]


def _column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_customers_csv(text: str) -> list[CsvRow]:
    """The rows of a customer CSV file (UTF-8 text, with or without a BOM).

    The first non-blank line names the columns (any case; ``-`` or ``_``; ``,``, ``;``
    or tab between them). Blank lines are skipped. Raises CustomerImportError when a
    column is unknown, repeated or missing, or a row has more cells than the header.
    """
    text = text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    problems: list[tuple[int, str, str]] = []
    rows: list[CsvRow] = []
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [_column(cell) for cell in cells]
            problems.extend(_header_problems(header, line))
            continue
        extra = [cell for cell in cells[len(header):] if cell.strip()]
        if extra:
            problems.append((line, "row", f"has {len(cells)} cells but the header names "
                                          f"{len(header)} columns; quote cells that contain "
                                          f"{delimiter!r}, like \"台南市, 東區\""))
        rows.append(CsvRow(line, {name: cell for name, cell in zip(header, cells, strict=False)
                                  if name}))
    if header is None:
        problems.append((1, "file", f"is empty; the first line names the columns: "
                                    f"{', '.join(COLUMNS)}"))
    if problems:
        raise CustomerImportError(problems)
    return rows


# Column names other systems use, for "did you mean" (the file itself is never guessed at).
_LIKELY = {"phone_number": "phone", "mobile": "phone", "cell": "phone", "tel": "phone",
           "telephone": "phone", "latitude": "lat", "longitude": "lon", "lng": "lon",
           "kids": "children", "seniors": "elders", "delivery_mode": "mode", "lang": "language"}


def _header_problems(header: list[str], line: int) -> list[tuple[int, str, str]]:
    problems = []
    for name in header:
        if name and name not in COLUMNS:
            close = [_LIKELY[name]] if name in _LIKELY else difflib.get_close_matches(
                name, COLUMNS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append((line, name, f"is not a known column; {hint}"
                                         f"the columns are: {', '.join(COLUMNS)}"))
        elif name and header.count(name) > 1:
            problems.append((line, name, "is named twice; keep one of the columns"))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            problems.append((line, name, f"the file has no {name} column; it is required"))
    return list(dict.fromkeys(problems))  # a column named three times is one problem


def import_customers(
    *, session: Session, shop: Shop, rows: Iterable[CsvRow | Mapping[str, Any]],
    now: datetime, settings: Settings,
) -> list[RegistrationResult]:
    """Register every row, or none: every row is checked before anything is written.

    ``rows`` come from ``read_customers_csv`` (plain mappings are numbered as lines 2,
    3, ... under a header). A phone already in the shop, or twice in the file, is a
    problem of the row (the same household typed twice). Any problem raises
    CustomerImportError with all of them; a database refusal while writing rolls the
    whole import back (a savepoint) and raises it too. Flushes, never commits.
    """
    del settings  # as in register_customer
    now = _aware(now)
    facts = _ShopFacts.load(session, shop, all_phones=True)
    problems: list[tuple[int, str, str]] = []
    checked: list[tuple[int, _Checked]] = []
    first_seen: dict[str, tuple[int, str]] = {}
    for index, row in enumerate(rows):
        line, values = (row.line, row.values) if isinstance(row, CsvRow) else (index + 2, row)
        one = _check(session, facts, values, now=now)
        phone = one.phone
        if phone is not None and phone in first_seen and not any(
            field == "phone" for field, _ in one.problems
        ):
            other_line, other_name = first_seen[phone]
            one.problems.append(("phone", f"{phone} is also on line {other_line} "
                                          f"({other_name}): the same household typed twice? "
                                          "Keep one of the two rows"))
        elif phone is not None:
            first_seen.setdefault(phone, (line, one.registration.name))
        problems.extend((line, field, message) for field, message in one.problems)
        checked.append((line, one))
    if problems:
        raise CustomerImportError(problems)
    results: list[RegistrationResult] = []
    at_line = 0
    try:
        with session.begin_nested():
            for at_line, one in checked:  # noqa: B007 - at_line names the row that failed
                results.append(_write(session, facts, one, now=now))
    except RegistrationError as error:
        raise CustomerImportError((at_line, f, m) for f, m in error.problems) from error
    except ValidationError as error:  # a table's own rule that the checks above missed
        raise CustomerImportError((at_line, f, m) for f, m in _problems(error)) from error
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise CustomerImportError([(at_line, "row", f"the database refused it ({reason}); "
                                                    "nothing was imported")]) from error
    return results

