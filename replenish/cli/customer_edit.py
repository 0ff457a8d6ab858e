"""``replenish customer edit`` and ``hold``: change a customer, or pause them for some days.

``edit`` changes any part of a customer at once: contact, mode, courier and product are
checked as at registration; a household change becomes a new row from ``--effective``
on (the old one stays in the history); a tank is re-measured whole, its size checked
against its shape. Every problem is reported before anything is written. ``hold`` puts
a customer away, off deliveries or off the product between two days. A hold, and an
edit of the household or the tank, mark the customer's forecast for a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlmodel import Session, col, select

from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    fail,
    friendly_errors,
    print_json,
    settings,
)
from replenish.cli.customer_common import (
    Address,
    Adults,
    Capacity,
    Children,
    CustomerId,
    Depth,
    Diameter,
    EatsAtHome,
    Elders,
    Habits,
    Height,
    Language,
    Lat,
    Lon,
    Mode,
    Name,
    Notes,
    Phone,
    Shape,
    Width,
    fail_problems,
    household_json,
    option_name,
    people_text,
    shop_customer,
    shop_today,
)
from replenish.core.types import HoldKind, TankShape
from replenish.db.models import (
    Courier,
    Customer,
    CustomerUpdate,
    HoldCreate,
    HouseholdChangeCreate,
    Product,
    Shop,
    Tank,
    TankUpdate,
)
from replenish.db.queries import (
    add_hold,
    current_household,
    find_customer_by_phone,
    household_history,
    record_household_change,
    update_customer,
    update_tank,
)
from replenish.db.queries.forecasts import mark_customer_stale
from replenish.db.queries.registration import (
    COLUMNS,
    MEASURES,
    RegistrationError,
    find_courier,
    find_product,
    parse_phone,
    parse_time_windows,
    tank_problems,
)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date; write it like 2026-01-20")


# --- edit ---------------------------------------------------------------------------------


def edit(
    customer_id: CustomerId,
    name: Name = None,
    phone: Phone = None,
    address: Address = None,
    lat: Lat = None,
    lon: Lon = None,
    language: Language = None,
    notes: Notes = None,
    habits: Habits = None,
    product: Annotated[str | None, typer.Option(help="The customer's usual product (key or alias); each tank keeps what it holds.")] = None,
    mode: Mode = None,
    courier: Annotated[str | None, typer.Option(help="Courier name or id; 'none' for no usual courier.")] = None,
    time_windows: Annotated[str | None, typer.Option(help="When a drop can be received: 'mon-fri 17:00-21:00; prefer sat 09:00-12:00' ('prefer': a wish, not a must); '' for any time.")] = None,
    adults: Adults = None,
    children: Children = None,
    elders: Elders = None,
    eats_at_home: EatsAtHome = None,
    effective: Annotated[str | None, typer.Option(help="Day the household change takes effect (2026-12-01); default today in the shop's zone.")] = None,
    tank: Annotated[int | None, typer.Option(help="Which tank to re-measure, when the customer has several.")] = None,
    shape: Shape = None,
    diameter_cm: Diameter = None,
    width_cm: Width = None,
    depth_cm: Depth = None,
    height_cm: Height = None,
    capacity: Capacity = None,
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a customer: contact, mode, courier, product; who lives there; the tank's size.

    A household change is recorded as a new row from --effective on; the old household
    stays in the history. Household and tank changes make the forecast refold.

    Examples:

      replenish customer edit 12 --phone "0912 000 111" --mode auto --courier 阿輝

      replenish customer edit 12 --children 1 --effective 2026-12-01

      replenish customer edit 12 --tank 3 --shape box --width-cm 30 --depth-cm 40 --height-cm 50
    """
    contact = {"name": name, "phone": phone, "address": address, "lat": lat, "lon": lon,
               "language": language, "notes": notes, "habits": habits, "product": product,
               "mode": mode, "courier": courier, "time_windows": time_windows}
    people = {"adults": adults, "children": children, "elders": elders, "eats_at_home": eats_at_home}
    measures = {"diameter_cm": diameter_cm, "width_cm": width_cm, "depth_cm": depth_cm,
                "height_cm": height_cm, "capacity": capacity}
    given = [k for k, v in (contact | people | measures | {"shape": shape}).items() if v is not None]
    if not given:
        fail("nothing to change: give at least one option (see `replenish customer edit --help`)")
    if effective is not None and not any(v is not None for v in people.values()):
        fail("--effective dates a household change: give --adults, --children, --elders or --eats-at-home with it")
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        customer = shop_customer(session, shop, customer_id)
        problems: list[tuple[str, str]] = []
        update = _contact_update(session, shop, customer, contact, problems)
        household_in = _household_change(session, shop, customer, people, effective, problems)
        tank_row, tank_in = _tank_change(session, customer, tank, shape, measures, problems)
        if problems or update is None:
            fail_problems(problems)
        with friendly_errors(*[n for n in COLUMNS if "_" in n]):
            update_customer(session=session, shop=shop, customer=customer, customer_in=update)
            household = None
            if household_in is not None:
                household = household_json(record_household_change(
                    session=session, customer=customer, change_in=household_in))
            if tank_row is not None and tank_in is not None:
                update_tank(session=session, tank=tank_row, tank_in=tank_in)
        if household is not None or tank_row is not None:
            mark_customer_stale(session=session, customer_id=customer_id)
        out = {"customer_id": customer_id, "name": customer.name,
               "changed": [option_name(k) for k in given], "household": household,
               "tank_id": None if tank_row is None else tank_row.id}
    if as_json:
        print_json(out)
        return
    typer.echo(f"customer #{customer_id} {out['name']}: changed {', '.join(out['changed'])}")
    if household is not None:
        typer.echo(f"household from {household['effective_date']}: {people_text(household)} "
                   "(the earlier household stays in the history)")


