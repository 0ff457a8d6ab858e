"""``replenish customer ...``: register, find, show, change, hold and import customers.

This module holds the ``customer`` command group and adds it to ``replenish`` with
``register(app)``. Here are ``add`` (one household, its tank and first reading),
``list`` (the shop's customers as a table) and ``show`` (one customer's whole file);
``edit`` and ``hold`` live in ``customer_edit``, ``import`` in ``customer_import``, and
the options and helpers they share in ``customer_common``. The group lists its
commands in the order they are added at the end of this module.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session, col, select

from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    print_json,
    print_table,
    settings,
)
from replenish.cli.customer_common import (
    Address,
    Capacity,
    CourierName,
    CustomerId,
    Depth,
    Diameter,
    Habits,
    Height,
    Language,
    Lat,
    Lon,
    Mode,
    Notes,
    ProductKey,
    Width,
    Windows,
    fail_problems,
    household_json,
    people_text,
    shop_customer,
    shop_today,
)
from replenish.cli.customer_edit import edit, hold
from replenish.cli.customer_import import import_
from replenish.core.types import DeliveryMode, TankShape
from replenish.db.history import geometry_of
from replenish.db.models import (
    Courier,
    Customer,
    Drop,
    HouseholdChange,
    Product,
    Reading,
    Shop,
    Tank,
    TankForecast,
)
from replenish.db.queries import household_history, list_customers, list_holds
from replenish.db.queries.registration import (
    MEASURES,
    RegistrationError,
    RegistrationResult,
    find_courier,
    find_product,
    format_time_windows,
    register_customer,
)

customer_app = typer.Typer(
    help="Register, find, show, change and import customers (households and their tanks).",
    no_args_is_help=True,
)

RECENT = 5  # readings and drops shown by `customer show`


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(customer_app, name="customer")


# --- what add and show both print ---------------------------------------------------------


def _local(moment: datetime | None, shop: Shop) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(shop.timezone)).strftime("%Y-%m-%d %H:%M")


def tank_json(tank: Tank, product: Product) -> dict[str, Any]:
    geometry = geometry_of(tank)
    litres = geometry.litres
    return {"tank_id": tank.id, "product": product.key, "unit": product.unit.value,
            "label": tank.label, "shape": tank.shape.value,
            **{name: getattr(tank, name) for name in MEASURES if getattr(tank, name) is not None},
            "litres": None if litres is None else round(litres, 1),
            "capacity": round(geometry.capacity(units_per_litre=product.units_per_litre), 1)}


def tank_text(t: dict[str, Any]) -> str:
    if t["shape"] == "cylinder":
        size = f"cylinder ⌀{t['diameter_cm']:g} × {t['height_cm']:g} cm"
    elif t["shape"] == "box":
        size = f"box {t['width_cm']:g} × {t['depth_cm']:g} × {t['height_cm']:g} cm"
    else:
        size = "entered by capacity"
    litres = "" if t["litres"] is None else f", {t['litres']:g} L"
    return f"tank #{t['tank_id']} ({t['product']}): {size}{litres}, holds {t['capacity']:g} {t['unit']}"


# --- add ----------------------------------------------------------------------------------


@customer_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="The household's name as the shop calls it, e.g. 王太太.", show_default=False)],
    phone: Annotated[str, typer.Option(help="Phone for text messages: local (0912 345 678) or international (+886 912 345 678); stored in E.164.", show_default=False)],
    shape: Annotated[TankShape, typer.Option(case_sensitive=False, help="Tank shape: cylinder, box, or capacity (entered directly).", show_default=False)],
    address: Address = None,
    lat: Lat = None,
    lon: Lon = None,
    language: Language = None,
    notes: Notes = None,
    habits: Habits = None,
    product: ProductKey = None,
    mode: Annotated[DeliveryMode, typer.Option(case_sensitive=False, help="confirm (ask before each drop), auto (heads-up only) or will-call.")] = DeliveryMode.CONFIRM,
    courier: CourierName = None,
    time_windows: Windows = None,
    adults: Annotated[int, typer.Option(help="Adults living there.")] = 0,
    children: Annotated[int, typer.Option(help="Children living there.")] = 0,
    elders: Annotated[int, typer.Option(help="Elders living there.")] = 0,
    eats_at_home: Annotated[float, typer.Option(help="Share of meals eaten at home, more than 0, at most 1.")] = 1.0,
    diameter_cm: Diameter = None,
    width_cm: Width = None,
    depth_cm: Depth = None,
    height_cm: Height = None,
    capacity: Capacity = None,
    fill_cm: Annotated[float | None, typer.Option(help="Depth of product standing in the tank now, in cm (the tape).")] = None,
    level: Annotated[float | None, typer.Option(help="Amount in the tank now, in the product's unit (instead of --fill-cm).")] = None,
    measured_at: Annotated[str | None, typer.Option(help="When the tank was measured, shop time (2026-11-20T10:00); default now.")] = None,
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a household: who they are, who lives there, and their tank as measured.

    Give --fill-cm (or --level) to record how much is in the tank now; the forecast
    starts from it.

    Examples:

      replenish customer add --name 王太太 --phone "0912 345 678" --address 台南市東區長榮路一段100號 --adults 2 --elders 1 --shape cylinder --diameter-cm 40 --height-cm 60 --fill-cm 20

      replenish customer add --name "Dave Miller" --phone "+1 512 555 0134" --product water --mode auto --time-windows "mon-fri 17:00-21:00" --adults 2 --shape capacity --capacity 3 --level 2
    """
    values = {
        "name": name, "phone": phone, "address": address, "lat": lat, "lon": lon,
        "language": language, "notes": notes, "habits": habits, "product": product,
        "mode": mode, "courier": courier, "time_windows": time_windows, "adults": adults,
        "children": children, "elders": elders, "eats_at_home": eats_at_home, "shape": shape,
        "diameter_cm": diameter_cm, "width_cm": width_cm, "depth_cm": depth_cm,
        "height_cm": height_cm, "capacity": capacity, "fill_cm": fill_cm, "level": level,
        "measured_at": measured_at,
    }
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        try:
            result = register_customer(session=session, shop=shop, registration=values,
                                       now=datetime.now(UTC), settings=cfg)
        except RegistrationError as error:
            fail_problems(error.problems)
        out = _registered(session, shop, result)
    if as_json:
        print_json(out)
        return
    typer.echo(f"registered customer #{out['customer_id']} {out['name']} ({out['phone']}): "
               f"{people_text(out['household'])}")
    typer.echo(tank_text(out["tank"]))
    if out["level"] is not None:
        typer.echo(f"in the tank now: {out['level']:g} {out['tank']['unit']}")


