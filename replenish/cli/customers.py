"""``replenish customer ...``: register, find, show, change, hold and import customers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

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
from replenish.core.types import DeliveryMode, HoldKind, Locale, TankShape
from replenish.db.history import geometry_of
from replenish.db.models import (
    Courier,
    Customer,
    CustomerUpdate,
    Drop,
    HoldCreate,
    HouseholdChange,
    HouseholdChangeCreate,
    Product,
    Reading,
    Shop,
    Tank,
    TankForecast,
    TankUpdate,
)
from replenish.db.queries import (
    add_hold,
    current_household,
    find_customer_by_phone,
    household_history,
    list_customers,
    list_holds,
    record_household_change,
    update_customer,
    update_tank,
)
from replenish.db.queries.forecasts import mark_customer_stale
from replenish.db.queries.registration import (
    COLUMNS,
    MEASURES,
    CustomerImportError,
    RegistrationError,
    RegistrationResult,
    find_courier,
    find_product,
    format_time_windows,
    import_customers,
    parse_phone,
    parse_time_windows,
    read_customers_csv,
    register_customer,
    tank_problems,
)

customer_app = typer.Typer(
    help="Register, find, show, change and import customers (households and their tanks).",
    no_args_is_help=True,
)

RECENT = 5  # readings and drops shown by `customer show`


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(customer_app, name="customer")


# --- shared options and helpers -----------------------------------------------------------

CustomerId = Annotated[int, typer.Argument(help="Customer id (see `replenish customer list`).", metavar="ID", show_default=False)]
Name = Annotated[str | None, typer.Option(help="The household's name as the shop calls it, e.g. 王太太.")]
Phone = Annotated[str | None, typer.Option(help="Phone for text messages: local (0912 345 678) or international (+886 912 345 678); stored in E.164.")]
Address = Annotated[str | None, typer.Option(help="Delivery address, as the courier reads it.")]
Lat = Annotated[float | None, typer.Option(help="Latitude of the door (with --lon), e.g. 22.9908.")]
Lon = Annotated[float | None, typer.Option(help="Longitude of the door (with --lat), e.g. 120.2133.")]
Language = Annotated[Locale | None, typer.Option(case_sensitive=False, help="Language of the customer's messages (default: the shop's).")]
Notes = Annotated[str | None, typer.Option(help="Notes for the courier (the bell is broken, knock).")]
Habits = Annotated[str | None, typer.Option(help="What the household is like (buys 10 kg bags, cooks for the grandchildren on Sundays).")]
ProductKey = Annotated[str | None, typer.Option(help="Product key or alias, e.g. rice or 米 (default: the shop's first product).")]
Mode = Annotated[DeliveryMode | None, typer.Option(case_sensitive=False, help="confirm (ask before each drop), auto (heads-up only) or will-call.")]
CourierName = Annotated[str | None, typer.Option(help="Courier name or id who usually delivers here.")]
Windows = Annotated[str | None, typer.Option(help="When a drop can be received, shop time: 'mon-fri 17:00-21:00; sat 09:00-12:00'.")]
Adults = Annotated[int | None, typer.Option(help="Adults living there.")]
Children = Annotated[int | None, typer.Option(help="Children living there.")]
Elders = Annotated[int | None, typer.Option(help="Elders living there.")]
EatsAtHome = Annotated[float | None, typer.Option(help="Share of meals eaten at home, more than 0, at most 1 (default 1).")]
Shape = Annotated[TankShape | None, typer.Option(case_sensitive=False, help="Tank shape: cylinder, box, or capacity (entered directly).")]
Diameter = Annotated[float | None, typer.Option(help="Inside diameter in cm (cylinder).")]
Width = Annotated[float | None, typer.Option(help="Inside width in cm (box).")]
Depth = Annotated[float | None, typer.Option(help="Inside depth in cm, front to back (box).")]
Height = Annotated[float | None, typer.Option(help="Inside height in cm (cylinder, box).")]
Capacity = Annotated[float | None, typer.Option(help="What the tank holds, in the product's unit (shape capacity).")]


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")


_SPELLED = re.compile(r"\b(" + "|".join(n for n in COLUMNS if "_" in n) + r")\b")


def _as_options(message: str) -> str:
    """Column names inside a message as the command line spells them (fill_cm -> --fill-cm)."""
    return _SPELLED.sub(lambda m: _option(m[1]), message)


def _fail_problems(problems: Sequence[tuple[str, str]]) -> NoReturn:
    """Every problem on its own line, named by its option, then exit 2."""
    for field, message in problems:
        where = f"{_option(field)}: " if field in COLUMNS or field in ("effective", "tank") else ""
        typer.echo(f"error: {where}{_as_options(message)}", err=True)
    raise typer.Exit(2)


def _customer(session: Session, shop: Shop, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.shop_id != shop.id:
        fail(f"there is no customer {customer_id} in this shop; find the id with "
             "`replenish customer list --search NAME`")
    return customer


def _today(shop: Shop) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(shop.timezone)).date()


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date; write it like 2026-01-20")


def _local(moment: datetime | None, shop: Shop) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(shop.timezone)).strftime("%Y-%m-%d %H:%M")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(_width(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = (cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())


def _people(h: Mapping[str, Any]) -> str:
    """``{"adults": 2, "children": 1, ...}`` -> ``2 adults, 1 child``."""
    parts = [f"{h[key]} {word}{'' if h[key] == 1 else plural}" for key, word, plural in (
        ("adults", "adult", "s"), ("children", "child", "ren"), ("elders", "elder", "s"))
        if h[key]]
    share = "" if h["eats_at_home"] == 1 else f", eats {h['eats_at_home']:.0%} of meals at home"
    return ", ".join(parts) + share


def _household_json(row: HouseholdChange) -> dict[str, Any]:
    return {"effective_date": row.effective_date.isoformat(), "adults": row.adults,
            "children": row.children, "elders": row.elders, "eats_at_home": row.eats_at_home,
            "size": row.adults + row.children + row.elders}


def _tank_json(tank: Tank, product: Product) -> dict[str, Any]:
    geometry = geometry_of(tank)
    litres = geometry.litres
    return {"tank_id": tank.id, "product": product.key, "unit": product.unit.value,
            "label": tank.label, "shape": tank.shape.value,
            **{name: getattr(tank, name) for name in MEASURES if getattr(tank, name) is not None},
            "litres": None if litres is None else round(litres, 1),
            "capacity": round(geometry.capacity(units_per_litre=product.units_per_litre), 1)}


def _tank_text(t: dict[str, Any]) -> str:
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
            _fail_problems(error.problems)
        out = _registered(session, shop, result)
    if as_json:
        print_json(out)
        return
    typer.echo(f"registered customer #{out['customer_id']} {out['name']} ({out['phone']}): "
               f"{_people(out['household'])}")
    typer.echo(_tank_text(out["tank"]))
    if out["level"] is not None:
        typer.echo(f"in the tank now: {out['level']:g} {out['tank']['unit']}")


def _registered(session: Session, shop: Shop, result: RegistrationResult) -> dict[str, Any]:
    product = session.get(Product, result.tank.product_id)
    assert product is not None
    reading = result.reading
    return {"customer_id": result.customer.id, "name": result.customer.name,
            "phone": result.customer.phone, "household": _household_json(result.household),
            "tank": _tank_json(result.tank, product),
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
            _fail_problems(error.problems)
        customers = list_customers(session=session, shop_id=shop.id, search=search,
                                   courier_id=courier_id, limit=None)
        tanks = _tank_products(session, shop)
        households = _households(session, shop, _today(shop))
        rows = []
        for c in customers:
            tank_products = tanks.get(c.id or 0, [])
            shown = c.preferred_product_id or next(iter(tank_products), None)
            if mode is not None and c.delivery_mode is not mode:
                continue
            if product_id is not None and product_id not in (c.preferred_product_id, *tank_products):
                continue
            household = households.get(c.id or 0)
            size = None if household is None else _household_json(household)["size"]
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
    _print_table(("id", "name", "phone", "product", "mode", "household", "courier"), [
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
        out = _details(session, shop, _customer(session, shop, customer_id))
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
        tanks.append(_tank_json(tank, product) | {
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
        "household_history": [_household_json(h) for h in household_history(session=session, customer_id=c.id)],
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
        say(f"  from {h['effective_date']}: {_people(h)}")
    for t in out["tanks"]:
        say(_tank_text(t))
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


# --- edit ---------------------------------------------------------------------------------


@customer_app.command("edit")
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
    time_windows: Annotated[str | None, typer.Option(help="When a drop can be received: 'mon-fri 17:00-21:00; sat 09:00-12:00'; '' for any time.")] = None,
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
        customer = _customer(session, shop, customer_id)
        problems: list[tuple[str, str]] = []
        update = _contact_update(session, shop, customer, contact, problems)
        household_in = _household_change(session, shop, customer, people, effective, problems)
        tank_row, tank_in = _tank_change(session, customer, tank, shape, measures, problems)
        if problems or update is None:
            _fail_problems(problems)
        with friendly_errors(*[n for n in COLUMNS if "_" in n]):
            update_customer(session=session, shop=shop, customer=customer, customer_in=update)
            household = None
            if household_in is not None:
                household = _household_json(record_household_change(
                    session=session, customer=customer, change_in=household_in))
            if tank_row is not None and tank_in is not None:
                update_tank(session=session, tank=tank_row, tank_in=tank_in)
        if household is not None or tank_row is not None:
            mark_customer_stale(session=session, customer_id=customer_id)
        out = {"customer_id": customer_id, "name": customer.name,
               "changed": [_option(k) for k in given], "household": household,
               "tank_id": None if tank_row is None else tank_row.id}
    if as_json:
        print_json(out)
        return
    typer.echo(f"customer #{customer_id} {out['name']}: changed {', '.join(out['changed'])}")
    if household is not None:
        typer.echo(f"household from {household['effective_date']}: {_people(household)} "
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
    day = _date(effective, "--effective") if effective is not None else _today(shop)
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


@customer_app.command("hold")
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
        customer = _customer(session, shop, customer_id)
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


# --- import -------------------------------------------------------------------------------


@customer_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV file, UTF-8 (with or without BOM), first line the column names (see docs/customers.md).", metavar="FILE.csv", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report, but write nothing.")] = False,
    shop_id: ShopOption = None,
) -> None:
    """Import customers from a CSV file: every row, or none if any row has a problem.

    Every bad row is reported as `line N: column: problem`, and nothing is written until
    the whole file is right.

    Examples:

      replenish customer import customers.csv --dry-run

      replenish customer import customers.csv
    """
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except UnicodeDecodeError as error:
        fail(f"{file} is not UTF-8 text (byte {error.start}); save it as 'CSV UTF-8' and try again")
    except OSError as error:
        fail(f"{file}: cannot read it ({error.strerror})")
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        try:
            rows = read_customers_csv(text)
            if not rows:
                fail(f"{file} has no customer rows under its header line")
            imported = import_customers(session=session, shop=shop, rows=rows,
                                        now=datetime.now(UTC), settings=cfg)
        except CustomerImportError as error:
            for line, field, message in error.problems:
                typer.echo(f"line {line}: {field}: {message}", err=True)
            bad_rows = len({line for line, _, _ in error.problems})
            fail(f"{len(error.problems)} problem(s) in {bad_rows} row(s) of {file}; "
                 "nothing was imported. Fix them and run the import again")
        if dry_run:
            session.rollback()
    if dry_run:
        typer.echo(f"dry run: all {len(imported)} rows of {file} can be imported; nothing was written")
    else:
        typer.echo(f"imported {len(imported)} customers from {file}")