def _contact_update(session: Session, shop: Shop, customer: Customer, contact: Mapping[str, Any],
                    problems: list[tuple[str, str]]) -> CustomerUpdate | None:
    resolved = ("phone", "time_windows", "product", "mode", "courier")  # each checked below
    changes = {k: v for k, v in contact.items() if v is not None and k not in resolved}
    try:
        if contact["phone"] is not None:
            changes["phone"] = parse_phone(contact["phone"], region=shop.region)
            other = find_customer_by_phone(session=session, shop=shop, phone=changes["phone"])
            if other is not None and other.id != customer.id:
                problems.append(("phone", f"{changes['phone']} is already registered to customer "
                                          f"#{other.id} ({other.name}): the same household typed twice?"))
    except RegistrationError as error:
        problems.extend(error.problems)
    for field, other in (("lat", "lon"), ("lon", "lat")):
        if contact[field] is not None and contact[other] is None and getattr(customer, other) is None:
            problems.append((other, f"--{field} needs --{other} too (the customer has no {other} yet)"))
    if contact["time_windows"] is not None:
        try:
            changes["time_windows"] = parse_time_windows(contact["time_windows"])
        except ValueError as error:
            problems.append(("time_windows", str(error)))
    if contact["mode"] is not None:
        changes["delivery_mode"] = contact["mode"]
    if contact["product"] is not None:
        products = session.exec(select(Product).where(Product.shop_id == shop.id).order_by(col(Product.id))).all()
        try:
            changes["preferred_product_id"] = find_product(products, contact["product"]).id
        except RegistrationError as error:
            problems.extend(error.problems)
    if contact["courier"] is not None:
        if contact["courier"].strip().lower() in ("", "none", "-"):
            changes["courier_id"] = None
        else:
            couriers = session.exec(select(Courier).where(Courier.shop_id == shop.id)).all()
            try:
                changes["courier_id"] = find_courier(couriers, contact["courier"]).id
            except RegistrationError as error:
                problems.extend(error.problems)
    try:
        return CustomerUpdate(**changes)
    except ValidationError as error:
        for item in error.errors(include_url=False):
            field = str(item["loc"][0]) if item["loc"] else "name"
            message = ("cannot be empty" if item["type"] == "string_too_short"
                       else str(item["msg"]).removeprefix("Value error, "))
            problems.append((field, message))
        return None