def _registered(session: Session, shop: Shop, result: RegistrationResult) -> dict[str, Any]:
    product = session.get(Product, result.tank.product_id)
    assert product is not None
    reading = result.reading
    return {"customer_id": result.customer.id, "name": result.customer.name,
            "phone": result.customer.phone, "household": household_json(result.household),
            "tank": tank_json(result.tank, product),
            "level": None if reading is None else round(reading.level, 1),
            "measured_at": None if reading is None else _local(reading.at, shop)}


# --- list ---------------------------------------------------------------------------------


@customer_app.command("list")
def list_(
    search: Annotated[str | None, typer.Option(help="Part of a name, address or phone number.")] = None,
    mode: Mode = None,
    courier: CourierName = None,
    product: Annotated[str | None, typer.Option(help="Only customers of this product (key or alias), usual or in a tank.")] = None,
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the shop's customers: id, name, phone, product, mode, household size, courier.

    Examples:

      replenish customer list

      replenish customer list --search 王 --courier 阿輝

      replenish customer list --mode auto --product water --json
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        products = {p.id: p for p in session.exec(select(Product).where(Product.shop_id == shop.id)).all()}
        couriers = session.exec(select(Courier).where(Courier.shop_id == shop.id)).all()
        try:
            courier_id = find_courier(couriers, courier).id if courier else None
            product_id = find_product(list(products.values()), product).id if product else None
        except RegistrationError as error:
            fail_problems(error.problems)
        customers = list_customers(session=session, shop_id=shop.id, search=search,
                                   courier_id=courier_id, limit=None)
        tanks = _tank_products(session, shop)
        households = _households(session, shop, shop_today(shop))
        rows = []
        for c in customers:
            tank_products = tanks.get(c.id or 0, [])
            shown = c.preferred_product_id or next(iter(tank_products), None)
            if mode is not None and c.delivery_mode is not mode:
                continue
            if product_id is not None and product_id not in (c.preferred_product_id, *tank_products):
                continue
            household = households.get(c.id or 0)
            size = None if household is None else household_json(household)["size"]
            rows.append({
                "id": c.id, "name": c.name, "phone": c.phone, "address": c.address,
                "product": products[shown].key if shown in products else None,
                "mode": c.delivery_mode.value,
                "household_size": size,
                "courier": next((k.name for k in couriers if k.id == c.courier_id), None),
                "opted_out": c.opted_out,
            })
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no customers found" if search or mode or courier or product else
                   "no customers yet: add one with `replenish customer add` or "
                   "`replenish customer import FILE.csv`")
        return
    print_table(("id", "name", "phone", "product", "mode", "household", "courier"), [
        (str(r["id"]), r["name"] + (" (opted out)" if r["opted_out"] else ""), r["phone"],
         r["product"] or "", r["mode"], "?" if r["household_size"] is None else str(r["household_size"]),
         r["courier"] or "")
        for r in rows
    ])


