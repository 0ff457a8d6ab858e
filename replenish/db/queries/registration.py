"""Registering customers: one household as typed, or a whole CSV file, all or nothing.

A registration is flat: the fields of ``CustomerRegistration`` are the CSV columns and,
spelled with ``-``, the options of ``replenish customer add``. ``register_customer``
checks one and writes the customer, the first household, the tank and (if measured) the
first reading; ``import_customers`` checks every row of a file first and writes either
all of them or none. Every problem names the field as the owner typed it and says how
to fix it, and all problems of a row (of a file) are reported together. Functions
flush and never commit; the caller owns the transaction. The columns, examples and
errors live in ``registration_terms``, the values read with the shop's help in
``shop_values``, the reading of a file in ``customers_csv``; their public names are
exported here as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from replenish.core.tank import TankGeometry
from replenish.core.types import DeliveryMode, Locale, ReadingSource, TankShape
from replenish.db.errors import DuplicateError
from replenish.db.history import geometry_of
from replenish.db.models import (
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
from replenish.db.queries.customers_csv import CsvRow, read_customers_csv
from replenish.db.queries.registration_terms import (
    COLUMNS,
    EXAMPLES,
    MEASURES,
    REQUIRED_COLUMNS,
    CustomerImportError,
    RegistrationError,
    column_order,
    validation_problems,
)
from replenish.db.queries.shop_values import (
    ShopFacts,
    find_courier,
    find_product,
    format_time_windows,
    parse_phone,
    parse_time_windows,
    tank_problems,
)
from replenish.db.queries.tanks import add_tank, record_reading
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


def _parse(values: Mapping[str, Any]) -> tuple[CustomerRegistration, list[tuple[str, str]]]:
    """Every field problem of ``values``, and a registration of the fields that were fine.

    The registration lets the checks that tie fields together run as well; they skip
    the fields reported here (``shape`` and ``phone`` stand in with placeholders).
    """
    try:
        return CustomerRegistration.model_validate(values), []
    except ValidationError as error:
        problems = validation_problems(error)
    bad = {field for field, _ in problems}
    rest = {k: v for k, v in values.items() if k not in bad and k in COLUMNS}
    placeholders = {"name": "?", "phone": "?", "shape": TankShape.CAPACITY.value}
    rest |= {k: v for k, v in placeholders.items() if k in bad}
    return CustomerRegistration.model_validate(rest), problems


# --- checking one registration ------------------------------------------------------------


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
    session: Session, facts: ShopFacts, values: Mapping[str, Any] | CustomerRegistration,
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
    problems.sort(key=lambda p: column_order(p[0]))
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


def _write(session: Session, facts: ShopFacts, checked: _Checked, *,
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
    facts = ShopFacts.load(session, shop, all_phones=False)
    checked = _check(session, facts, registration, now=now)
    if checked.problems:
        raise RegistrationError(checked.problems)
    try:
        with session.begin_nested():
            return _write(session, facts, checked, now=now)
    except ValidationError as error:  # a table's own rule that the checks above missed
        raise RegistrationError(validation_problems(error)) from error


# --- a whole file -------------------------------------------------------------------------


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
    facts = ShopFacts.load(session, shop, all_phones=True)
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
        raise CustomerImportError((at_line, f, m) for f, m in validation_problems(error)) from error
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise CustomerImportError([(at_line, "row", f"the database refused it ({reason}); "
                                                    "nothing was imported")]) from error
    return results