def _household_change(session: Session, shop: Shop, customer: Customer, people: Mapping[str, Any],
                      effective: str | None, problems: list[tuple[str, str]]) -> HouseholdChangeCreate | None:
    if all(v is None for v in people.values()):
        return None
    assert customer.id is not None
    day = _date(effective, "--effective") if effective is not None else shop_today(shop)
    base = current_household(session=session, customer_id=customer.id, as_of=day)
    if base is None:
        history = household_history(session=session, customer_id=customer.id)
        base = history[0] if history else None
    values: dict[str, Any] = {"adults": 0, "children": 0, "elders": 0, "eats_at_home": 1.0}
    if base is not None:
        values = {k: getattr(base, k) for k in values}
    values |= {k: v for k, v in people.items() if v is not None}
    before = len(problems)
    for field in ("adults", "children", "elders"):
        if values[field] < 0:
            problems.append((field, f"{values[field]} cannot be negative; write how many live there"))
    if not 0 < values["eats_at_home"] <= 1:
        problems.append(("eats_at_home", f"{values['eats_at_home']:g} must be more than 0 and at "
                                         "most 1, like 1 (every meal at home) or 0.5; "
                                         "for time away, use `replenish customer hold`"))
    if values["adults"] + values["children"] + values["elders"] < 1:
        problems.append(("adults", "the household would have nobody in it: adults + children + "
                                   "elders is 0; write how many people live there"))
    if len(problems) > before:
        return None
    return HouseholdChangeCreate(effective_date=day, **values)


def _tank_change(session: Session, customer: Customer, tank_id: int | None, shape: TankShape | None,
                 measures: Mapping[str, float | None], problems: list[tuple[str, str]]) -> tuple[Tank | None, TankUpdate | None]:
    if shape is None and all(v is None for v in measures.values()):
        if tank_id is not None:
            problems.append(("tank", "give the new size too: --shape and the measurements, or one of them"))
        return None, None
    tanks = session.exec(select(Tank).where(Tank.customer_id == customer.id).order_by(col(Tank.id))).all()
    if tank_id is not None:
        tank = next((t for t in tanks if t.id == tank_id), None)
        if tank is None:
            problems.append(("tank", f"{tank_id} is not one of this customer's tanks "
                                     f"({', '.join(str(t.id) for t in tanks) or 'none'})"))
            return None, None
    elif len(tanks) == 1:
        tank = tanks[0]
    else:
        problems.append(("tank", f"the customer has {len(tanks)} tanks "
                                 f"({', '.join(str(t.id) for t in tanks) or 'none'}): pick one with --tank"))
        return None, None
    new_shape = shape or tank.shape
    current = {} if new_shape is not tank.shape else {n: getattr(tank, n) for n in MEASURES}
    new = current | {k: v for k, v in measures.items() if v is not None}
    for field, value in new.items():
        if value is not None and value <= 0:
            problems.append((field, f"{value:g} must be more than 0 (cm, measured inside the tank)"))
    shape_problems = tank_problems(new_shape, new)
    problems.extend(shape_problems)
    if shape_problems:
        return None, None
    return tank, TankUpdate(shape=new_shape, **{n: new.get(n) for n in MEASURES})


# --- hold ---------------------------------------------------------------------------------


def hold(
    customer_id: CustomerId,
    kind: Annotated[HoldKind, typer.Option(case_sensitive=False, help="away (no use, no drops), no-delivery, or no-consumption.", show_default=False)],
    start: Annotated[str, typer.Option("--from", help="First day of the hold (2026-01-10), shop's zone.", show_default=False)],
    end: Annotated[str, typer.Option("--to", help="Last day of the hold, inclusive (2026-01-24).", show_default=False)],
    note: Annotated[str, typer.Option(help="Why (at her daughter's in Kaohsiung).")] = "",
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a customer on hold: away, no deliveries, or not using the product, for some days.

    Examples:

      replenish customer hold 12 --kind away --from 2026-01-10 --to 2026-01-24

      replenish customer hold 12 --kind no-delivery --from 2026-02-16 --to 2026-02-20 --note "Lunar New Year"
    """
    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        fail(f"--to {last} is before --from {first}; a hold ends on or after the day it starts")
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        customer = shop_customer(session, shop, customer_id)
        row = add_hold(session=session, customer=customer,
                       hold_in=HoldCreate(kind=kind, start_date=first, end_date=last, note=note))
        mark_customer_stale(session=session, customer_id=customer_id)
        out = {"hold_id": row.id, "customer_id": customer_id, "kind": kind.value,
               "from": first.isoformat(), "to": last.isoformat(), "note": note}
        name = customer.name
    if as_json:
        print_json(out)
    else:
        typer.echo(f"hold #{out['hold_id']} for #{customer_id} {name}: {kind.value} "
                   f"{first} to {last} ({(last - first).days + 1} days)")