def _tank_products(session: Session, shop: Shop) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for customer_id, product_id in session.exec(
        select(Tank.customer_id, Tank.product_id).where(Tank.shop_id == shop.id).order_by(col(Tank.id))
    ).all():
        if product_id not in out.setdefault(customer_id, []):
            out[customer_id].append(product_id)
    return out


def _households(session: Session, shop: Shop, today: date) -> dict[int, HouseholdChange]:
    """Each customer's household in effect today (the latest change on or before it)."""
    rows = session.exec(
        select(HouseholdChange)
        .where(HouseholdChange.shop_id == shop.id, col(HouseholdChange.effective_date) <= today)
        .order_by(col(HouseholdChange.effective_date), col(HouseholdChange.id))
    ).all()
    return {row.customer_id: row for row in rows}


# --- show ---------------------------------------------------------------------------------


@customer_app.command("show")
def show(customer_id: CustomerId, shop_id: ShopOption = None, as_json: JsonOption = False) -> None:
    """Show one customer: contact, household history, tanks, recent readings and drops, holds, forecast.

    Examples:

      replenish customer show 12

      replenish customer show 12 --json
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        out = _details(session, shop, shop_customer(session, shop, customer_id))
    if as_json:
        print_json(out)
        return
    _print_details(out)


def _details(session: Session, shop: Shop, c: Customer) -> dict[str, Any]:
    assert c.id is not None
    courier = session.get(Courier, c.courier_id) if c.courier_id else None
    preferred = session.get(Product, c.preferred_product_id) if c.preferred_product_id else None
    tanks = []
    for tank in session.exec(select(Tank).where(Tank.customer_id == c.id).order_by(col(Tank.id))).all():
        product = session.get(Product, tank.product_id)
        assert product is not None
        readings = session.exec(select(Reading).where(Reading.tank_id == tank.id)
                                .order_by(col(Reading.at).desc(), col(Reading.id).desc()).limit(RECENT)).all()
        drops = session.exec(select(Drop).where(Drop.tank_id == tank.id)
                             .order_by(col(Drop.delivered_on).desc(), col(Drop.id).desc()).limit(RECENT)).all()
        forecast = session.get(TankForecast, tank.id)
        tanks.append(tank_json(tank, product) | {
            "readings": [{"at": _local(r.at, shop), "level": round(r.level, 1), "depth_cm": r.depth_cm,
                          "source": r.source.value, "note": r.note} for r in readings],
            "drops": [{"delivered_on": d.delivered_on.isoformat(), "quantity": d.quantity,
                       "status": d.status.value,
                       "level_before": None if d.level_before is None else round(d.level_before, 1)}
                      for d in drops],
            "forecast": None if forecast is None else _forecast_json(forecast),
        })
    return {
        "id": c.id, "name": c.name, "phone": c.phone, "address": c.address, "lat": c.lat,
        "lon": c.lon, "language": c.language.value, "notes": c.notes, "habits": c.habits,
        "mode": c.delivery_mode.value, "product": preferred.key if preferred else None,
        "courier": courier.name if courier else None,
        "time_windows": format_time_windows(c.time_windows), "opted_out": c.opted_out,
        "created_at": _local(c.created_at, shop),
        "household_history": [household_json(h) for h in household_history(session=session, customer_id=c.id)],
        "tanks": tanks,
        "holds": [{"kind": h.kind.value, "from": h.start_date.isoformat(), "to": h.end_date.isoformat(),
                   "note": h.note} for h in list_holds(session=session, customer_id=c.id)],
    }


def _forecast_json(f: TankForecast) -> dict[str, Any]:
    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    def d(value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    return {"as_of": d(f.as_of), "stale": f.stale, "level_now": r(f.level_now),
            "rate_per_day": r(f.rate), "runout_p10": d(f.runout_p10), "runout_p50": d(f.runout_p50),
            "runout_p90": d(f.runout_p90), "order_by": d(f.order_by), "drop_size": r(f.drop_size)}


def _print_details(out: dict[str, Any]) -> None:
    say = typer.echo
    flags = f"{out['language']}, {out['mode']}" + (", OPTED OUT" if out["opted_out"] else "")
    say(f"customer #{out['id']} {out['name']}  {out['phone']}  ({flags})")
    for label, key in (("address", "address"), ("courier", "courier"), ("product", "product"),
                       ("time windows", "time_windows"), ("notes", "notes"), ("habits", "habits")):
        if out[key]:
            say(f"  {label}: {out[key]}")
    if out["lat"] is not None:
        say(f"  map: {out['lat']}, {out['lon']}")
    say("household:")
    for h in out["household_history"]:
        say(f"  from {h['effective_date']}: {people_text(h)}")
    for t in out["tanks"]:
        say(tank_text(t))
        for r in t["readings"]:
            depth = "" if r["depth_cm"] is None else f" ({r['depth_cm']:g} cm)"
            say(f"  reading {r['at']}: {r['level']:g} {t['unit']}{depth}, {r['source']}")
        for d in t["drops"]:
            before = "" if d["level_before"] is None else f", {d['level_before']:g} left before"
            say(f"  drop {d['delivered_on']}: {d['quantity']:g} {t['unit']} {d['status']}{before}")
        f = t["forecast"]
        if f is not None and f["order_by"] is not None:
            say(f"  forecast as of {f['as_of']}: {f['level_now']:.1f} {t['unit']} left, "
                f"{f['rate_per_day']:.2f} {t['unit']}/day, runs out {f['runout_p50']} "
                f"({f['runout_p10']} to {f['runout_p90']}), order by {f['order_by']}, "
                f"bring {f['drop_size']:g} {t['unit']}" + (" (to be refreshed)" if f["stale"] else ""))
        elif f is not None or t["readings"]:
            say("  forecast: not yet computed; run `replenish forecast`")
        else:
            say("  forecast: no level yet; record one with `replenish reading add`")
    for h in out["holds"]:
        say(f"hold: {h['kind']} {h['from']} to {h['to']}" + (f" ({h['note']})" if h["note"] else ""))


# --- edit and hold (customer_edit.py), import (customer_import.py) ------------------------

customer_app.command("edit")(edit)
customer_app.command("hold")(hold)
customer_app.command("import")(import_)
